"""speckle-lab: model. U-Net from speckle to target, its losses and metrics, the trainer and evaluation.

The public names below are imported on first use, so `import model` stays cheap (torch loads only when a
name that needs it is touched), which keeps the CLI's and GUI's start-up fast.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "TrainConfig": "speckle_lab.model.config",
    "ModelConfig": "speckle_lab.model.config",
    "train": "speckle_lab.model.trainer",
    "TrainResult": "speckle_lab.model.trainer",
    "ProgressEvent": "speckle_lab.model.progress",
    "evaluate": "speckle_lab.model.evaluate",
    "load_trained": "speckle_lab.model.evaluate",
    "save_figures": "speckle_lab.model.evaluate",
    "TrainedModel": "speckle_lab.model.evaluate",
    "CheckpointError": "speckle_lab.model.checkpoint",
    "FrameSource": "speckle_lab.model.sources",
    "ArraySource": "speckle_lab.model.sources",
    "ConcatSource": "speckle_lab.model.sources",
    "open_captures": "speckle_lab.model.sources",
    "UNet": "speckle_lab.model.unet",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'model' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
