"""`speckle-lab demo [--quick] --out DIR`: the whole study on the simulated bench, from capture to report.

Captures faces, digits, enlarged digits with intensity fluctuations, homogenised digits, randomly placed digits,
the test sets, the single-spot probes and the oracle's random patterns on a fresh medium per repeat; trains every
net kind (the reference U-Net, the physics-first net) and fits ridge and the mean image per training set, all
reconstructing the whole active area; scores them over the region shown on every test set; writes
DIR/report.md, DIR/results.json (with the `findings` list, see docs/study.md) and the figures. The simulator's
physics and limits: docs/simulator.md.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from speckle_lab.lab.config_errors import CommandLineError


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="the cross-dataset study end to end on the simulated bench: capture, train, evaluate, report",
        description="The cross-dataset study end to end on the simulated bench: capture, train, evaluate, report. "
        "The study's design, verdict rule and results.json: docs/study.md. What the simulator models, its physics "
        "and its limits: docs/simulator.md.",
    )
    parser.add_argument(
        "--quick", action="store_true", help="the first 3 repeats of the full study's main condition (about 5 min)"
    )
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
    parser.add_argument(
        "--repeats",
        type=int,
        default=None,
        metavar="N",
        help="independent repeats (new medium, camera noise and training seed each; default 3 quick, 5 full)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from speckle_lab.lab.study.design import study_design
    from speckle_lab.lab.study.report import finding_lines, write_report
    from speckle_lab.lab.study.runner import RESULTS_JSON, run_study

    if args.repeats is not None and args.repeats < 1:
        raise CommandLineError(f"demo --repeats {args.repeats}: expected at least 1")
    if args.quick and args.scale == "reference":
        raise CommandLineError("demo: --quick and --scale reference do not go together; give one of them")
    design = study_design(args.quick, args.faces, args.digits, repeats=args.repeats, scale=args.scale)

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    results = run_study(design, args.out, log)
    log("writing the report and its figures")
    report = write_report(design, results, args.out)
    print(f"report: {report}")
    print(f"results: {args.out / RESULTS_JSON}")
    for line in finding_lines(results):
        print(f"  {line}")
    return 0
