"""The demo's `--scale reference`: 64x64 targets, 256x256 speckle, every plan placeable on its DMD."""

from __future__ import annotations

import numpy as np

from speckle_lab.acquisition.plan import CapturePlan
from speckle_lab.acquisition.rows import RowMaker
from speckle_lab.lab.bench import dmd_geometry
from speckle_lab.lab.bench_config import BenchConfig
from speckle_lab.lab.cli import main
from speckle_lab.lab.study.design import study_design


def test_reference_scale_design_places_64x64_targets_and_records_256x256_speckle() -> None:
    standard = study_design(quick=False)
    design = study_design(quick=False, scale="reference")
    config = BenchConfig().with_changes(**design.bench_changes)
    assert (config.camera.rows, config.camera.cols) == (256, 256) and config.sim.device == "auto"
    geometry = dmd_geometry(config)
    assert geometry.side_macropixels == 128 and design.target_size == 64
    assert design.train.device == "auto" and design.train.lr == 1e-4 and design.train.epochs == 50  # the recipe
    standard_frames = {d.key: d.plan.n_frames for d in standard.datasets}
    assert all(not d.key.startswith("probe") for d in design.datasets[: len(design.training_sets)])
    for dataset in design.datasets:
        plan = CapturePlan.model_validate(dataset.plan.model_dump())
        if dataset.role == "probe":  # a lit spot at every second macropixel of the whole 128x128 area
            assert plan.target_shape == (128, 128) and plan.n_frames == 64 * 64
        elif dataset.role == "oracle":  # random patterns over the whole area
            assert plan.target_shape == (128, 128) and plan.n_frames == 4 * standard_frames[dataset.key]
        else:
            assert plan.target_shape == (64, 64) and plan.n_frames == 4 * standard_frames[dataset.key]
        block = RowMaker(plan, geometry, geometry.mirror_shape).make(range(0, 4))
        assert block.levels.shape == (4, 128, 128) and block.targets.shape == (4, *plan.target_shape)
        assert np.any(block.levels), dataset.key  # the target reaches the DMD
    # The two regions stay apart: in-region targets on the left half, the shifted test set on the right.
    left = {d.key: d.plan.placement.left for d in design.datasets}
    assert left["test_digits"] + 64 <= left["test_digits_shifted"]


def test_reference_scale_is_not_a_quick_run(capsys) -> None:
    assert main(["demo", "--quick", "--scale", "reference", "--out", "unused"]) == 2
    assert "--quick and --scale reference" in capsys.readouterr().err
