"""The homogeneity measure reads coverage maps and accounts for strength; the homogenising transform keeps the
character, lights at least its floor and spreads the set over the box."""

from __future__ import annotations

import numpy as np

from speckle_lab.acquisition.targets import open_source, prepare
from speckle_lab.acquisition.targets.homogeneity import (
    INK_THRESHOLD,
    MIN_LIT_FRACTION,
    OVERHANG,
    HomogeniseParams,
    homogeneity_of,
    homogenise,
    ink_box,
)


def test_a_set_that_never_lights_the_border_is_less_homogeneous_than_one_that_lights_everything() -> None:
    rng = np.random.default_rng(0)
    centred = np.zeros((400, 12, 12), np.float32)
    centred[:, 3:9, 3:9] = rng.random((400, 6, 6))
    everywhere = rng.random((400, 12, 12)).astype(np.float32)
    inner, full = homogeneity_of(centred), homogeneity_of(everywhere)
    assert inner["exercised_fraction"] == 36 / 144 and inner["evenness"] == 0.0 and inner["homogeneity"] == 0.0
    # uniform [0, 1] levels: variance 1/12 everywhere, a third of the most a level can vary (0.25)
    assert full["evenness"] > 0.8 and abs(full["homogeneity"] - 1 / 3) < 0.05
    assert homogeneity_of(everywhere, (0, 0, 6, 6))["homogeneity"] > 0.25


def test_the_score_accounts_for_strength_an_even_but_weak_set_scores_low() -> None:
    """Mostly dark frames exercise every macropixel evenly but weakly: evenness stays high, the score falls with
    the strength (the first homogenised digits were blank in 17 % of frames and rated best of all)."""
    rng = np.random.default_rng(1)
    strong = (rng.random((2000, 12, 12)) < 0.5).astype(np.float32)
    weak = strong * (rng.random((2000, 1, 1)) < 0.05)  # 95 % of the frames blank
    h_strong, h_weak = homogeneity_of(strong), homogeneity_of(weak)
    assert h_weak["evenness"] > 0.6 and h_strong["evenness"] > 0.8
    assert h_strong["homogeneity"] > 0.9 and h_weak["homogeneity"] < 0.1


def test_homogenise_keeps_the_character_and_places_it_at_its_position() -> None:
    image = np.zeros((20, 20), np.float32)
    image[5:15, 6:14] = 1.0  # a 10x8 block: half the box's side, 20 % of it lit (over the floor)
    top_left = homogenise(image, HomogeniseParams(scale=0.5, row=OVERHANG / (1 + 2 * OVERHANG), col=0.5))
    np.testing.assert_allclose(top_left, np.roll(image, -5, axis=0), atol=1e-6)  # whole, at the top edge
    corner = homogenise(image, HomogeniseParams(scale=1.0, row=0.0, col=0.0))
    assert corner.sum() >= (1 - OVERHANG) ** 2 * image.sum() - 1e-6  # at most OVERHANG of it outside each way
    assert homogenise(np.zeros((20, 20), np.float32), HomogeniseParams(0.7, 0.5, 0.5)).sum() == 0


def test_a_thin_character_grows_until_it_lights_the_floor() -> None:
    image = np.zeros((28, 28), np.float32)
    image[4:24, 13:15] = 1.0  # a thin stroke: 40 of 784 pixels
    out = homogenise(image, HomogeniseParams(scale=0.7, row=0.5, col=0.5))
    assert np.mean(out >= INK_THRESHOLD) >= MIN_LIT_FRACTION or ink_box(out).shape[0] == 28


def test_homogenised_digits_light_every_frame_and_exercise_the_box_better_than_digits_and_faces() -> None:
    """Measured on bundled MNIST at 16x16: no blank frame, each frame over the floor, and a homogeneity above
    the plain digits' (0: their border never lights) and the augmented faces'."""
    digits = open_source("mnist", 7)
    homogenised = open_source("augment:copies=1:bases=0-399:mode=homogenise:mnist", 7)
    faces = open_source("augment:copies=4:bases=0-79:lfw", 7)
    raw = np.stack([prepare(digits.image(int(digits.__len__() - 1 - i)), (16, 16)) for i in range(400)])
    spread = np.stack([prepare(homogenised.image(i), (16, 16)) for i in range(400)])
    face = np.stack([prepare(faces.image(i), (16, 16)) for i in range(320)])
    lit = (spread >= INK_THRESHOLD).mean(axis=(1, 2))
    assert lit.min() >= MIN_LIT_FRACTION * 0.8  # the floor, up to the resize to 16x16
    h = homogeneity_of(spread)
    assert h["homogeneity"] > homogeneity_of(face)["homogeneity"] > homogeneity_of(raw)["homogeneity"]
    assert h["exercised_fraction"] > 0.95


def test_enlarged_digits_grow_about_the_centre_within_1_to_1_3() -> None:
    source = open_source("augment:copies=1:bases=0-49:mode=enlarge:mnist", 7)
    for i in range(50):
        scale = source.params(i).scale
        assert 1.0 <= scale <= 1.3
        base = source.base.image(source.base_of(i))
        grown = source.image(i)
        assert grown.shape == base.shape
        rows = np.nonzero(grown.max(axis=1) > INK_THRESHOLD)[0]
        base_rows = np.nonzero(base.max(axis=1) > INK_THRESHOLD)[0]
        if len(base_rows):
            assert rows.max() - rows.min() + 1 >= (base_rows.max() - base_rows.min() + 1) * min(scale, 1.2) - 2
