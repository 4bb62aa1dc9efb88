"""Intrinsic dimension of what a net represents (d_repr, per level) beside that of its data (d_data).

Both use the one estimator of the project, `acquisition.targets.diversity.intrinsic_dimension_mle`
(Levina & Bickel MLE, k = 20 neighbours), so d_repr and d_data are measured the same way. Konz and
Mazurowski (ICLR 2024) find d_repr <= d_data; here the data are the training targets and the speckle.
"""

from __future__ import annotations

import numpy as np

from speckle_lab.acquisition.targets.diversity import intrinsic_dimension_mle

K_NEIGHBOURS = 20
MAX_POINTS = 2000  # brute-force neighbours are O(n^2): a subsample beyond this


def safe_dimension(points: np.ndarray, k: int = K_NEIGHBOURS, max_points: int = MAX_POINTS, seed: int = 0) -> float:
    """The MLE intrinsic dimension, NaN when there are too few distinct points for k neighbours."""
    try:
        return intrinsic_dimension_mle(points, k, max_points, seed)
    except ValueError:
        return float("nan")


def representation_dimensions(
    features: dict[str, np.ndarray], k: int = K_NEIGHBOURS, max_points: int = MAX_POINTS, seed: int = 0
) -> dict[str, float]:
    """d_repr of every level's pooled features."""
    return {level: safe_dimension(x, k, max_points, seed) for level, x in features.items()}


def bounded(d_repr: dict[str, float], d_data: float) -> dict[str, bool | None]:
    """Per level: d_repr <= d_data (None where either is undefined)."""
    return {level: (None if np.isnan(d) or np.isnan(d_data) else bool(d <= d_data)) for level, d in d_repr.items()}
