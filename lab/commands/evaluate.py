"""`speckle-lab evaluate RUN_DIR DATA.h5 [--json]`: PCC, SSIM and cosine similarity of a trained net, with figures."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from speckle_lab.lab.commands.json_output import print_json
from speckle_lab.model.metric_names import QUALITY_METRICS, Metric

METRICS = tuple((str(m), m.label) for m in (*QUALITY_METRICS, Metric.DICE))


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser("evaluate", help="measure a trained net on a data file (PCC, SSIM, CS)")
    parser.add_argument("run_dir", type=Path, metavar="RUN_DIR", help="a folder written by `speckle-lab train`")
    parser.add_argument("data", nargs="+", type=Path, metavar="DATA.h5")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--figures", type=Path, metavar="DIR", help="where to write the PNGs (default: RUN_DIR)")
    parser.add_argument(
        "--subset",
        choices=["auto", "test", "all"],
        default="auto",
        help="auto: the recorded test split for the training data, every frame otherwise",
    )
    parser.set_defaults(run=run)


def check_shapes(run_dir: Path, data: list[Path]) -> None:
    """Refuse data whose speckle or target shape is not the one the net was trained on (another camera ROI,
    another target size): resampling it would give numbers that mean nothing."""
    from speckle_lab.acquisition.datafile import CaptureReader
    from speckle_lab.model.checkpoint import load_checkpoint
    from speckle_lab.model.errors import ModelInputError
    from speckle_lab.model.trainer import BEST_CHECKPOINT

    arch = load_checkpoint(Path(run_dir) / BEST_CHECKPOINT, required=("arch",))["arch"]
    trained = tuple(arch["speckle_shape"]), tuple(arch["target_shape"])
    for path in data:
        with CaptureReader(path) as reader:
            found = tuple(reader.speckle_shape), tuple(reader.target_shape)
        if found != trained:
            raise ModelInputError(
                f"{path}: speckle {found[0][0]}x{found[0][1]}, target {found[1][0]}x{found[1][1]}; the net in "
                f"{run_dir} was trained on speckle {trained[0][0]}x{trained[0][1]}, target "
                f"{trained[1][0]}x{trained[1][1]}: evaluate it on data of the same shapes"
            )


def run(args: argparse.Namespace) -> int:
    from speckle_lab.model.errors import ModelInputError
    from speckle_lab.model.evaluate import evaluate, save_figures

    data = [str(p) for p in args.data]
    check_shapes(args.run_dir, args.data)
    try:
        result = evaluate(args.run_dir, data, subset=args.subset)
        figures = save_figures(args.run_dir, data, args.figures, subset=args.subset)
    except ModelInputError as error:  # the model refuses the data: say which run and which files
        raise ModelInputError(f"{args.run_dir} on {', '.join(data)}: {error}") from None
    result["figures"] = [str(path) for path in figures]
    if args.json:
        print_json(result)
        return 0
    print(
        f"{args.run_dir} (epoch {result['epoch']}) on {', '.join(data)}: {result['n_frames']} frames, "
        f"{result['subset']}"
    )
    for key, label in METRICS:
        value = result["metrics"][key]
        print(f"  {label:18} {value['mean']:.4f} +- {value['std']:.4f}")
    print("figures: " + ", ".join(result["figures"]))
    return 0
