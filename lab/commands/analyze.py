"""`speckle-lab analyze RUN_DIR DATA.h5 [DATA.h5 ...] --out DIR`: what each level of a trained net represents.

The first data file is the one the run was trained on (its recorded split: probes are fitted on the training
frames, tuned on the validation frames, scored on the test frames); the others are out-of-distribution sets.
Writes DIR/analysis.json (docs/analysis.md), DIR/report.md and DIR/probe_curves.png; RUN_DIR is only read.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from speckle_lab.lab.config_errors import CommandLineError


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "analyze", help="layer probes (ID and OOD), d_repr per level and label sharpness of a trained net (any kind)"
    )
    parser.add_argument("run_dir", type=Path, metavar="RUN_DIR", help="a folder written by `speckle-lab train`")
    parser.add_argument(
        "data", nargs="+", type=Path, metavar="DATA.h5", help="the run's training data first, then OOD sets"
    )
    parser.add_argument("--out", type=Path, required=True, metavar="DIR", help="output folder (created)")
    parser.add_argument("--max-train-frames", type=int, default=2000, metavar="N", help="probe training frames")
    parser.add_argument("--max-eval-frames", type=int, default=1000, metavar="N", help="frames per test or OOD set")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from speckle_lab.model.analysis.analyze import analyze_run

    for name in ("max_train_frames", "max_eval_frames"):
        if getattr(args, name) < 25:
            raise CommandLineError(
                f"--{name.replace('_', '-')} {getattr(args, name)}: expected at least 25 frames (k = 20)"
            )
    for path in args.data:
        if not path.is_file():
            raise CommandLineError(f"{path}: no such data file; expected a captured HDF5 file")
    result = analyze_run(  # a refusal is a ModelError (lab/cli.py's table); anything else is a bug
        args.run_dir,
        list(args.data),
        args.out,
        max_train_frames=args.max_train_frames,
        max_eval_frames=args.max_eval_frames,
    )
    probes = result["probes"]
    print(f"{args.run_dir} (epoch {result['epoch']}): d_data targets {result['d_data']['targets']:.1f}, "
          f"speckle {result['d_data']['speckle']:.1f}; K_F {result['label_sharpness']:.3g}")  # fmt: skip
    for i, level in enumerate(probes["levels"]):
        ood = "  ".join(f"{name} {o['pcc'][i]:.3f}" for name, o in probes["ood"].items())
        print(f"  {level:6} d_repr {result['d_repr'][level]:6.1f}  probe PCC ID {probes['id_pcc'][i]:.3f}  {ood}")
    print(f"report: {args.out / 'report.md'}")
    print(f"analysis: {args.out / 'analysis.json'}")
    return 0
