"""The linear baseline: ridge regression from speckle intensities to the target, fitted on a training split.

Why: a U-Net number means little alone. Intensity speckle is |T x|^2, quadratic in the target x, yet a linear
map from intensities back to x already recovers much of it; the gap between this baseline and the net is what
the net adds over linear optics. Solved in the dual (kernel) form, since frames are fewer than camera pixels:
W = X^T (X X^T + lambda I)^-1 Y, with lambda chosen on a validation part of the training frames only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from speckle_lab.model.errors import ModelInputError

LAMBDA_GRID = tuple(10.0**k for k in range(-4, 3))  # times the mean diagonal of X X^T


def standardise_frames(speckle: np.ndarray) -> np.ndarray:
    """`[frame, ...]` -> float64 `[frame, pixels]`, each frame zero-mean and unit-variance (as the study's
    per-frame normalisation of the net's input)."""
    x = np.asarray(speckle, dtype=np.float64).reshape(len(speckle), -1)
    x = x - x.mean(axis=1, keepdims=True)
    return x / np.maximum(x.std(axis=1, keepdims=True), 1e-12)


@dataclass(frozen=True)
class RidgeModel:
    weights: np.ndarray  # [pixels, target pixels]
    intercept: np.ndarray  # [target pixels]
    target_shape: tuple[int, ...]
    lam: float  # the chosen ridge strength, in units of the mean diagonal of X X^T
    per_frame: bool

    def predict(self, speckle: np.ndarray) -> np.ndarray:
        x = _features(speckle, self.per_frame)
        return (x @ self.weights + self.intercept).reshape(len(x), *self.target_shape)


def _features(speckle: np.ndarray, per_frame: bool) -> np.ndarray:
    if per_frame:
        return standardise_frames(speckle)
    return np.asarray(speckle, dtype=np.float64).reshape(len(speckle), -1)


def _solve(x: np.ndarray, y: np.ndarray, lam: float) -> tuple[np.ndarray, np.ndarray]:
    x_mean, y_mean = x.mean(axis=0), y.mean(axis=0)
    xc, yc = x - x_mean, y - y_mean
    gram = xc @ xc.T
    scale = float(np.trace(gram)) / len(gram) or 1.0
    alpha = np.linalg.solve(gram + lam * scale * np.eye(len(gram)), yc)
    weights = xc.T @ alpha
    return weights, y_mean - x_mean @ weights


def fit_ridge(
    speckle: np.ndarray,
    target: np.ndarray,
    per_frame: bool = True,
    val_fraction: float = 0.2,
    seed: int = 0,
    lambdas: tuple[float, ...] = LAMBDA_GRID,
) -> RidgeModel:
    """Ridge from speckle `[frame, H, W]` to target `[frame, h, w]`; lambda by mean squared error on a seeded
    `val_fraction` of these frames, then refitted on all of them."""
    n = len(speckle)
    if n != len(target) or n < 5:
        raise ModelInputError(f"need at least 5 paired frames, got {n} speckle and {len(target)} targets")
    x = _features(speckle, per_frame)
    y = np.asarray(target, dtype=np.float64).reshape(n, -1)
    order = np.random.default_rng(seed).permutation(n)
    n_val = max(1, round(val_fraction * n))
    val, fit = order[:n_val], order[n_val:]
    errors = []
    for lam in lambdas:
        w, b = _solve(x[fit], y[fit], lam)
        errors.append(float(np.mean((x[val] @ w + b - y[val]) ** 2)))
    best = lambdas[int(np.argmin(errors))]
    w, b = _solve(x, y, best)
    return RidgeModel(w, b, tuple(np.shape(target)[1:]), best, per_frame)
