"""Speckle normalisation, fitted on the training frames and stored with the model so inference matches training.

'dataset': one mean and standard deviation over all training pixels (keeps the absolute intensity, which
carries information about the target's total brightness). 'per_frame': each frame standardised by its own
statistics (robust to laser power drift between captures, at the price of that information).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from speckle_lab.model.errors import ModelInputError
from speckle_lab.model.sources import FrameSource, contiguous_chunks

STD_FLOOR = 1e-6


@dataclass(frozen=True)
class Normalisation:
    mode: str
    mean: float = 0.0
    std: float = 1.0

    def __post_init__(self) -> None:
        if self.mode not in ("dataset", "per_frame"):
            raise ValueError(f"unknown normalisation mode {self.mode!r}")

    def apply(self, speckle: torch.Tensor) -> torch.Tensor:
        """(B, ..., H, W) camera counts -> float32 zero-mean, unit-variance input."""
        x = speckle.to(torch.float32)
        if self.mode == "dataset":
            return (x - self.mean) / self.std
        dims = tuple(range(1, x.ndim))
        mean = x.mean(dim=dims, keepdim=True)
        std = x.std(dim=dims, keepdim=True, correction=0).clamp_min(STD_FLOOR)
        return (x - mean) / std

    def to_dict(self) -> dict:
        return {"mode": self.mode, "mean": float(self.mean), "std": float(self.std)}

    @classmethod
    def from_dict(cls, d: dict) -> Normalisation:
        return cls(mode=str(d["mode"]), mean=float(d["mean"]), std=float(d["std"]))


def fit_normalisation(source: FrameSource, indices: np.ndarray, mode: str, chunk_frames: int = 256) -> Normalisation:
    """Mean and std of the given frames' pixels, accumulated in float64 over chunks (the data may not fit)."""
    if mode == "per_frame":
        return Normalisation("per_frame")
    total = total_sq = 0.0
    count = 0
    for lo, hi, rows in contiguous_chunks(indices, chunk_frames):
        speckle = source.read(lo, hi)[0][rows - lo].astype(np.float64)
        total += float(speckle.sum())
        total_sq += float(np.square(speckle).sum())
        count += speckle.size
    if count == 0:
        raise ModelInputError("no training frames to fit the normalisation on")
    mean = total / count
    std = max(np.sqrt(max(total_sq / count - mean * mean, 0.0)), STD_FLOOR)
    return Normalisation("dataset", mean, float(std))
