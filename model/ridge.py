"""Ridge regression, the project's one linear solver, and the linear baseline built on it.

`fit_linear` is scikit-learn's `RidgeCV` with efficient leave-one-out: the ridge strength is chosen by the
exact leave-one-out squared error over all the frames it is given (one eigendecomposition, then every
strength of the grid at the cost of a matrix product), not on a hold-out that the final fit then ignores. The
grid is relative to the data's own scale (the mean diagonal of the centred X X^T), so the same numbers mean
the same thing for camera counts, standardised frames or a net's features. One strength serves every output
pixel. Used by the ridge baseline below, the linear probes (model/analysis/probes.py) and the initialisation
of the physics-first net (model/physics.py).

The baseline: why. A net's number means little alone. Intensity speckle is |T x|^2, quadratic in the target
x, yet a linear map from intensities back to x already recovers much of it; the gap between this baseline and
a net is what the net adds over linear optics.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from speckle_lab.model.errors import ModelInputError

#: Ridge strengths, in units of the mean diagonal of the centred X X^T: 1e-5 .. 1e3 in decades (each strength
#: costs about a tenth of the decomposition on the probes' shapes: half decades would add a third to the time).
ALPHA_GRID = tuple(10.0**k for k in range(-5, 4))


@dataclass(frozen=True)
class LinearFit:
    """y = x @ weights + intercept."""

    weights: np.ndarray  # [features, outputs]
    intercept: np.ndarray  # [outputs]
    alpha_relative: float  # the chosen strength, in units of the mean diagonal of the centred X X^T
    alpha: float  # the same in the units of x^2

    def predict(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(x, np.float64) @ self.weights + self.intercept


def data_scale(x: np.ndarray) -> float:
    """The mean diagonal of the centred Gram matrix X X^T (the sum of the features' variances); 1 for constant x."""
    return float(np.var(x, axis=0).sum()) or 1.0


def fit_linear(x: np.ndarray, y: np.ndarray, grid: tuple[float, ...] = ALPHA_GRID) -> LinearFit:
    """Ridge from `x` [frames, features] to `y` [frames, outputs], with an intercept; the strength from `grid`
    (relative units) with the least leave-one-out mean squared error over all outputs."""
    from sklearn.linear_model import RidgeCV  # imported here: scikit-learn loads in about a second

    x = np.asarray(x, np.float64)
    y = np.asarray(y, np.float64).reshape(len(x), -1)
    if x.ndim != 2 or len(x) < 3:
        raise ModelInputError(f"ridge needs frames x features with at least 3 frames, got shape {x.shape}")
    scale = data_scale(x)
    solver = RidgeCV(alphas=np.asarray(grid) * scale, fit_intercept=True, alpha_per_target=False)
    solver.fit(x, y)
    alpha = float(solver.alpha_)
    return LinearFit(np.asarray(solver.coef_).T.copy(), np.asarray(solver.intercept_), alpha / scale, alpha)


def standardise_frames(speckle: np.ndarray) -> np.ndarray:
    """`[frame, ...]` -> float64 `[frame, pixels]`, each frame zero-mean and unit-variance (as the trainer's
    per-frame normalisation of the net's input, model/normalisation.py)."""
    x = np.asarray(speckle, dtype=np.float64).reshape(len(speckle), -1)
    x = x - x.mean(axis=1, keepdims=True)
    return x / np.maximum(x.std(axis=1, keepdims=True), 1e-12)


@dataclass(frozen=True)
class RidgeModel:
    weights: np.ndarray  # [pixels, target pixels]
    intercept: np.ndarray  # [target pixels]
    target_shape: tuple[int, ...]
    lam: float  # the chosen ridge strength, in units of the mean diagonal of the centred X X^T
    per_frame: bool

    def predict(self, speckle: np.ndarray) -> np.ndarray:
        x = _features(speckle, self.per_frame)
        return (x @ self.weights + self.intercept).reshape(len(x), *self.target_shape)


def _features(speckle: np.ndarray, per_frame: bool) -> np.ndarray:
    if per_frame:
        return standardise_frames(speckle)
    return np.asarray(speckle, dtype=np.float64).reshape(len(speckle), -1)


def fit_ridge(
    speckle: np.ndarray, target: np.ndarray, per_frame: bool = True, grid: tuple[float, ...] = ALPHA_GRID
) -> RidgeModel:
    """Ridge from speckle `[frame, H, W]` (each frame standardised when `per_frame`, else camera counts) to
    target `[frame, h, w]`, its strength chosen by leave-one-out over these frames (`fit_linear`)."""
    n = len(speckle)
    if n != len(target) or n < 5:
        raise ModelInputError(f"need at least 5 paired frames, got {n} speckle and {len(target)} targets")
    fit = fit_linear(_features(speckle, per_frame), np.asarray(target, dtype=np.float64).reshape(n, -1), grid)
    return RidgeModel(fit.weights, fit.intercept, tuple(np.shape(target)[1:]), fit.alpha_relative, per_frame)
