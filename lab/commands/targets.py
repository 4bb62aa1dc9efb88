"""`speckle-lab targets [SOURCE] [--stats]`: list the target sources, or describe one and its diversity."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from speckle_lab.acquisition.targets.cli import run_targets
from speckle_lab.lab.bench import dmd_geometry
from speckle_lab.lab.bench_config import load_bench


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser("targets", help="list target sources, or the diversity statistics of one")
    parser.add_argument("source", nargs="?", help="a source spec, e.g. mnist, lfw:/data/lfw.tgz, blobs")
    parser.add_argument("--stats", action="store_true", help="intrinsic dimension, coverage, entropy of N targets")
    parser.add_argument("--n", type=int, default=1000, help="number of targets for --stats (default 1000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--size", type=int, default=32, help="target side in macropixels (default 32)")
    parser.add_argument("--bench", type=Path, metavar="FILE", help="bench TOML file (for the DMD's active area)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    side = dmd_geometry(load_bench(args.bench)).side_macropixels
    return run_targets(args.source, args.stats, args.n, args.seed, shape=(args.size, args.size), side_macropixels=side)
