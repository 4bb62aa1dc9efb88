"""`speckle-lab inspect FILE [--json]`: what a data file holds, also while it is still being captured."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from speckle_lab.acquisition.datafile.inspect_cli import run_inspect


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser("inspect", help="counts, shapes, plan, bench, drift and faults of a data file")
    parser.add_argument("file", type=Path, help="an HDF5 data file written by speckle-lab capture")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    return run_inspect(str(args.file), args.json)
