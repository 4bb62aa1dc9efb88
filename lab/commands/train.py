"""`speckle-lab train DATA.h5 [...] --out RUN_DIR`: train a net on captured files (also one still growing).

`--model KIND` picks the model kind (model/registry.py: the reference U-Net, the physics-first net), `--preset
NAME` a named recipe (model/presets.py: `reference`, the reference study's); a `--config` file's keys go on
top of the preset, and the options named on the command line on top of both.

Under torchrun it trains data-parallel as it is (the trainer reads torchrun's environment); `--nproc N`
starts that torchrun for the processes of one machine. Only rank 0 prints the result.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from speckle_lab.acquisition.plan import read_toml
from speckle_lab.lab.commands.json_output import print_json
from speckle_lab.lab.config_errors import CommandLineError
from speckle_lab.lab.logging_setup import TRAINING_LOG, log_file
from speckle_lab.model.presets import PRESETS, preset, with_changes
from speckle_lab.model.registry import KINDS


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "train", help="train a net (U-Net, physics-first) to reconstruct targets from speckle"
    )
    parser.add_argument("data", nargs="+", type=Path, metavar="DATA.h5", help="captured data files")
    parser.add_argument("--out", type=Path, required=True, metavar="RUN_DIR", help="run folder (checkpoints, logs)")
    parser.add_argument("--config", type=Path, metavar="TRAIN.toml", help="training settings (TrainConfig keys)")
    parser.add_argument(
        "--model",
        choices=list(KINDS),
        dest="model_kind",
        help="model kind: " + "; ".join(f"{name}: {entry.summary}" for name, entry in KINDS.items()),
    )
    parser.add_argument(
        "--preset",
        choices=list(PRESETS),
        help="a named recipe under the other settings; reference: 7x7, MSE + Dice, Adam 1e-4, 50 epochs, "
        "early stopping on validation Dice (the default stops on validation PCC)",
    )
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--lr", type=float, help="Adam learning rate (default 1e-4)")
    parser.add_argument(
        "--patience", type=int, dest="patience_epochs", help="early stopping on the selection metric (default PCC)"
    )
    parser.add_argument("--seed", type=int)
    parser.add_argument("--device", choices=["auto", "cpu", "cuda"])
    parser.add_argument("--resume", action="store_true", help="continue the run in RUN_DIR from its last epoch")
    parser.add_argument(
        "--nproc",
        type=int,
        metavar="N",
        help="train data-parallel in N processes on this machine (starts torchrun; N GPUs on CUDA, else CPU)",
    )
    parser.add_argument(
        "--json", action="store_true", help="print the result as one JSON document on stdout (progress on stderr)"
    )
    parser.set_defaults(run=run)


def config_from_args(args: argparse.Namespace) -> dict:
    """The preset, then the --config file, then the options given, each on top of the one before."""
    data = preset(args.preset) if args.preset else {}
    if args.config:
        data = with_changes(data, read_toml(args.config, "training configuration"))
    for key in ("epochs", "batch_size", "lr", "patience_epochs", "seed", "device"):
        value = getattr(args, key)
        if value is not None:
            data[key] = value
    if args.model_kind is not None:
        data = with_changes(data, {"model": {"kind": args.model_kind}})
    return data


def torchrun_command(args: argparse.Namespace) -> list[str]:
    """The same `train` command, without --nproc, under `python -m torch.distributed.run` on this machine."""
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", str(args.nproc)]
    command += ["-m", "speckle_lab.lab.cli", "train", *map(str, args.data), "--out", str(args.out)]
    if args.config:
        command += ["--config", str(args.config)]
    if args.model_kind:
        command += ["--model", args.model_kind]
    if args.preset:
        command += ["--preset", args.preset]
    for key in ("epochs", "batch_size", "lr", "patience_epochs", "seed", "device"):
        value = getattr(args, key)
        if value is not None:
            flag = "--patience" if key == "patience_epochs" else "--" + key.replace("_", "-")
            command += [flag, str(value)]
    command += ["--json"] if args.json else []
    return [*command, "--resume"] if args.resume else command


def check_device(choice: str | None) -> None:
    from speckle_lab.model.errors import ModelInputError

    if choice == "cuda":
        import torch

        if not torch.cuda.is_available():
            raise ModelInputError(
                f"--device cuda: torch {torch.__version__} sees no CUDA device; use --device cpu (or auto)"
            )


def run(args: argparse.Namespace) -> int:
    """Train; every refusal is one line (lab/cli.py's table), and a run folder this command created is
    removed again when training fails before writing a checkpoint into it."""
    from speckle_lab.model.errors import ModelError, ModelInputError

    if args.nproc is not None and args.nproc < 1:
        raise ModelInputError(f"--nproc {args.nproc}: expected at least 1 process")
    check_device(args.device)
    if args.nproc is not None and args.nproc > 1 and "WORLD_SIZE" not in os.environ:
        return subprocess.call(torchrun_command(args))
    out: Path = args.out
    if out.exists() and not out.is_dir():
        raise ModelInputError(f"{out}: is a file; --out takes the run folder to write")
    if args.resume:
        _check_resumable(out, args.data)
    is_main = os.environ.get("RANK", "0") == "0"  # under torchrun only rank 0 writes (and cleans up) the run
    created = is_main and not out.exists()
    try:
        with log_file(out / TRAINING_LOG) if is_main else contextlib.nullcontext():
            result = _train(args)
    except ModelError as error:  # a refusal: one line naming the run folder (lab/cli.py's table)
        _remove_if_created_and_unused(out, created)
        if str(out) in str(error):
            raise
        raise type(error)(f"{out}: {error}") from None
    except BaseException:  # a full disk (exit 1), Ctrl-C, or a bug (a traceback)
        _remove_if_created_and_unused(out, created)
        raise
    if not is_main:
        return 0  # rank 0 reports for the job
    document = {
        "run_dir": str(result.out_dir), "model_kind": result.model_kind, "epochs_completed": result.epochs_completed,
        "best_epoch": result.best_epoch, "selection_metric": result.selection_metric,
        "best_val_pcc": result.best_val_pcc, "best_val_dice": result.best_val_dice,
        "stop_reason": result.stop_reason, "device": result.device,
        "seconds": round(result.seconds, 1), "world_size": result.world_size, "precision": result.precision,
    }  # fmt: skip
    if args.json:
        print_json(document)
        return 0
    processes = f", {result.world_size} processes" if result.world_size > 1 else ""
    print(
        f"{result.out_dir}: {result.model_kind}, {result.epochs_completed} epochs ({result.stop_reason}), best epoch "
        f"{result.best_epoch} (selected on {result.selection_metric}) with validation PCC {result.best_val_pcc:.4f}, "
        f"Dice {result.best_val_dice:.4f}; {result.device}, {result.precision}{processes}, {result.seconds:.1f} s"
    )
    return 0


def _train(args: argparse.Namespace) -> Any:
    from pydantic import ValidationError

    from speckle_lab.model.checkpoint import load_checkpoint
    from speckle_lab.model.config import TrainConfig
    from speckle_lab.model.trainer import LAST_CHECKPOINT, train

    overrides = config_from_args(args)
    try:
        if args.resume:
            # The configuration comes from last.pt, the checkpoint the run continues (config.json is a copy
            # for people; a truncated one must not block a resume); only what the command line names changes.
            stored = load_checkpoint(args.out / LAST_CHECKPOINT, required=("config",))["config"]
            config = TrainConfig.model_validate({**stored, **overrides}) if overrides else None
        else:
            config = TrainConfig.model_validate(overrides)
    except ValidationError as error:
        raise CommandLineError(_setting_problem(error, args.config)) from None
    return train(config, [str(p) for p in args.data], args.out, resume=args.resume)


def _check_resumable(out: Path, data: list[Path]) -> None:
    """`--resume` of a run that has no last.pt: say what to do instead of "last.pt: no such file"."""
    from speckle_lab.model.trainer import LAST_CHECKPOINT

    if not out.is_dir():
        raise CommandLineError(f"{out}: no such run folder to resume; start the run without --resume")
    if not (out / LAST_CHECKPOINT).exists():
        again = " ".join(["speckle-lab train", *map(str, data), "--out", str(out)])
        raise CommandLineError(
            f"{out}: no {LAST_CHECKPOINT} to resume from: the run stopped before its first epoch ended (nothing "
            f"was learned to keep); start it afresh: {again}"
        )


def _setting_problem(error: Any, config_file: Path | None) -> str:
    """The first refused setting in one line: where it came from, its key, what was expected, what was given."""
    first = error.errors(include_url=False)[0]
    where = ".".join(str(part) for part in first["loc"]) or "(top level)"
    bound = {"greater_than": ">", "greater_than_equal": ">=", "less_than": "<", "less_than_equal": "<="}
    if first["type"] in bound:
        expected = f"expected a number {bound[first['type']]} {next(iter(first['ctx'].values())):g}"
    else:
        expected = first["msg"].replace("Input should be", "expected").replace("Value error, ", "")
    source = f"training configuration ({config_file} and the command line)" if config_file else "training setting"
    given = f", got {first['input']!r}" if "input" in first and not isinstance(first["input"], dict) else ""
    return f"{source}: {where}: {expected}{given}"


def _remove_if_created_and_unused(out: Path, created: bool) -> None:
    """A failed `train` leaves no run folder behind that it made itself and wrote no checkpoint into."""
    if not created or not out.is_dir() or any(out.glob("*.pt")):
        return
    shutil.rmtree(out, ignore_errors=True)
