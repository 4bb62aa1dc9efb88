"""`speckle-lab demo [--quick] --out DIR`: the whole study on the simulated bench, from capture to report.

Captures faces, digits, enlarged jittered digits and a region-shifted set; trains a U-Net per training
set; evaluates every net on every test set; writes DIR/report.md, DIR/results.json and the figures.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "demo", help="the cross-dataset study end to end on the simulated bench: capture, train, evaluate, report"
    )
    parser.add_argument("--quick", action="store_true", help="a smaller study that runs in a few minutes")
    parser.add_argument(
        "--scale",
        choices=["standard", "reference"],
        default="standard",
        help="reference: 64x64 targets and 256x256 speckle, 4x the frames, sized for a GPU (see docs/simulator.md)",
    )
    parser.add_argument("--out", type=Path, required=True, metavar="DIR", help="output folder (created)")
    parser.add_argument(
        "--faces",
        default="lfw",
        metavar="SPEC",
        help="face targets (default: the 100 bundled LFW faces), e.g. lfw:/data/lfw.tgz",
    )
    parser.add_argument(
        "--digits",
        default="mnist",
        metavar="SPEC",
        help="digit targets (default: the 5000 bundled MNIST digits), e.g. mnist:/data/mnist",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from lab.study.design import study_design
    from lab.study.report import findings, write_report
    from lab.study.runner import run_study

    design = study_design(args.quick, args.faces, args.digits)
    if args.scale == "reference":
        if args.quick:
            print("error: --quick and --scale reference do not go together", file=sys.stderr)
            return 2
        from lab.study.design import at_reference_scale

        design = at_reference_scale(design)

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    results = run_study(design, args.out, log)
    report = write_report(design, results, args.out)
    print(f"report: {report}")
    print(f"results: {args.out / 'results.json'}")
    for line in findings(results):
        print(f"  {line}")
    return 0
