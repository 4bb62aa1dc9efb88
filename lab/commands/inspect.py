"""`speckle-lab inspect FILE [--json]`: what a data file holds, also while it is still being captured. A file
that is not a readable capture is a CaptureFileError: one line and exit 2 (lab/cli.py's table)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from speckle_lab.acquisition.datafile.reader import CaptureReader
from speckle_lab.acquisition.datafile.summary import format_summary
from speckle_lab.lab.commands.json_output import print_json


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser("inspect", help="counts, shapes, plan, bench, drift and faults of a data file")
    parser.add_argument("file", type=Path, help="an HDF5 data file written by speckle-lab capture")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    with CaptureReader(args.file) as reader:
        summary = reader.summary()
    if args.json:
        print_json(summary)
    else:
        print(format_summary(summary))
    return 0
