"""The demo's study on a tiny design: every condition and repeat captured, every method fitted on whole-area
labels and scored over the region shown beside the mean image and the oracle; results.json holds every finding
for every method with its verdict, and validates against the results model; the report shows its evidence."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from speckle_lab.acquisition.targets import open_source
from speckle_lab.lab.study.design import MAIN_TESTS, MAIN_TRAINING, study_design, with_sizes
from speckle_lab.lab.study.findings import FINDING_IDS
from speckle_lab.lab.study.methods import MEAN_IMAGE, RIDGE, methods, net_kinds
from speckle_lab.lab.study.regime import speckle_modes
from speckle_lab.lab.study.report import write_report
from speckle_lab.lab.study.results import StudyResults
from speckle_lab.lab.study.runner import RESULTS_JSON, bench_config, run_study


@pytest.fixture(autouse=True)
def one_torch_thread():
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def tiny_design(repeats: int = 2):
    design = with_sizes(study_design(quick=True, repeats=repeats), {"train": 32, "test": 8, "probe": 48, "oracle": 48},
                        epochs=1, model={"depth": 2, "base_width": 4})  # fmt: skip
    camera = {"rows": 32, "cols": 32}  # a quarter of the pixels: the ridge fits cost a quarter
    return dataclasses.replace(design, net_layers={"depth": 2, "base_width": 4}, figures_per_pair=2,
                               bench_changes={**design.bench_changes, "camera": camera})  # fmt: skip


def test_tiny_study_writes_every_finding_for_every_method_and_the_evidence(tmp_path: Path) -> None:
    design = tiny_design()
    results = run_study(design, tmp_path, log=lambda _: None)
    report = write_report(design, results, tmp_path).read_text()
    stored = json.loads((tmp_path / RESULTS_JSON).read_text())
    assert StudyResults.model_validate(stored).study == "quick"
    assert stored["schema"] == "speckle-lab.study/2"
    stated = [m for m in methods() if m != MEAN_IMAGE]
    assert [(f["id"], f["method"]) for f in stored["findings"]] == [(i, m) for m in stated for i in FINDING_IDS]
    for f in stored["findings"]:
        assert f["verdict"] in ("holds", "fails", "undecided") and f["holds"] == (f["verdict"] == "holds")
        assert f["verdict"] == "undecided"  # two repeats never decide
        assert f["repeats"] == 2 and f["effect"] == pytest.approx(np.mean(f["effects"]))
        assert len(f["compares"]) == 2 and MEAN_IMAGE in next(iter(f["baselines"].values()))
    main = stored["conditions"]["main"]
    reps = main["repeats"]
    assert [r["medium_seed"] for r in reps] == [101, 102] and [r["bench_seed"] for r in reps] == [0, 1]
    for train in MAIN_TRAINING:
        for test in MAIN_TESTS:
            cell = main["summary"]["pcc"][train][test]
            assert set(cell) == set(methods())
            assert all(-1 <= cell[m]["mean"] <= 1 and len(cell[m]["values"]) == 2 for m in cell)
        maps = reps[0]["maps"][train]
        assert set(maps) == {*net_kinds(), RIDGE}
        assert np.asarray(maps[RIDGE]["quality"], float).shape == (design.side, design.side)
        assert {"agreement_all", "quality_roi"} <= set(maps[RIDGE]["means"])
        assert 0 <= main["summary"]["homogeneity"][train]["homogeneity"]["mean"] <= 1
        assert main["summary"]["homogeneity"][train]["d_data"]["mean"] > 0
    # the region net's ridge cannot answer where its labels were always dark: exactly 0 there
    assert main["summary"]["pcc"]["train_digits"]["test_digits_shifted"][RIDGE]["mean"] == 0
    assert set(main["summary"]["oracle_pcc"]) == set(MAIN_TESTS)
    assert {row["method"] for row in stored["region_shift"]} == set(stated)
    assert [row["train"] for row in stored["oracle"]] == list(MAIN_TRAINING)
    assert stored["regime"]["target_unknowns"] == 256
    assert (
        stored["regime"]["speckle_modes"] == speckle_modes(bench_config(design))
        and 200 < speckle_modes(bench_config(design)) < 230
    )  # pi r^2 N at a 2-pixel grain on 32x32 pixels
    for heading in (
        "## Findings",
        "## Cross-dataset PCC",
        "## Region shift",
        "## Distance to the system's own",
        "## The sets as the DMD showed them",
        "## Learning curves",
        "## Our scale against",
        "Regime:",
    ):
        assert heading in report, heading
    assert "not ground glass" in report
    for target in [line.split("](")[1].rstrip(")") for line in report.splitlines() if line.startswith("![")]:
        assert (tmp_path / target).exists(), target


def test_repeats_vary_medium_camera_noise_and_training_seed() -> None:
    design = study_design(quick=True)
    assert design.main.repeats == 3 and study_design(quick=False).main.repeats == 5
    first, second = bench_config(design, design.main, 0), bench_config(design, design.main, 1)
    assert first.medium.seed != second.medium.seed and first.bench.seed != second.bench.seed


def test_quick_is_the_first_repeats_of_the_full_main_condition() -> None:
    """Same plans and training: the full study's first three repeats are the quick study (lab/study/verdict.py)."""
    quick, full = study_design(quick=True), study_design(quick=False)
    assert quick.main.train == full.main.train and quick.main.training == full.main.training
    assert {d.key: d.plan for d in quick.datasets} == {d.key: d.plan for d in full.datasets}
    assert quick.bench_changes["dmd"] == full.bench_changes["dmd"]
    media = {c.name: c.medium for c in full.conditions}
    assert media["thin_diffuser"] == {"kind": "phase_screen", "geometry": "fourier"}
    assert {f"ballistic_{eta:g}" for eta in (0.1, 0.3, 0.6)} <= set(media)


def test_no_net_is_scored_on_its_own_training_targets() -> None:
    """Faces: training and test identities disjoint; digits: every training set below the test offset."""
    design = study_design(quick=True)
    plans = {d.key: d.plan for d in design.datasets}
    train_faces = open_source(plans["train_faces"].targets, plans["train_faces"].seed)
    test_faces = open_source(plans["test_faces"].targets, plans["test_faces"].seed)
    assert not {train_faces.base_of(i) for i in range(len(train_faces))} & {
        test_faces.base_of(i) for i in range(len(test_faces))
    }
    offset = plans["test_digits"].target_offset
    for key in ("train_digits", "train_digits_random"):
        assert plans[key].target_offset + plans[key].n_frames <= offset
    for key in ("train_digits_diverse", "train_digits_homogenised"):
        assert plans[key].targets.startswith(f"augment:copies=1:bases=0-{offset - 1}:")
    assert design.train.test_fraction == 0  # every score is on another set


def test_a_full_face_set_trains_on_new_faces_and_tests_on_later_ones() -> None:
    """With a large source (e.g. lfw:PATH), every training frame is a new face and the test faces come after."""
    design = study_design(quick=True, faces="lfw:/data/lfw.tgz", digits="mnist:/data/mnist")
    plans = {spec.key: spec.plan for spec in design.datasets}
    assert plans["train_faces"].targets == "lfw:/data/lfw.tgz" and plans["train_faces"].n_targets is None
    assert plans["test_faces"].target_offset == plans["train_faces"].n_frames
    assert plans["train_digits_homogenised"].targets.endswith(":mnist:/data/mnist")
    assert any("lfw:/data/lfw.tgz" in note for note in design.notes)
