"""Placement on the DMD's active area: seeded, inside the area, rendered where recorded, regenerable."""

from __future__ import annotations

import numpy as np
import pytest

from speckle_lab.acquisition.targets import (
    Placements,
    PlacementSpec,
    draw_placements,
    named_region,
    place_block,
    render,
    render_block,
    to_dmd_levels,
)
from speckle_lab.drivers import DmdGeometry

SIDE = 64
SHAPE = (28, 28)


def test_reproducible_from_seed_and_prefix_stable() -> None:
    spec = PlacementSpec(mode="random", scale_min=1.0, scale_max=1.5, gain_min=0.5, gradient_max=0.3, jitter_std=0.05)
    a = draw_placements(spec, 5000, seed=7, side_macropixels=SIDE, target_shape=SHAPE)
    b = draw_placements(spec, 5000, seed=7, side_macropixels=SIDE, target_shape=SHAPE)
    c = draw_placements(spec, 5000, seed=8, side_macropixels=SIDE, target_shape=SHAPE)
    short = draw_placements(spec, 10, seed=7, side_macropixels=SIDE, target_shape=SHAPE)
    for key, values in a.as_fields().items():
        np.testing.assert_array_equal(values, b.as_fields()[key])
        np.testing.assert_array_equal(values[:10], short.as_fields()[key])
    assert not np.array_equal(a.top, c.top) and not np.array_equal(a.jitter_seed, c.jitter_seed)
    assert len(np.unique(a.jitter_seed)) == 5000


def test_fields_for_the_data_file() -> None:
    p = draw_placements(PlacementSpec(mode="random"), 12, 0, SIDE, SHAPE)
    fields = p.as_fields()
    assert set(fields) == {
        "placement_top",
        "placement_left",
        "placement_height",
        "placement_width",
        "placement_scale",
        "placement_gain",
        "placement_gradient_x",
        "placement_gradient_y",
        "placement_jitter_std",
        "placement_jitter_seed",
    }
    assert fields["placement_top"].dtype == np.int32 and fields["placement_scale"].dtype == np.float32
    assert fields["placement_jitter_seed"].dtype == np.int64
    assert all(len(v) == 12 for v in fields.values())
    back = Placements.from_fields(fields)
    np.testing.assert_array_equal(back.gain, p.gain)
    np.testing.assert_array_equal(back.take(slice(3, 5)).top, p.top[3:5])


def test_random_positions_stay_inside_with_enlarged_targets() -> None:
    spec = PlacementSpec(mode="random", scale_min=1.0, scale_max=2.2)
    p = draw_placements(spec, 20_000, seed=1, side_macropixels=SIDE, target_shape=SHAPE)
    assert p.top.min() >= 0 and p.left.min() >= 0
    assert (p.top + p.height).max() <= SIDE and (p.left + p.width).max() <= SIDE
    np.testing.assert_array_equal(p.height, np.rint(28 * p.scale.astype(np.float64)).astype(np.int32))
    assert p.height.min() <= 30 and p.height.max() >= 60  # the whole scale range is explored
    # positions use the whole room: both extremes occur for unscaled targets
    unscaled = draw_placements(PlacementSpec(mode="random"), 20_000, 2, SIDE, SHAPE)
    assert unscaled.top.min() == 0 and unscaled.top.max() == SIDE - 28


def test_region_restricts_random_positions() -> None:
    region = named_region("left", SIDE)
    assert region == (0, 0, 64, 32)
    p = draw_placements(PlacementSpec(mode="random", region=region), 2000, 3, SIDE, SHAPE)
    assert p.left.min() >= 0 and (p.left + p.width).max() <= 32
    right = draw_placements(PlacementSpec(mode="random", region=named_region("right", SIDE)), 2000, 3, SIDE, SHAPE)
    assert right.left.min() >= 32


def test_fixed_default_centred_and_explicit() -> None:
    p = draw_placements(PlacementSpec(scale_min=1.0, scale_max=2.0), 500, 0, SIDE, SHAPE)
    np.testing.assert_array_equal(p.top, (SIDE - p.height) // 2)
    np.testing.assert_array_equal(p.left, (SIDE - p.width) // 2)
    q = draw_placements(PlacementSpec(top=3, left=30), 5, 0, SIDE, SHAPE)
    assert set(q.top) == {3} and set(q.left) == {30}


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (PlacementSpec(mode="random", scale_max=2.5), r"28x28 target at scale up to 2\.5 \(70x70 macropixels\)"),
        (PlacementSpec(top=40, left=0), r"at \(40, 0\) does not fit"),
        (PlacementSpec(mode="random", region=(0, 0, 20, 64)), r"does not fit the region"),
        (PlacementSpec(mode="random", region=(50, 0, 20, 64)), r"region .* does not fit the 64x64"),
    ],
)
def test_targets_that_cannot_fit(spec: PlacementSpec, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        draw_placements(spec, 10, 0, SIDE, SHAPE)


def test_invalid_specs() -> None:
    with pytest.raises(ValueError, match="scale_min <= scale_max"):
        PlacementSpec(scale_min=2.0, scale_max=1.0)
    with pytest.raises(ValueError, match="top/left are for mode 'fixed'"):
        PlacementSpec(mode="random", top=3)
    with pytest.raises(ValueError, match="neither 'fixed' nor 'random'"):
        PlacementSpec(mode="anywhere")  # type: ignore[arg-type]


def _digit_like() -> np.ndarray:
    target = np.zeros(SHAPE, dtype=np.float32)
    target[5:23, 11:17] = 1.0
    target[5:9, 8:20] = 0.6
    return target


def test_render_places_target_at_recorded_position() -> None:
    target = _digit_like()
    p = draw_placements(PlacementSpec(mode="random"), 50, 4, SIDE, SHAPE)
    for i in range(50):
        image, shown = render(target, p, i, SIDE)
        top, left = p.top[i], p.left[i]
        np.testing.assert_array_equal(image[top : top + 28, left : left + 28], shown)
        assert image.sum() == pytest.approx(shown.sum(), rel=1e-6)  # nothing outside the target's box
        np.testing.assert_allclose(shown, target, atol=0.5 / 255)  # no fluctuations: 8-bit levels of the target


def test_render_enlarged_centroid() -> None:
    target = _digit_like()
    rows, cols = np.indices(SHAPE)
    centroid = np.array([(rows * target).sum(), (cols * target).sum()]) / target.sum()
    p = draw_placements(PlacementSpec(mode="random", scale_min=1.5, scale_max=2.0), 30, 5, SIDE, SHAPE)
    for i in range(30):
        image, _ = render(target, p, i, SIDE)
        r, c = np.indices(image.shape)
        found = np.array([(r * image).sum(), (c * image).sum()]) / image.sum()
        scale = np.array([p.height[i] / 28, p.width[i] / 28])
        expected = np.array([p.top[i], p.left[i]]) + (centroid + 0.5) * scale - 0.5
        np.testing.assert_allclose(found, expected, atol=0.6)
        assert image.sum() == pytest.approx(target.sum() * scale.prod(), rel=0.05)


def test_fluctuations_are_seeded_and_stored() -> None:
    target = _digit_like()
    spec = PlacementSpec(mode="random", gain_min=0.3, gain_max=0.9, gradient_max=0.4, jitter_std=0.05)
    p = draw_placements(spec, 200, 6, SIDE, SHAPE)
    images, shown = render_block(np.repeat(target[None], 200, axis=0), p, None, SIDE)
    again, shown_again = render_block(np.repeat(target[None], 200, axis=0), p, None, SIDE)
    np.testing.assert_array_equal(shown, shown_again)
    np.testing.assert_array_equal(images, again)
    assert np.all(shown[:, target == 0] == 0)  # the dark background stays dark
    np.testing.assert_array_equal(np.rint(shown * 255) / 255, shown)  # exactly the DMD's 8-bit levels
    lit = shown[:, target == 1.0].mean(axis=1)
    np.testing.assert_allclose(lit, np.clip(p.gain, 0, 1), atol=0.05)  # mean over the stroke ~ gain
    assert p.gain.min() >= 0.3 and p.gain.max() <= 0.9
    assert np.hypot(p.gradient_x, p.gradient_y).max() <= 0.4 + 1e-6
    # a pure gradient (no gain change, no jitter): right edge brighter by gradient_x
    flat = np.full(SHAPE, 0.5, np.float32)
    q = draw_placements(PlacementSpec(gradient_max=0.4), 1, 0, SIDE, SHAPE)
    _, g = render(flat, q, 0, SIDE)
    assert g[14, -1] - g[14, 0] == pytest.approx(0.5 * 2 * q.gradient_x[0], abs=2 / 255)


def test_regenerate_dmd_image_from_stored_target() -> None:
    targets = np.stack([_digit_like(), np.rot90(_digit_like())])
    p = draw_placements(PlacementSpec(mode="random", scale_max=1.8, jitter_std=0.1), 2, 9, SIDE, SHAPE)
    for binarize in (None, "dither"):
        images, shown = render_block(targets, p, None, SIDE, binarize=binarize)
        np.testing.assert_array_equal(place_block(shown, p, None, SIDE, binary=binarize is not None), images)


def test_dmd_levels_and_mirrors() -> None:
    geometry = DmdGeometry((80, 90), 4, 6, 1, SIDE)
    p = draw_placements(PlacementSpec(mode="random", gain_min=0.2, gain_max=1.0), 3, 0, SIDE, SHAPE)
    gray_images, gray_shown = render_block(np.repeat(_digit_like()[None], 3, 0), p, None, SIDE)
    levels = to_dmd_levels(gray_images, binary=False)
    assert levels.dtype == np.uint8
    np.testing.assert_array_equal(levels[0, p.top[0] : p.top[0] + 28, p.left[0] : p.left[0] + 28], gray_shown[0] * 255)
    binary_images, binary_shown = render_block(np.repeat(_digit_like()[None], 3, 0), p, None, SIDE, "dither")
    assert set(np.unique(binary_shown)) <= {0.0, 1.0}
    bits = to_dmd_levels(binary_images, binary=True)
    assert bits.dtype == np.bool_ and bits.sum() == binary_shown.sum()
    mirrors = geometry.to_mirrors(bits)
    assert mirrors.shape == (3, 80, 90) and mirrors.sum() == bits.sum()


@pytest.mark.parametrize("binarize", [None, "threshold", "dither"])
def test_render_block_equals_render_frame_by_frame(binarize: str | None) -> None:
    """The vectorised block path the capture engine uses gives exactly what `render` gives per frame."""
    spec = PlacementSpec(mode="random", scale_min=1.0, scale_max=1.5, gain_min=0.6, gain_max=1.2,
                         gradient_max=0.3, jitter_std=0.05)  # fmt: skip
    placements = draw_placements(spec, 40, seed=3, side_macropixels=48, target_shape=(16, 16))
    targets = np.random.default_rng(0).random((40, 16, 16)).astype(np.float32) * (np.arange(16) > 4)
    images, shown = render_block(targets, placements, None, 48, binarize)
    for i in range(40):
        image, truth = render(targets[i], placements, i, 48, binarize)
        np.testing.assert_allclose(shown[i], truth, atol=1e-6)
        np.testing.assert_allclose(images[i], image, atol=1e-6)
