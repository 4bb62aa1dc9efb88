"""Features of every level of a net, of any model kind, taken with forward hooks that are always removed again.

The levels are the net's own (`levels()`, model/kind.py), in the order the data flows through them. The
U-Net's: `enc0` .. `enc{depth-1}` (the last is the bottleneck), then `dec0` .. `dec{depth-2}` (the decoder
blocks after each skip merge, coarse to fine). The physics-first net's: `linear` (the dense stage's estimate
on the target grid), then its refining U-Net's levels. Each level's maps `(B, C, h, w)` are average-pooled to
a fixed `pool x pool` grid and flattened, so every level gives vectors of C * pool^2 numbers whatever its
resolution: deep and shallow levels are compared on a like-for-like footing, and the probes and the
intrinsic-dimension estimator stay affordable.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import torch
import torch.nn.functional as nnf
from torch import nn

from speckle_lab.model.errors import ModelInputError
from speckle_lab.model.kind import Level

LEVEL_POOL = 4  # features pooled to 4 x 4 per channel


def level_modules(model: nn.Module) -> list[Level]:
    """The net's probed levels, in forward order."""
    levels = getattr(model, "levels", None)
    if levels is None:
        raise TypeError(f"{type(model).__name__} names no levels to probe (a model kind's net has `levels()`)")
    return list(levels())


def level_names(model: nn.Module) -> list[str]:
    return [level.name for level in level_modules(model)]


class FeatureHooks:
    """Context manager: while open, every level's pooled output of each forward pass is appended to
    `features[name]`; on exit (also on error) every hook is removed, leaving the net as it was."""

    def __init__(self, model: nn.Module, pool: int = LEVEL_POOL) -> None:
        self.model, self.pool = model, pool
        self.features: dict[str, list[np.ndarray]] = {name: [] for name in level_names(model)}
        self._handles: list[torch.utils.hooks.RemovableHandle] = []

    def _hook(self, level: Level):
        def record(_module: nn.Module, _inputs: tuple, output: torch.Tensor) -> None:
            maps = output.detach().float()
            if level.as_maps is not None:
                maps = level.as_maps(maps)
            pooled = nnf.adaptive_avg_pool2d(maps, self.pool)
            self.features[level.name].append(pooled.reshape(len(pooled), -1).cpu().numpy())

        return record

    def __enter__(self) -> FeatureHooks:
        for level in level_modules(self.model):
            self._handles.append(level.module.register_forward_hook(self._hook(level)))
        return self

    def __exit__(self, *exc: object) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles.clear()


@torch.no_grad()
def extract_features(
    model: nn.Module, batches: Iterable[tuple[torch.Tensor, torch.Tensor]], device: torch.device, pool: int = LEVEL_POOL
) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """Pooled features `{level: [n, C * pool^2]}`, the flattened targets `[n, h * w]` and the net's
    reconstructions `[n, h * w]`, for batches of (normalised speckle, target). The net's train/eval mode
    is restored afterwards."""
    was_training = model.training
    model.eval()
    targets, outputs = [], []
    try:
        with FeatureHooks(model, pool) as hooks:
            for x, y in batches:
                outputs.append(model(x.to(device)).reshape(len(x), -1).float().cpu().numpy())
                targets.append(y.reshape(len(y), -1).float().cpu().numpy())
    finally:
        model.train(was_training)
    if not targets:
        raise ModelInputError("no frames to extract features from")
    features = {name: np.concatenate(chunks) for name, chunks in hooks.features.items()}
    return features, np.concatenate(targets), np.concatenate(outputs)
