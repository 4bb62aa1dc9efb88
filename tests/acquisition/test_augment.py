"""Seeded augmentation: regenerable per target, identity splits without leaks, clear spec errors."""

from __future__ import annotations

import numpy as np
import pytest

from speckle_lab.acquisition.targets import TargetSpecError, open_source
from speckle_lab.acquisition.targets.augment import IDENTITY, AugmentParams, augment, draw_params
from speckle_lab.acquisition.targets.selection import choose_indices

BASE = "blobs:size=16:n=60"


def test_the_same_spec_and_seed_regenerate_every_target_and_a_new_seed_changes_them() -> None:
    a, b = open_source(f"augment:copies=5:{BASE}", 3), open_source(f"augment:copies=5:{BASE}", 3)
    other = open_source(f"augment:copies=5:{BASE}", 4)
    assert len(a) == 300
    for i in (1, 7, 299):
        np.testing.assert_array_equal(a.image(i), b.image(i))
        assert a.params(i) == b.params(i)
    assert not np.array_equal(a.image(7), other.image(7)) or a.params(7) != other.params(7)


def test_copy_zero_is_the_base_image_and_the_others_are_distinct() -> None:
    source = open_source(f"augment:copies=4:{BASE}", 0)
    base = source.base.image(source.base_of(0))
    np.testing.assert_array_equal(source.image(0), base)
    images = np.stack([source.image(i) for i in range(4)]).reshape(4, -1)
    assert len(np.unique(images.round(6), axis=0)) == 4
    for i in range(1, 4):
        assert source.base_of(i) == source.base_of(0) and source.params(i) != IDENTITY


def test_parameters_depend_only_on_seed_base_and_copy() -> None:
    """A frame's target does not change when the set holds more bases or copies: the file's plan regenerates it."""
    small = open_source(f"augment:copies=3:bases=0-9:{BASE}", 5)
    large = open_source(f"augment:copies=3:bases=0-19:{BASE}", 5)
    for i in range(30):
        assert small.base_of(i) == large.base_of(i)
        np.testing.assert_array_equal(small.image(i), large.image(i))
    assert draw_params(5, 2, 1) == draw_params(5, 2, 1) != draw_params(5, 2, 2)


def test_identity_split_train_and_test_bases_are_disjoint_and_match_the_plan_order() -> None:
    """bases are positions in the seeded order a plan with the same seed uses, so `bases=80-99` and a plain
    source with target_offset 80 show the same, unseen, identities."""
    seed = 7
    train = open_source(f"augment:copies=10:bases=0-39:{BASE}", seed)
    test = open_source(f"augment:copies=2:bases=40-59:{BASE}", seed)
    train_ids = {train.base_of(i) for i in range(len(train))}
    test_ids = {test.base_of(i) for i in range(len(test))}
    assert len(train_ids) == 40 and len(test_ids) == 20 and not train_ids & test_ids
    assert test_ids == set(choose_indices(60, 60, seed)[40:].tolist())


def test_augment_keeps_shape_and_range_and_mirror_flips() -> None:
    image = np.zeros((20, 20), np.float32)
    image[5:15, 2:6] = 1.0
    mirrored = augment(image, AugmentParams(mirror=True))
    np.testing.assert_allclose(mirrored, image[:, ::-1])
    out = augment(image, AugmentParams(zoom=1.2, shift_row=0.05, angle_deg=8, gamma=1.3))
    assert out.shape == image.shape and out.dtype == np.float32 and out.min() >= 0 and out.max() <= 1


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("augment:lfw", "copies=N"),
        ("augment:copies=x:lfw", "not an integer"),
        ("augment:copies=2:bases=9-3:lfw", "A <= B"),
        ("augment:copies=2:bases=0-500:lfw", "has 100 images"),
        ("augment:copies=2:mode=warp:lfw", "mode"),
    ],
)
def test_bad_specs_say_what_was_expected(spec: str, message: str) -> None:
    with pytest.raises(TargetSpecError, match=message):
        open_source(spec)
