"""Preparation: gray, crop to the target's aspect, anti-aliased resize, [0, 1], binarisation."""

from __future__ import annotations

import numpy as np
import pytest

from speckle_lab.acquisition.targets import open_source, prepare
from speckle_lab.acquisition.targets.prepare import floyd_steinberg, ordered_dither


def test_shape_range_and_dtype_for_every_bundled_kind() -> None:
    for spec in ("mnist", "lfw", "digits", "natural", "blobs", "binary"):
        image = prepare(open_source(spec).image(3), (32, 32))
        assert image.shape == (32, 32) and image.dtype == np.float32, spec
        assert image.min() == 0.0 and image.max() == pytest.approx(1.0), spec  # stretched to the full range


def test_centre_crop_keeps_aspect() -> None:
    wide = np.zeros((10, 30), dtype=np.uint8)
    wide[:, 10:20] = 255  # the centre square is all white, the sides black
    np.testing.assert_allclose(prepare(wide, (5, 5), normalize=False), 1.0)
    tall = np.zeros((30, 10, 3), dtype=np.uint8)
    tall[:10] = 255  # only the top third is white: the centred crop drops it
    assert prepare(tall, (10, 10), normalize=False).max() == 0.0
    assert prepare(np.ones((40, 20)), (20, 10), normalize=False).shape == (20, 10)


def test_downsampling_is_anti_aliased() -> None:
    stripes = np.tile([0.0, 1.0], (64, 32))  # a 1-pixel grating: aliasing would keep stripes
    small = prepare(stripes, (16, 16), normalize=False)
    assert small.std() < 0.05 and small.mean() == pytest.approx(0.5, abs=0.05)


def test_flat_image_does_not_divide_by_zero() -> None:
    np.testing.assert_allclose(prepare(np.full((8, 8), 0.4), (4, 4)), 0.4, atol=1e-6)


@pytest.mark.parametrize("mode", ["threshold", "dither", "ordered"])
def test_binarize_modes(mode: str) -> None:
    gradient = np.tile(np.linspace(0.0, 1.0, 64), (64, 1))
    binary = prepare(gradient, (64, 64), binarize=mode)
    assert set(np.unique(binary)) <= {0.0, 1.0} and binary.dtype == np.float32
    if mode != "threshold":  # dithering keeps the local gray level as a dot density
        np.testing.assert_allclose(
            binary.reshape(64, 8, 8).mean(axis=(0, 2)), gradient[0].reshape(8, 8).mean(1), atol=0.06
        )
    with pytest.raises(ValueError, match="unknown binarize mode"):
        prepare(gradient, (8, 8), binarize="halftone")


def test_dithers_preserve_mean() -> None:
    flat = np.full((40, 40), 0.3)
    assert floyd_steinberg(flat).mean() == pytest.approx(0.3, abs=0.01)
    assert ordered_dither(flat).mean() == pytest.approx(0.3, abs=0.02)
