"""`speckle-lab study scaling [--quick] --out DIR`: test error against the training set's intrinsic dimension."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser("study", help="analyses across many trained nets on the simulated bench")
    studies = parser.add_subparsers(title="studies", metavar="STUDY", required=True)
    scaling = studies.add_parser(
        "scaling", help="test error against training-set intrinsic dimension; layer probes against one OOD set"
    )
    scaling.add_argument("--quick", action="store_true", help="a smaller study (under 10 minutes on 2 cores)")
    scaling.add_argument("--out", type=Path, required=True, metavar="DIR", help="output folder (created)")
    scaling.set_defaults(run=run_scaling)


def run_scaling(args: argparse.Namespace) -> int:
    from speckle_lab.lab.study.scaling import SCALING_JSON, run_scaling, scaling_design

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    results = run_scaling(scaling_design(args.quick), args.out, log)
    fit = results["summary"]["fits"]["one_minus_pcc"]
    print(f"report: {args.out / 'report.md'}")
    print(f"results: {args.out / SCALING_JSON}")
    print(
        f"log(1 - PCC) vs log(d_data): slope {fit['slope']['mean']} +- {fit['slope']['std']}, R^2 {fit['r2']['mean']}"
    )
    return 0
