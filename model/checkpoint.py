"""Checkpoint files: torch.save archives of tensors and plain values only, read back with weights_only=True.

Only tensors, numbers, strings, lists and dicts go in, so loading never runs pickled code; a file that is
not ours (pickled objects, someone else's state dict, a truncated write) is refused with one line that
names the file and what was expected. Writes go to a temporary file first and are renamed into place, so
a crash mid-write leaves the previous checkpoint intact.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable
from pathlib import Path

import torch

from acquisition.version import software_version

FORMAT = "speckle-lab.unet-checkpoint"
FORMAT_VERSION = 1
TRAINING_KEYS = ("epoch", "config", "arch", "model", "optimizer", "normalisation", "split", "data", "history", "rng")
MODEL_KEYS = ("epoch", "config", "arch", "model", "normalisation", "split", "data")


class CheckpointError(Exception):
    """A checkpoint file that cannot be used: missing, not ours, from a newer format, or incomplete."""


def save_checkpoint(path: Path, payload: dict) -> None:
    """Atomically write payload (tensors and plain values) with the format marker and software version."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(
        {"format": FORMAT, "format_version": FORMAT_VERSION, "software_version": software_version(), **payload}, tmp
    )
    os.replace(tmp, path)


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
    missing = [key for key in required if key not in payload]
    if missing:
        raise CheckpointError(f"{path}: incomplete checkpoint, missing {', '.join(missing)}; expected {expected}")
    return payload
