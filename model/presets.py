"""Named training recipes: TrainConfig changes that reproduce a published setting in one word.

`reference`: the reference study's recipe (7x7 kernels, loss MSE + Dice, Adam with learning rate 1e-4, 50
epochs, early stopping on validation Dice) on the reference U-Net. It differs from the defaults only in what
early stopping and the best checkpoint follow: the defaults follow validation PCC, the metric every report
gives, since Dice keeps rising for epochs after PCC has stopped (issue 22).
"""

from __future__ import annotations

import copy

from speckle_lab.model.config import ModelConfig, TrainConfig, kind_name
from speckle_lab.model.errors import ModelInputError

PRESETS: dict[str, dict] = {
    "reference": {
        "model": {"kind": kind_name(ModelConfig), "kernel_size": 7},
        "loss": "mse_dice",
        "mse_weight": 0.5,
        "lr": 1e-4,
        "epochs": 50,
        "patience_epochs": 10,
        "selection_metric": "dice",
    },
}


def preset(name: str) -> dict:
    """A copy of the TrainConfig changes of preset `name`."""
    if name not in PRESETS:
        raise ModelInputError(f"preset {name!r}: unknown; expected one of {', '.join(PRESETS)}")
    return copy.deepcopy(PRESETS[name])


def with_changes(base: dict, changes: dict) -> dict:
    """`base` with `changes` on top; the `model` settings merge key by key (a kind given alone keeps the rest)."""
    out = {**base, **changes}
    if isinstance(base.get("model"), dict) and isinstance(changes.get("model"), dict):
        out["model"] = {**base["model"], **changes["model"]}
    return out


def preset_config(name: str, **changes: object) -> TrainConfig:
    """The TrainConfig of preset `name` with `changes` on top (the `model` settings merged key by key)."""
    return TrainConfig.model_validate(with_changes(preset(name), changes))
