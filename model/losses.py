"""Training losses: w * MSE + (1 - w) * soft-Dice (the reference study's MSE + Dice), negative Pearson, or
w * MSE + (1 - w) * (1 - Pearson) (the physics-first net's: the reported metric, with MSE holding the gain and
offset that Pearson does not see)."""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as nnf

from speckle_lab.model.config import TrainConfig
from speckle_lab.model.metrics import dice_soft, pcc

Loss = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def mse_dice_loss(pred: torch.Tensor, target: torch.Tensor, mse_weight: float = 0.5) -> torch.Tensor:
    """w * MSE + (1 - w) * (1 - soft Dice): MSE fits intensities, Dice keeps sparse targets from fading to 0."""
    mse = nnf.mse_loss(pred, target)
    dice_term = 1 - dice_soft(pred, target).mean()
    return mse_weight * mse + (1 - mse_weight) * dice_term


def npcc_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Negative Pearson correlation, mean over the batch: insensitive to the reconstruction's gain and offset."""
    return -pcc(pred, target).mean()


def mse_npcc_loss(pred: torch.Tensor, target: torch.Tensor, mse_weight: float = 0.5) -> torch.Tensor:
    """w * MSE + (1 - w) * (1 - PCC): PCC fits the structure, MSE keeps the intensities in the target's units."""
    return mse_weight * nnf.mse_loss(pred, target) + (1 - mse_weight) * (1 - pcc(pred, target).mean())


def make_loss(config: TrainConfig) -> Loss:
    if config.loss == "npcc":
        return npcc_loss
    w = config.mse_weight
    if config.loss == "mse_npcc":
        return lambda pred, target: mse_npcc_loss(pred, target, w)
    return lambda pred, target: mse_dice_loss(pred, target, w)
