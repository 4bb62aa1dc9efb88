"""Linear probes: per level, a ridge regression from the pooled features to the target image.

Fitted on the in-distribution (ID) training and validation frames with the project's one ridge solver
(`model.ridge.fit_linear`: the strength by leave-one-out over all those frames), scored by the per-image
Pearson correlation (PCC, the net's own metric from `model.metrics`) on the ID test frames and on every
out-of-distribution (OOD) set. Read along the levels, the ID and OOD curves show where the
net's representation stops carrying what OOD targets need: the "tunnel" of Harun et al. (NeurIPS 2024).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from speckle_lab.model.errors import ModelInputError
from speckle_lab.model.metrics import pcc
from speckle_lab.model.ridge import ALPHA_GRID, fit_linear

TUNNEL_DROP = 0.10  # the OOD score must fall this fraction below its peak to count as a tunnel
STD_FLOOR = 1e-8


@dataclass(frozen=True)
class RidgeProbe:
    """y = ((x - mean) / scale) @ weights + intercept."""

    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray
    intercept: np.ndarray
    alpha_relative: float

    def predict(self, features: np.ndarray) -> np.ndarray:
        return ((np.asarray(features, np.float64) - self.mean) / self.scale) @ self.weights + self.intercept


def mean_pcc(prediction: np.ndarray, target: np.ndarray) -> float:
    """Mean over images of the per-image PCC (0 for a constant image, as `model.metrics.pcc` defines it)."""
    values = pcc(torch.from_numpy(np.asarray(prediction, np.float64)), torch.from_numpy(np.asarray(target, np.float64)))
    return float(values.mean())


def fit_ridge_probe(x_train: np.ndarray, y_train: np.ndarray, grid: tuple[float, ...] = ALPHA_GRID) -> RidgeProbe:
    """Ridge regression on standardised features (`model.ridge.fit_linear`, the strength by leave-one-out).
    Standardising makes the strength mean the same at every level, whatever its channel count or scale."""
    x = np.asarray(x_train, np.float64)
    y = np.asarray(y_train, np.float64).reshape(len(x), -1)
    if len(x) < 3:
        raise ModelInputError(f"a probe needs at least 3 training frames, got {len(x)}")
    mean = x.mean(axis=0)
    scale = np.maximum(x.std(axis=0), STD_FLOOR)
    fit = fit_linear((x - mean) / scale, y, grid)
    return RidgeProbe(mean, scale, fit.weights, fit.intercept, fit.alpha_relative)


@dataclass(frozen=True)
class ProbeCurves:
    """Probe PCC per level (forward order) on the ID test frames and on each OOD set."""

    levels: list[str]
    id_pcc: list[float]
    ood_pcc: dict[str, list[float]]
    alpha_relative: list[float]

    def summary(self) -> dict:
        """The numbers of analysis.json's `probes` (see docs/analysis.md)."""
        out: dict = {"levels": self.levels, "id_pcc": self.id_pcc, "alpha_relative": self.alpha_relative, "ood": {}}
        for name, curve in self.ood_pcc.items():
            peak = max(curve)
            out["ood"][name] = {
                "pcc": curve,
                "retained_pct": [_percent(v, peak) for v in curve],
                "ood_over_id_pct": [_percent(o, i) for o, i in zip(curve, self.id_pcc, strict=True)],
                "final_retained_pct": _percent(curve[-1], peak),
                "id_ood_pearson": curve_correlation(self.id_pcc, curve),
                "tunnel_start": tunnel_start(self.levels, curve),
                "peak_level": self.levels[int(np.argmax(curve))],
            }
        return out


def _percent(value: float, reference: float) -> float | None:
    return None if not reference > 0 else 100.0 * value / reference


def curve_correlation(a: list[float], b: list[float]) -> float | None:
    """Pearson correlation of two curves over the levels; None with fewer than 3 levels or a flat curve."""
    a_, b_ = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if len(a_) < 3 or a_.std() == 0 or b_.std() == 0:
        return None
    return float(np.corrcoef(a_, b_)[0, 1])


def tunnel_start(levels: list[str], ood_curve: list[float], drop: float = TUNNEL_DROP) -> str | None:
    """The first level after the OOD peak from which the OOD score stays more than `drop` (a fraction of
    the peak) below the peak down to the last level; None when the last level keeps at least 1 - drop."""
    curve = np.asarray(ood_curve, np.float64)
    peak_at = int(np.argmax(curve))
    peak = curve[peak_at]
    below = curve < (1.0 - drop) * peak if peak > 0 else np.zeros(len(curve), bool)
    if not below[-1]:
        return None
    start = len(curve) - 1
    while start - 1 > peak_at and below[start - 1]:
        start -= 1
    return levels[start]


def probe_levels(
    train: tuple[dict[str, np.ndarray], np.ndarray],
    val: tuple[dict[str, np.ndarray], np.ndarray] | None,
    test: tuple[dict[str, np.ndarray], np.ndarray],
    ood: dict[str, tuple[dict[str, np.ndarray], np.ndarray]],
) -> ProbeCurves:
    """(features by level, targets) for the ID train, validation and test frames and each OOD set -> curves.
    The probes are fitted on the training and validation frames together (leave-one-out picks the strength)."""
    levels = list(train[0])
    id_pcc, alphas = [], []
    ood_pcc: dict[str, list[float]] = {name: [] for name in ood}
    for level in levels:
        x_fit, y_fit = train[0][level], train[1]
        if val is not None and len(val[1]):
            x_fit, y_fit = np.concatenate([x_fit, val[0][level]]), np.concatenate([y_fit, val[1]])
        probe = fit_ridge_probe(x_fit, y_fit)
        alphas.append(probe.alpha_relative)
        id_pcc.append(mean_pcc(probe.predict(test[0][level]), test[1]))
        for name, (features, targets) in ood.items():
            ood_pcc[name].append(mean_pcc(probe.predict(features[level]), targets))
    return ProbeCurves(levels, id_pcc, ood_pcc, alphas)
