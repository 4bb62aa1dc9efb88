"""How diverse a target set is: the numbers that predict how well a network trained on it generalises.

- intrinsic dimension (Levina & Bickel MLE, k neighbours, MacKay & Ghahramani averaging), which the
  generalisation error grows with;
- spatial coverage of the DMD (where light ever falls, mean and variance maps): a net trained in one region
  fails in another;
- gray-level entropy (intensity diversity);
- label sharpness K = max ||y_j - y_k|| / ||x_j - x_k|| of (speckle x, target y) pairs.
"""

from __future__ import annotations

from typing import Any

import numpy as np

LIT_THRESHOLD = 0.5 / 255  # a macropixel is lit when it shows at least the DMD's lowest nonzero 8-bit level


def _flat(points: np.ndarray) -> np.ndarray:
    points = np.asarray(points)
    return points.reshape(len(points), -1).astype(np.float64)


def knn_distances(points: np.ndarray, k: int, block_rows: int = 1024) -> np.ndarray:
    """Sorted Euclidean distances `[n, k]` from every point to its k nearest other points, by blocked
    brute force (a BLAS product per block: kd-trees do not help in image dimensions). Neighbours are chosen
    by the fast |a|^2 + |b|^2 - 2ab form, then their distances recomputed exactly from the differences."""
    x = _flat(points)
    n = len(x)
    if n <= k:
        raise ValueError(f"{n} points are too few for {k} neighbours")
    squared = np.einsum("ij,ij->i", x, x)
    out = np.empty((n, k), dtype=np.float64)
    for start in range(0, n, block_rows):
        rows = slice(start, min(start + block_rows, n))
        block = x[rows]
        d2 = squared[rows, None] + squared[None, :] - 2.0 * (block @ x.T)
        local = np.arange(len(block))
        d2[local, start + local] = np.inf  # not its own neighbour
        nearest = np.argpartition(d2, k - 1, axis=1)[:, :k]
        exact = np.empty((len(block), k), dtype=np.float64)
        for j in range(k):
            exact[:, j] = np.linalg.norm(block - x[nearest[:, j]], axis=1)
        out[rows] = np.sort(exact, axis=1)
    return out


def intrinsic_dimension_mle(points: np.ndarray, k: int = 20, max_points: int | None = 5000, seed: int = 0) -> float:
    """Levina & Bickel (2005) maximum-likelihood intrinsic dimension with k neighbours, averaged as MacKay &
    Ghahramani propose (the inverse per-point estimates are averaged, then inverted):

        m = [ 1 / (n (k - 1)) * sum_i sum_{j<k} log(T_k(x_i) / T_j(x_i)) ]^-1

    `points` `[n, ...]` are flattened. Exact duplicates are removed first (a zero distance would make the
    logarithm infinite; a repeated image adds no dimension). More than `max_points` distinct points are
    subsampled with `seed` (brute force is O(n^2)). Note the estimator's known negative bias at high
    dimension when the data have edges (e.g. a uniform 10-D cube reads about 8.3 with n = 4000)."""
    if k < 2:
        raise ValueError(f"k must be at least 2, not {k}")
    x = np.unique(_flat(points), axis=0)
    if max_points is not None and len(x) > max_points:
        x = x[np.sort(np.random.default_rng(seed).choice(len(x), max_points, replace=False))]
    if len(x) <= k:
        raise ValueError(f"{len(x)} distinct points are too few for an intrinsic dimension with k = {k}")
    distances = knn_distances(x, k)
    inverse = np.log(distances[:, -1:] / distances[:, :-1]).sum(axis=1) / (k - 1)
    mean_inverse = float(inverse.mean())
    return float("inf") if mean_inverse <= 0 else 1.0 / mean_inverse


class CoverageAccumulator:
    """Spatial coverage of macropixel images `[frame, side, side]` fed block by block (a capture's worth does
    not fit in memory): ever-lit map, mean and variance maps (float64 sums)."""

    def __init__(self, threshold: float = LIT_THRESHOLD) -> None:
        self.threshold = threshold
        self.n = 0
        self._sum: np.ndarray | None = None
        self._sum_sq: np.ndarray | None = None
        self._lit: np.ndarray | None = None

    def update(self, macropixel_images: np.ndarray) -> None:
        block = np.asarray(macropixel_images, dtype=np.float64)
        if block.ndim == 2:
            block = block[None]
        if self._sum is None:
            self._sum = np.zeros(block.shape[1:])
            self._sum_sq = np.zeros(block.shape[1:])
            self._lit = np.zeros(block.shape[1:], dtype=bool)
        elif block.shape[1:] != self._sum.shape:
            raise ValueError(f"macropixel images of shape {block.shape[1:]} after {self._sum.shape}")
        assert self._sum_sq is not None and self._lit is not None, "the three maps are made together"
        self._sum += block.sum(axis=0)
        self._sum_sq += np.einsum("fij,fij->ij", block, block)
        self._lit |= (block > self.threshold).any(axis=0)
        self.n += len(block)

    def result(self) -> dict[str, Any]:
        """Maps (`lit_map` bool, `mean_map`, `variance_map` float32 `[side, side]`) and summary numbers."""
        if self._sum is None or self.n == 0:
            raise ValueError("no macropixel images were given")
        assert self._sum_sq is not None and self._lit is not None
        mean = self._sum / self.n
        variance = np.maximum(self._sum_sq / self.n - mean**2, 0.0)
        total = mean.sum()
        rows, cols = np.indices(mean.shape)
        return {
            "lit_map": self._lit.copy(),
            "mean_map": mean.astype(np.float32),
            "variance_map": variance.astype(np.float32),
            "n_images": self.n,
            "lit_fraction": float(self._lit.mean()),
            "mean_level": float(mean.mean()),
            "mean_map_std": float(mean.std()),
            "variance_mean": float(variance.mean()),
            "centroid_row": float((rows * mean).sum() / total) if total > 0 else float("nan"),
            "centroid_col": float((cols * mean).sum() / total) if total > 0 else float("nan"),
        }


def spatial_coverage(macropixel_images: np.ndarray, threshold: float = LIT_THRESHOLD) -> dict[str, Any]:
    """Coverage of the active area by `[frame, side, side]` images: the fraction of macropixels ever lit
    (> threshold), mean and variance maps, and the light's centroid (row, col) in macropixels."""
    accumulator = CoverageAccumulator(threshold)
    accumulator.update(macropixel_images)
    return accumulator.result()


def coverage_summary(coverage: dict[str, Any]) -> dict[str, float]:
    """The numbers of a `spatial_coverage` result (no maps), prefixed `coverage_`: for files and tables."""
    keys = ("lit_fraction", "mean_level", "mean_map_std", "variance_mean", "centroid_row", "centroid_col")
    return {f"coverage_{key}": float(coverage[key]) for key in keys}


def intensity_entropy(images: np.ndarray, bins: int = 256) -> float:
    """Shannon entropy, in bits, of the gray-level histogram of all pixels (values clipped to [0, 1], `bins`
    equal bins): 0 for a single level, 1 for two equally frequent levels, log2(bins) at most."""
    values = np.clip(np.asarray(images, dtype=np.float64).ravel(), 0.0, 1.0)
    if values.size == 0:
        raise ValueError("no pixels")
    counts = np.histogram(values, bins=bins, range=(0.0, 1.0))[0]
    p = counts[counts > 0] / values.size
    return float(max(0.0, -(p * np.log2(p)).sum()))


def label_sharpness(
    x: np.ndarray, y: np.ndarray, n_pairs: int = 10_000, seed: int = 0, block_pairs: int = 512
) -> float:
    """K = max ||y_j - y_k|| / ||x_j - x_k|| over pairs (x: speckle `[n, ...]`, y: target `[n, ...]`, both
    flattened, as float64 in their own units, e.g. camera DN and [0, 1]): a lower bound of the Lipschitz
    constant a reconstruction x -> y must have. All pairs when there are at most `n_pairs`, else `n_pairs`
    random distinct pairs from `seed`. Pairs with identical x are skipped; NaN if no pair remains."""
    n = len(x)
    if len(y) != n:
        raise ValueError(f"{n} inputs x but {len(y)} labels y")
    if n < 2:
        raise ValueError("label sharpness needs at least 2 samples")
    if n * (n - 1) // 2 <= n_pairs:
        j, k = np.triu_indices(n, 1)
    else:
        rng = np.random.default_rng(seed)
        j = rng.integers(0, n, n_pairs)
        k = rng.integers(0, n - 1, n_pairs)
        k = k + (k >= j)  # never the same sample twice
    best = float("nan")
    for start in range(0, len(j), block_pairs):
        a, b = j[start : start + block_pairs], k[start : start + block_pairs]
        dx = np.linalg.norm(_flat(x[a]) - _flat(x[b]), axis=1)
        dy = np.linalg.norm(_flat(y[a]) - _flat(y[b]), axis=1)
        valid = dx > 0
        if valid.any():
            ratio = float((dy[valid] / dx[valid]).max())
            best = ratio if np.isnan(best) else max(best, ratio)
    return best


def target_set_stats(
    images: np.ndarray, macropixel_images: np.ndarray | None, seed: int = 0, k: int = 20, max_points: int = 5000
) -> dict[str, float]:
    """The diversity numbers a capture stores in its file: of the displayed targets `[n, h, w]` and, when
    given, of the DMD images `[n, side, side]` they were shown as (coverage_*)."""
    images = np.asarray(images)
    try:
        dimension = intrinsic_dimension_mle(images, k, max_points, seed)
    except ValueError:  # too few distinct targets for k neighbours
        dimension = float("nan")
    stats = {
        "n_targets": float(len(images)),
        "intrinsic_dimension_mle": dimension,
        "intrinsic_dimension_k": float(k),
        "intensity_entropy_bits": intensity_entropy(images),
        "mean_level": float(np.mean(images, dtype=np.float64)),
    }
    if macropixel_images is not None:
        stats.update(coverage_summary(spatial_coverage(macropixel_images)))
    return stats
