"""Synthetic speckle data (Gaussian blobs through a seeded complex Gaussian transmission matrix) and a tiny
config, in a module of its own so tests can import them (conftest modules cannot be imported by name)."""

from __future__ import annotations

import numpy as np

from speckle_lab.model.config import ModelConfig, TrainConfig
from speckle_lab.model.sources import ArraySource


def blob_targets(n: int, shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """1 to 3 Gaussian blobs per image, values in [0, 1]."""
    rows, cols = np.mgrid[0 : shape[0], 0 : shape[1]]
    out = np.zeros((n, *shape), np.float32)
    for i in range(n):
        for _ in range(rng.integers(1, 4)):
            r0, c0 = rng.uniform(2, shape[0] - 2), rng.uniform(2, shape[1] - 2)
            width = rng.uniform(1.5, 3.0)
            out[i] += np.exp(-((rows - r0) ** 2 + (cols - c0) ** 2) / (2 * width**2))
    return np.clip(out, 0, 1)


def speckle_of(targets: np.ndarray, speckle_shape: tuple[int, int], seed: int) -> np.ndarray:
    """Camera counts |T x|^2 for a seeded complex Gaussian T, as uint16."""
    rng = np.random.default_rng(seed)
    n_in, n_out = targets[0].size, speckle_shape[0] * speckle_shape[1]
    T = (rng.standard_normal((n_in, n_out)) + 1j * rng.standard_normal((n_in, n_out))) / np.sqrt(2 * n_in)
    intensity = np.abs(targets.reshape(len(targets), -1) @ T) ** 2
    counts = np.round(intensity / intensity.mean() * 1000)
    return np.clip(counts, 0, 65535).astype(np.uint16).reshape(len(targets), *speckle_shape)


def synthetic(n: int, seed: int = 0, target_shape=(16, 16), speckle_shape=(32, 32)) -> ArraySource:
    targets = blob_targets(n, target_shape, np.random.default_rng(seed))
    return ArraySource(speckle_of(targets, speckle_shape, seed + 1), targets, name=f"blobs-{seed}")


def tiny_config(**changes) -> TrainConfig:
    base = dict(
        epochs=2,
        lr=3e-3,
        batch_size=16,
        patience_epochs=None,
        val_fraction=0.15,
        test_fraction=0.15,
        seed=1,
        device="cpu",
        model=ModelConfig(depth=2, base_width=8, kernel_size=5),
    )
    return TrainConfig(**{**base, **changes})
