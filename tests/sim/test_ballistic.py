"""Ballistic light: eta = 0 leaves the medium unchanged, eta = 1 images the DMD, eta is the intensity share."""

from __future__ import annotations

import numpy as np
import pytest

from speckle_lab.sim.ballistic import BallisticMixture, imaging_matrix, with_ballistic
from speckle_lab.sim.medium import RandomTransmissionMatrix


def _medium(seed: int = 3) -> RandomTransmissionMatrix:
    return RandomTransmissionMatrix(8 * 8, (16, 16), seed, grain_px=1.0)


def test_eta_zero_is_the_scattering_medium_itself() -> None:
    medium = _medium()
    assert with_ballistic(medium, 0.0) is medium


def test_eta_one_images_each_macropixel_on_its_own_camera_patch_and_shifts_with_it() -> None:
    mixed = BallisticMixture(_medium(), 1.0)
    pattern = np.zeros((1, 64), np.float32)
    pattern[0, 2 * 8 + 3] = 1.0  # macropixel (2, 3)
    image = mixed.intensities(pattern).reshape(16, 16)
    assert np.count_nonzero(image) == 4 and image[4:6, 6:8].min() == pytest.approx(1.0)
    shifted = np.roll(pattern.reshape(8, 8), 2, axis=1).reshape(1, 64)
    np.testing.assert_allclose(mixed.intensities(shifted).reshape(16, 16), np.roll(image, 4, axis=1))


@pytest.mark.parametrize("eta", [0.0, 0.3, 0.7])
def test_the_ballistic_share_of_the_mean_intensity_is_eta(eta: float) -> None:
    """All macropixels on: mean intensity 1 for any eta; the direct image carries eta of it."""
    rng = np.random.default_rng(0)
    patterns = (rng.random((200, 64)) < 0.5).astype(np.float32)
    means = [
        BallisticMixture(_medium(seed), eta).intensities(np.ones((1, 64), np.float32)).mean() for seed in range(20)
    ]
    assert np.mean(means) == pytest.approx(1.0, abs=0.05)
    mixed = BallisticMixture(_medium(), eta)
    direct = patterns @ imaging_matrix(8, (16, 16))  # ballistic field = direct image (amplitude)
    total = mixed.intensities(patterns)
    ballistic_share = eta * np.mean(direct**2) / np.mean(total)
    assert ballistic_share == pytest.approx(eta, abs=0.06)


def test_eta_outside_zero_one_is_refused() -> None:
    with pytest.raises(ValueError, match="eta"):
        BallisticMixture(_medium(), 1.5)


def test_a_bench_with_ballistic_light_builds_and_describes_its_medium() -> None:
    """The study's ballistic condition: the band-limited default must not meet the dense mixing (it did)."""
    from speckle_lab.lab.bench import build_medium
    from speckle_lab.lab.bench_config import BenchConfig

    config = BenchConfig().with_changes(
        dmd={"macropixel_mirrors": 8, "side_macropixels": 16},
        camera={"rows": 32, "cols": 32},
        medium={"ballistic_fraction": 0.3},
    )
    medium = build_medium(config)
    described = medium.describe()
    assert described["ballistic_fraction"] == 0.3 and len(described["checksum_sha256"]) == 64
    assert medium.matrix.shape == (16 * 16, 2 * 32 * 32)


def test_a_band_limited_medium_is_refused_with_the_reason() -> None:
    """Mixing needs a matrix to every camera pixel; pupil modes are refused in one line, not by a shape error."""
    band = RandomTransmissionMatrix(16 * 16, (32, 32), seed=3, grain_px=2.0, representation="band_limited")
    with pytest.raises(ValueError, match="dense"):
        BallisticMixture(band, 0.3)
