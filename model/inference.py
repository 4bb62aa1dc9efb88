"""Running a net over batches and collecting per-frame metrics: shared by validation and evaluation."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable

import numpy as np
import torch
from torch import nn

from speckle_lab.model.data import Batch
from speckle_lab.model.losses import Loss
from speckle_lab.model.metrics import image_metrics


@torch.no_grad()
def collect_metrics(
    model: nn.Module,
    batches: Iterable[Batch],
    device: torch.device,
    loss_fn: Loss | None = None,
    channels_last: bool = False,
    precision: str = "fp32",
) -> dict[str, np.ndarray]:
    """Per-frame PCC, SSIM, CS, Dice (soft and thresholded) and, given a loss, the per-batch loss weights.

    precision "bf16": the net runs under CUDA bf16 autocast (as it was trained); metrics stay float32.
    """
    was_training = model.training
    model.eval()
    per_frame: dict[str, list[np.ndarray]] = {}
    loss_sum, count = 0.0, 0
    for x, y in batches:
        x, y = to_device(x, device, channels_last), y.to(device, non_blocking=True)
        with autocast(device, precision):
            pred = model(x).float()
        if loss_fn is not None:
            loss_sum += float(loss_fn(pred, y)) * len(x)
        count += len(x)
        for name, values in image_metrics(pred.float(), y).items():
            per_frame.setdefault(name, []).append(values.cpu().numpy())
    model.train(was_training)
    out = {name: np.concatenate(chunks) for name, chunks in per_frame.items()}
    if loss_fn is not None:
        out["loss"] = np.array([loss_sum / max(count, 1)])
    return out


def autocast(device: torch.device, precision: str) -> contextlib.AbstractContextManager:
    """bf16 autocast for precision "bf16" (CUDA runs), nothing otherwise."""
    if precision == "bf16":
        return torch.autocast(device_type=device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


def to_device(x: torch.Tensor, device: torch.device, channels_last: bool) -> torch.Tensor:
    x = x.to(device, non_blocking=True)
    return x.contiguous(memory_format=torch.channels_last) if channels_last else x
