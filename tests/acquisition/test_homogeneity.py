"""The homogeneity measure reads coverage maps; the homogenising transform spreads content evenly."""

from __future__ import annotations

import numpy as np

from speckle_lab.acquisition.targets import open_source
from speckle_lab.acquisition.targets.homogeneity import HomogeniseParams, homogeneity_of, homogenise


def test_a_set_that_never_lights_the_border_is_less_homogeneous_than_one_that_lights_everything() -> None:
    rng = np.random.default_rng(0)
    centred = np.zeros((400, 12, 12), np.float32)
    centred[:, 3:9, 3:9] = rng.random((400, 6, 6))
    everywhere = rng.random((400, 12, 12)).astype(np.float32)
    inner, full = homogeneity_of(centred), homogeneity_of(everywhere)
    assert inner["exercised_fraction"] == 36 / 144 and inner["evenness"] == 0.0
    assert full["homogeneity"] > 0.8 and full["strength"] > 0.07  # uniform [0, 1] has variance 1/12
    assert homogeneity_of(everywhere, (0, 0, 6, 6))["homogeneity"] > 0.8


def test_homogenised_digits_cover_the_box_evenly() -> None:
    """Theory: a box of width w with its edge uniform in [-w, L] covers every column with probability w/(L+w)."""
    digits = open_source("digits")  # 8x8 scikit-learn digits: ink centred, borders often dark
    homogenised = open_source("augment:copies=3:bases=0-299:mode=homogenise:digits", 1)
    raw = np.stack([digits.image(i) for i in range(900)])
    spread = np.stack([homogenised.image(i) for i in range(900)])
    assert homogeneity_of(spread)["homogeneity"] > homogeneity_of(raw)["homogeneity"]
    assert homogeneity_of(spread)["evenness"] > 0.5


def test_homogenise_pastes_the_ink_box_at_its_position_and_crops_what_falls_outside() -> None:
    image = np.zeros((10, 10), np.float32)
    image[4:6, 4:6] = 1.0  # a 2x2 ink box
    out = homogenise(image, HomogeniseParams(scale=0.4, row=0.0, col=0.8))  # 4x4, its right half outside
    assert out.shape == (10, 10)
    np.testing.assert_allclose(out[0:4, 8:10], 1.0)
    assert out.sum() == 8
