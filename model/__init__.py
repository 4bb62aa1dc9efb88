"""speckle-lab: model. Nets from speckle to target (model kinds: the reference U-Net, the physics-first net),
their losses and metrics, the trainer, evaluation and the analyses.

The public names below are imported on first use, so `import speckle_lab.model` stays cheap (torch loads only
when a name that needs it is touched), which keeps the CLI's and GUI's start-up fast.

Training a given kind in-process, on arrays or any FrameSource (docs/models.md):

    from speckle_lab.model import ArraySource, TrainConfig, load_trained, preset_config, train

    config = TrainConfig.model_validate({"model": {"kind": "physics"}, "normalisation": "per_frame", "seed": 0})
    # the reference recipe on any kind: preset_config("reference", model={"kind": "physics"}, epochs=20)
    result = train(config, ArraySource(speckle, target, name="faces"), run_dir, show_progress=False)
    trained = load_trained(run_dir, "cpu")  # rebuilt as the kind its checkpoint records
    reconstructions = trained.predict(camera_frames)  # (B, H, W) counts -> (B, h, w)

`result.best_epoch` is 0 when a data-initialised kind (the physics-first net) never beat its ridge start on
validation. The kinds' names: `speckle_lab.model.registry.kind_names()`.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "TrainConfig": "speckle_lab.model.config",
    "ModelConfig": "speckle_lab.model.config",
    "PhysicsConfig": "speckle_lab.model.config",
    "kind_names": "speckle_lab.model.registry",
    "preset_config": "speckle_lab.model.presets",
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
    "PhysicsNet": "speckle_lab.model.physics",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'model' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
