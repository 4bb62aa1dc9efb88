"""Every fixed-placement set of the study: what the DMD shows inside the region is the ground truth, exactly, and
the DMD is dark outside it; the label the study trains on (the DMD image regenerated from the file) is what the
DMD showed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from speckle_lab.acquisition.rows import RowMaker
from speckle_lab.lab.bench import dmd_geometry
from speckle_lab.lab.bench_config import BenchConfig
from speckle_lab.lab.study.common import capture_plans
from speckle_lab.lab.study.design import study_design, with_sizes
from speckle_lab.lab.study.frames import read_bench_frames, region_pcc
from speckle_lab.lab.study.runner import bench_config

DESIGNS = {"quick": dict(quick=True), "full": dict(quick=False), "reference": dict(quick=False, scale="reference")}
FRAMES = 24


def _fixed_sets(name: str):
    design = study_design(**DESIGNS[name])
    geometry = dmd_geometry(BenchConfig().with_changes(**design.bench_changes))
    plans = {d.key: d.plan for d in design.datasets}
    for condition in design.conditions:
        plans |= condition.plans
    return geometry, [(k, p) for k, p in plans.items() if p.placement.mode == "fixed"]


@pytest.mark.parametrize("name", list(DESIGNS))
def test_the_dmd_shows_the_ground_truth_inside_the_region_and_nothing_else(name: str) -> None:
    geometry, fixed = _fixed_sets(name)
    assert {k for k, _ in fixed} >= {"train_faces", "train_digits", "train_digits_diverse", "train_digits_homogenised",
                                     "test_faces", "test_digits", "test_digits_shifted"}  # fmt: skip
    for key, plan in fixed:
        block = RowMaker(plan, geometry, geometry.mirror_shape).make(range(FRAMES))
        top, left = plan.placement.top, plan.placement.left
        rows, cols = plan.target_shape
        shown = block.levels.astype(np.float32)
        shown = shown / 255 if block.levels.dtype == np.uint8 else shown
        inside = shown[:, top : top + rows, left : left + cols]
        np.testing.assert_array_equal(inside, block.targets, err_msg=key)  # exactly the stored ground truth
        outside = shown.copy()
        outside[:, top : top + rows, left : left + cols] = 0
        assert not outside.any(), f"{key}: the DMD lights macropixels outside the region"
        assert np.asarray(block.fields["placement_scale"] == 1).all(), key  # nothing resized on the way


def test_diverse_digits_are_enlarged_in_the_ground_truth_itself() -> None:
    """The enlargement is in the target, not only on the DMD: the stored targets' ink spans more than the plain
    digits' (the old design enlarged the DMD image only, and its ground truth stayed the unscaled digit)."""
    geometry, fixed = _fixed_sets("quick")
    plans = dict(fixed)

    def ink_rows(key: str) -> float:
        targets = RowMaker(plans[key], geometry, geometry.mirror_shape).make(range(200)).targets
        return float(np.mean([np.ptp(np.nonzero(t.max(axis=1) > 0.1)[0]) for t in targets if t.max() > 0.1]))

    assert ink_rows("train_digits_diverse") > 1.08 * ink_rows("train_digits")


def test_the_label_read_back_from_a_file_is_the_dmd_image_and_is_scored_over_the_region_shown(tmp_path: Path) -> None:
    design = with_sizes(study_design(quick=True), {"train": 12, "test": 6})
    keys = ("train_digits_diverse", "train_digits_random")
    plans = [(k, design.dataset(k).plan) for k in keys]
    config = bench_config(design)
    paths = capture_plans(config, plans, tmp_path, log=lambda _: None)
    geometry = dmd_geometry(config)
    for key, plan in plans:
        frames = read_bench_frames(paths[key])
        block = RowMaker(plan, geometry, geometry.mirror_shape).make(range(plan.n_frames))
        np.testing.assert_allclose(frames.dmd, block.macropixels, atol=1e-6, err_msg=key)
        for (top, left, h, w), image in zip(frames.boxes, frames.dmd, strict=True):
            outside = image.copy()
            outside[top : top + h, left : left + w] = 0
            assert not outside.any()
        perfect = region_pcc(frames.dmd, frames.dmd, frames.boxes)
        assert np.allclose(perfect[frames.dmd.reshape(len(frames), -1).std(axis=1) > 0], 1.0, atol=1e-5)
        elsewhere = np.roll(frames.dmd, design.side // 2, axis=2)  # a right answer in the wrong place scores ~0
        assert np.abs(region_pcc(elsewhere, frames.dmd, frames.boxes)).mean() < 0.5
