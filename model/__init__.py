"""speckle-lab: model. U-Net from speckle to target, its losses and metrics, the trainer and evaluation.

The public names below are imported on first use, so `import model` stays cheap (torch loads only when a
name that needs it is touched), which keeps the CLI's and GUI's start-up fast.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "TrainConfig": "model.config",
    "ModelConfig": "model.config",
    "train": "model.trainer",
    "TrainResult": "model.trainer",
    "ProgressEvent": "model.progress",
    "evaluate": "model.evaluate",
    "load_trained": "model.evaluate",
    "save_figures": "model.evaluate",
    "TrainedModel": "model.evaluate",
    "CheckpointError": "model.checkpoint",
    "FrameSource": "model.sources",
    "ArraySource": "model.sources",
    "ConcatSource": "model.sources",
    "open_captures": "model.sources",
    "UNet": "model.unet",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'model' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
