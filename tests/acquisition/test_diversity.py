"""Diversity metrics on inputs whose answer is known."""

from __future__ import annotations

import time

import numpy as np
import pytest

from speckle_lab.acquisition.targets import (
    CoverageAccumulator,
    intensity_entropy,
    intrinsic_dimension_mle,
    label_sharpness,
    spatial_coverage,
    target_set_stats,
)
from speckle_lab.acquisition.targets.diversity import knn_distances

AMBIENT = 100


def _embedded(points: np.ndarray, seed: int) -> np.ndarray:
    """`points` [n, d] isometrically placed in 100 dimensions by a random rotation."""
    rotation, _ = np.linalg.qr(np.random.default_rng(seed).normal(size=(AMBIENT, AMBIENT)))
    return points @ rotation[:, : points.shape[1]].T


def _cube(d: int, n: int, seed: int) -> np.ndarray:
    return _embedded(np.random.default_rng(seed).uniform(size=(n, d)), seed + 1)


@pytest.mark.parametrize(("d", "n"), [(2, 4000), (5, 8000)])
def test_intrinsic_dimension_of_embedded_cube(d: int, n: int) -> None:
    estimate = intrinsic_dimension_mle(_cube(d, n, seed=d), k=20, max_points=None)
    assert estimate == pytest.approx(d, rel=0.10)


def test_intrinsic_dimension_10d() -> None:
    """At d = 10 a cube's faces bias the MLE low (Levina & Bickel 2005, fig. 1): with n = 8000 its 20
    neighbours reach across half the cube. On a manifold without edges, the 10-sphere, it is within 10 %."""
    n = 8000
    cube = intrinsic_dimension_mle(_cube(10, n, seed=10), k=20, max_points=None)
    assert 0.8 * 10 < cube < 10
    gauss = np.random.default_rng(11).normal(size=(n, 11))
    sphere = _embedded(gauss / np.linalg.norm(gauss, axis=1, keepdims=True), seed=12)
    assert intrinsic_dimension_mle(sphere, k=20, max_points=None) == pytest.approx(10, rel=0.10)


def test_intrinsic_dimension_robust_to_duplicates_and_fast() -> None:
    points = _cube(3, 1500, seed=3)
    with_copies = np.concatenate([points, points[:500], points[:500]])
    started = time.perf_counter()
    assert intrinsic_dimension_mle(with_copies) == pytest.approx(intrinsic_dimension_mle(points), rel=1e-9)
    assert time.perf_counter() - started < 5
    images = np.random.default_rng(0).random((30, 8, 8))  # any [n, ...] shape is flattened
    assert np.isfinite(intrinsic_dimension_mle(images, k=5))
    with pytest.raises(ValueError, match="too few"):
        intrinsic_dimension_mle(np.zeros((50, 4)))  # a single distinct point


def test_knn_distances_match_brute_force() -> None:
    x = np.random.default_rng(1).normal(size=(300, 7))
    full = np.linalg.norm(x[:, None] - x[None], axis=2)
    np.fill_diagonal(full, np.inf)
    np.testing.assert_allclose(knn_distances(x, 5, block_rows=64), np.sort(full, axis=1)[:, :5], rtol=1e-12)


def test_intensity_entropy_known_histograms() -> None:
    assert intensity_entropy(np.full((4, 5, 5), 0.3)) == 0.0
    half = np.zeros((2, 10, 10))
    half[0] = 1.0
    assert intensity_entropy(half) == pytest.approx(1.0)
    ramp = (np.arange(256 * 4) // 4 / 255.0).reshape(4, 16, 16)  # every 8-bit level equally often
    assert intensity_entropy(ramp) == pytest.approx(8.0)
    assert intensity_entropy(ramp, bins=16) == pytest.approx(4.0)


def test_spatial_coverage_known_images() -> None:
    images = np.zeros((2, 8, 8), dtype=np.float32)
    images[0, 1, 2] = 1.0
    images[1, 5, 6] = 1.0
    images[1, 1, 2] = 0.5
    cover = spatial_coverage(images)
    assert cover["lit_fraction"] == pytest.approx(2 / 64)
    assert cover["mean_map"][1, 2] == pytest.approx(0.75) and cover["mean_map"][5, 6] == pytest.approx(0.5)
    assert cover["variance_map"][1, 2] == pytest.approx(0.0625) and cover["variance_map"][5, 6] == pytest.approx(0.25)
    assert cover["lit_map"].sum() == 2 and cover["mean_map"].shape == (8, 8)
    assert cover["centroid_row"] == pytest.approx((1 * 0.75 + 5 * 0.5) / 1.25)
    streamed = CoverageAccumulator()
    streamed.update(images[:1])
    streamed.update(images[1:])
    np.testing.assert_allclose(streamed.result()["variance_map"], cover["variance_map"])


def test_label_sharpness_of_linear_maps() -> None:
    rng = np.random.default_rng(2)
    x = rng.normal(size=(200, 30))
    assert label_sharpness(x, 2.5 * x, n_pairs=5000, seed=0) == pytest.approx(2.5)
    a = rng.normal(size=(10, 30))
    sigma_max = np.linalg.svd(a, compute_uv=False)[0]
    k = label_sharpness(x, x @ a.T, n_pairs=100_000, seed=0)  # all 19900 pairs
    assert k <= sigma_max * (1 + 1e-12)
    top = np.linalg.svd(a)[2][0]
    along = rng.normal(size=(50, 1)) * top  # differences along the top singular vector reach the bound
    assert label_sharpness(along, along @ a.T, n_pairs=1000, seed=0) == pytest.approx(sigma_max)
    repeated = np.concatenate([x[:5], x[:5]])  # identical speckles with different targets: skipped, not infinite
    y = rng.normal(size=(10, 4))
    assert np.isfinite(label_sharpness(repeated, y, n_pairs=1000))
    assert np.isnan(label_sharpness(np.zeros((3, 4)), y[:3]))


def test_target_set_stats_numbers() -> None:
    rng = np.random.default_rng(0)
    images = rng.random((200, 6, 6)).astype(np.float32)
    dmd = np.zeros((200, 16, 16), np.float32)
    dmd[:, 4:10, 2:8] = images
    stats = target_set_stats(images, dmd, seed=0)
    assert stats["n_targets"] == 200 and stats["intrinsic_dimension_k"] == 20
    assert 10 < stats["intrinsic_dimension_mle"] < 36
    assert stats["coverage_lit_fraction"] == pytest.approx(36 / 256)
    assert stats["coverage_centroid_row"] == pytest.approx(6.5, abs=0.1)
    assert all(isinstance(v, float) for v in stats.values())
    assert "coverage_lit_fraction" not in target_set_stats(images, None)
