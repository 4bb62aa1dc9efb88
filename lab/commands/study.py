"""`speckle-lab study scaling|budget [--quick] --out DIR`: test error against the training set's intrinsic dimension;
the nets and ridge against the number of training frames and the light level."""

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
    budget = studies.add_parser(
        "budget",
        help="U-Net, physics-first net and ridge against training frames (250, 500, 1000, ...) and light: where a "
        "net passes linear optics",
        description="The nets and ridge against the number of training frames (a doubling ladder from 250) and the "
        "light level, faces and digits, in distribution and across, 3 repeats: where does a net pass ridge? "
        "Design and schema: docs/study.md.",
    )
    budget.add_argument("--quick", action="store_true", help="250-1000 frames, two light levels (about 10 minutes)")
    budget.add_argument(
        "--max-frames", type=int, default=None, metavar="N", help="top of the ladder (default 1000 quick, 2000 full)"
    )
    budget.add_argument("--out", type=Path, required=True, metavar="DIR", help="output folder (created)")
    budget.set_defaults(run=run_budget)


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


def run_budget(args: argparse.Namespace) -> int:
    from speckle_lab.lab.study.budget import BUDGET_JSON, budget_design, run_budget

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    try:
        design = budget_design(args.quick, args.max_frames)
    except ValueError as error:
        print(f"speckle-lab study budget: {error}", file=sys.stderr)
        return 2
    results = run_budget(design, args.out, log)
    print(f"report: {args.out / 'report.md'}")
    print(f"results: {args.out / BUDGET_JSON}")
    for c in results.crossovers:
        at = f"passes ridge at {c.passes_at} frames" if c.passes_at else "does not pass ridge within the ladder"
        print(f"  {c.net} {c.train.removeprefix('train_')} -> {c.test.removeprefix('test_')}, {c.power_w:g} W: {at}")
    return 0
