"""Checkpoint files: torch.save archives of tensors and plain values only, read back with weights_only=True.

Only tensors, numbers, strings, lists and dicts go in, so loading never runs pickled code; a file that is
not ours (pickled objects, someone else's state dict, a truncated write) is refused with one line that
names the file and what was expected. Writes go to a temporary file first, are fsync'ed and renamed into
place, so a crash mid-write leaves the previous checkpoint intact; a failed write (a full disk) removes its
temporary file and is one CheckpointError line; temporary files a killed process left are removed by the
next write to the same folder.

Format versions: 2 records the model kind (`model_kind`, model/registry.py) and the validation metric that
chose the best epoch; files of version 1 (before model kinds) hold a U-Net selected on Dice and are read as
such (`upgrade_v1`), so runs trained before keep evaluating, analysing and resuming as they did.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import warnings
from collections.abc import Iterable
from pathlib import Path

import torch

from speckle_lab.acquisition.version import software_version
from speckle_lab.model.errors import CheckpointError, CheckpointWriteError
from speckle_lab.model.registry import KINDS, LEGACY_KIND

FORMAT = "speckle-lab.unet-checkpoint"  # the name predates model kinds; kept so every version reads as ours
FORMAT_VERSION = 2
TRAINING_KEYS = (
    "epoch",
    "config",
    "model_kind",
    "arch",
    "model",
    "optimizer",
    "normalisation",
    "split",
    "data",
    "history",
    "rng",
)
MODEL_KEYS = ("epoch", "config", "model_kind", "arch", "model", "normalisation", "split", "data")


__all__ = ["CheckpointError", "atomic_write", "atomic_write_text", "load_checkpoint", "save_checkpoint"]
_TMP_SUFFIX = ".tmp"


def save_checkpoint(path: Path, payload: dict) -> None:
    """Atomically write payload (tensors and plain values) with the format marker and software version."""
    stamped = {"format": FORMAT, "format_version": FORMAT_VERSION, "software_version": software_version(), **payload}
    atomic_write(Path(path), lambda stream: torch.save(stamped, stream))


def atomic_write_text(path: Path, text: str) -> None:
    """Replace `path` with `text` (UTF-8) atomically: readers see the old file or the new one, never a part."""
    atomic_write(Path(path), lambda stream: stream.write(text.encode("utf-8")))


def atomic_write(path: Path, write: object) -> None:
    """`write(binary stream)` into a fresh temporary file beside `path`, fsync, rename over `path`.

    A failure (a full disk, a read-only folder) removes the temporary file and raises one CheckpointWriteError
    line naming `path`. Temporary files of `path` left by a killed process are removed first."""
    for stale in path.parent.glob(f".{path.name}.*{_TMP_SUFFIX}"):
        with contextlib.suppress(OSError):
            stale.unlink()
    tmp: str | None = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=_TMP_SUFFIX, dir=path.parent)
        with os.fdopen(fd, "wb") as stream:
            write(stream)  # type: ignore[operator]
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(tmp, path)
        tmp = None
    except (OSError, RuntimeError) as error:  # torch.save reports a failed write as RuntimeError
        reason = _first_line(error)
        if isinstance(error, RuntimeError) and _nearly_full(path.parent):  # torch's words do not say why
            reason = "no space left on the device"
        raise CheckpointWriteError(f"{path}: cannot write it: {reason}") from None
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def _nearly_full(folder: Path) -> bool:
    try:
        return shutil.disk_usage(folder).free < 1 << 20
    except OSError:
        return False


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0] if text else ''}".rstrip(": ")


def load_checkpoint(path: Path, required: Iterable[str] = MODEL_KEYS) -> dict:
    """Load and check a checkpoint; tensors land on the CPU."""
    path = Path(path)
    expected = f"a speckle-lab checkpoint ({FORMAT} v{FORMAT_VERSION}, torch.save of tensors and plain values)"
    if not path.is_file():
        raise CheckpointError(f"{path}: no such file; expected {expected}")
    try:
        with warnings.catch_warnings():  # torch warns about pickle protocols of files it is about to refuse
            warnings.simplefilter("ignore")
            payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises several types for foreign, pickled or truncated files
        raise CheckpointError(f"{path}: unreadable, expected {expected} ({_first_line(error)})") from error
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        found = type(payload).__name__
        if isinstance(payload, dict):
            found = f"a dict with keys {sorted(map(str, payload))[:6]}"
        raise CheckpointError(f"{path}: not {expected}; found {found}")
    version = payload.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise CheckpointError(f"{path}: format version {version!r}, this software reads up to {FORMAT_VERSION}")
    if version == 1:
        payload = upgrade_v1(payload)
    missing = [key for key in required if key not in payload]
    if missing:
        raise CheckpointError(f"{path}: incomplete checkpoint, missing {', '.join(missing)}; expected {expected}")
    kind = payload.get("model_kind", LEGACY_KIND)
    if kind not in KINDS:
        raise CheckpointError(f"{path}: a {kind!r} net, a model kind this software does not know ({', '.join(KINDS)})")
    return payload


def upgrade_v1(payload: dict) -> dict:
    """A version-1 checkpoint as version 2: a U-Net (the only kind then), selected on validation Dice."""
    out = {**payload, "format_version": FORMAT_VERSION, "model_kind": LEGACY_KIND}
    config = payload.get("config")
    if isinstance(config, dict):
        config = {**config, "selection_metric": "dice"}
        if "min_dice_improvement" in config:
            config["min_improvement"] = config.pop("min_dice_improvement")
        out["config"] = config
    early = payload.get("early_stopping")
    if isinstance(early, dict) and "best_val_dice" in early:
        early = {**early, "metric": "dice", "best_value": early["best_val_dice"]}
        del early["best_val_dice"]
        out["early_stopping"] = early
    return out


#: What one run's checkpoints share, whatever the epoch: the data, its split and normalisation, the net's shape.
RUN_IDENTITY_KEYS = ("data", "split", "normalisation", "model_kind", "arch")


def check_same_run(path: Path, payload: dict, last_path: Path) -> None:
    """Refuse a checkpoint (best.pt) that is not of the run whose last.pt lies beside it: copied in from
    another run folder, it would be evaluated, analysed or shown as this run's net. Nothing to compare
    without a last.pt (a folder holding only the shared net)."""
    from speckle_lab.model.config import RESUMABLE_CHANGES  # here: config imports pydantic, not needed above

    if not Path(last_path).is_file():
        return
    # Not the epochs: training writes best.pt a moment before last.pt, so a reader may see best one epoch ahead.
    last = load_checkpoint(last_path, required=(*RUN_IDENTITY_KEYS, "config"))
    differ = [key for key in RUN_IDENTITY_KEYS if key in payload and not _same(payload[key], last[key])]
    mine, theirs = payload.get("config", {}), last["config"]
    differ += [
        f"config.{key}"
        for key in sorted(mine)
        if key not in RESUMABLE_CHANGES and not _same(mine[key], theirs.get(key))
    ]
    if differ:
        raise CheckpointError(
            f"{path}: not of the run in {Path(path).parent}: its {', '.join(differ[:4])} differ from "
            f"{Path(last_path).name}'s (copied from another run?); use the run folder it was trained in"
        )


def _same(a: object, b: object) -> bool:
    """Deep equality of checkpoint values: tensors and arrays by value, dicts and lists item by item."""
    if isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor):
        return isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor) and torch.equal(a, b)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return a == b
