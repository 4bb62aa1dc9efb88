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
import tempfile
import warnings
from collections.abc import Iterable
from pathlib import Path

import torch

from speckle_lab.acquisition.version import software_version
from speckle_lab.model.errors import CheckpointError
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

    A failure (a full disk, a read-only folder) removes the temporary file and raises one CheckpointError
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
        raise CheckpointError(f"{path}: cannot write it: {_first_line(error)}") from None
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


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
