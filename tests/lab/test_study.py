"""The demo's study on a tiny design: every condition and repeat captured, trained and scored against both
baselines; results.json holds the five findings with their schema; the probe set and heat maps are sound."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from speckle_lab.acquisition.targets import open_source
from speckle_lab.acquisition.targets.probes import spot_image
from speckle_lab.lab.study.design import MAIN_TESTS, MAIN_TRAINING, probe_windows, study_design
from speckle_lab.lab.study.findings import FINDING_IDS, findings
from speckle_lab.lab.study.probes import quality_map, spot_positions
from speckle_lab.lab.study.report import write_report
from speckle_lab.lab.study.runner import run_study


@pytest.fixture(autouse=True)
def one_torch_thread():
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def tiny_design():
    design = study_design(quick=True, repeats=2)
    sizes = {"train": 32, "test": 8}
    datasets = tuple(
        dataclasses.replace(spec, plan={**spec.plan, "n_frames": sizes.get(spec.role, spec.plan["n_frames"])})
        for spec in design.datasets
    )
    train = {**design.train, "epochs": 1, "batch_size": 16, "model": {"depth": 2, "base_width": 4}}
    return dataclasses.replace(design, datasets=datasets, train=train, figures_per_pair=2)


def test_tiny_study_writes_the_findings_and_the_tables(tmp_path: Path) -> None:
    design = tiny_design()
    results = run_study(design, tmp_path, log=lambda _: None)
    report = write_report(design, results, tmp_path).read_text()
    stored = json.loads((tmp_path / "results.json").read_text())
    assert [f["id"] for f in stored["findings"]] == list(FINDING_IDS)
    for f in stored["findings"]:
        assert isinstance(f["holds"], bool) and f["repeats"] == 2 and len(f["effects"]) == 2
        assert f["spread"] >= 0 and f["effect"] == pytest.approx(np.mean(f["effects"]))
        assert len(f["compares"]) == 2 and "baselines" in f
    main = stored["conditions"]["main"]
    assert len(main["repeats"]) == 2 and main["repeats"][0]["medium_seed"] != main["repeats"][1]["medium_seed"]
    for train in MAIN_TRAINING:
        for test in MAIN_TESTS:
            cell = main["summary"]["pcc"][train][test]
            assert set(cell) == {"unet", "ridge", "mean_image"}
            assert all(-1 <= cell[m]["mean"] <= 1 and len(cell[m]["values"]) == 2 for m in cell)
        heat = np.asarray(main["repeats"][0]["heat_maps"][train]["unet"]["map"], float)
        assert heat.shape == (design.side, design.side) and not np.isnan(heat).any()
        assert 0 <= main["summary"]["homogeneity"][train]["homogeneity"]["mean"] <= 1
    for heading in ("## Findings", "## Cross-dataset PCC", "## Homogeneity", "## Where each net's mapping is valid"):
        assert heading in report
    for target in [line.split("](")[1].rstrip(")") for line in report.splitlines() if line.startswith("![")]:
        assert (tmp_path / target).exists(), target


def test_no_net_is_scored_on_its_own_training_targets() -> None:
    """Faces: training and test identities disjoint; digits: every training set below the test offset."""
    design = study_design(quick=True)
    plans = {d.key: d.plan for d in design.datasets}
    train_faces = open_source(plans["train_faces"]["targets"], plans["train_faces"]["seed"])
    test_faces = open_source(plans["test_faces"]["targets"], plans["test_faces"]["seed"])
    assert not {train_faces.base_of(i) for i in range(len(train_faces))} & {
        test_faces.base_of(i) for i in range(len(test_faces))
    }
    offset = plans["test_digits"]["target_offset"]
    for key in ("train_digits", "train_digits_diverse", "train_digits_random"):
        assert plans[key]["target_offset"] + plans[key]["n_frames"] <= offset
    assert plans["train_digits_homogenised"]["targets"].startswith(f"augment:copies=1:bases=0-{offset - 1}:")
    assert design.train["test_fraction"] == 0  # no `own` split: every score is on another set


def test_probe_windows_cover_the_active_area_and_positions_are_recovered() -> None:
    windows = probe_windows(32, 12)
    covered = np.zeros((32, 32), bool)
    for top, left in windows:
        covered[top : top + 12, left : left + 12] = True
    assert covered.all()
    rng = np.random.default_rng(0)
    truth = rng.permutation(144)
    targets = np.stack([spot_image(12, *divmod(int(i), 12), 1) for i in truth])
    np.testing.assert_array_equal(spot_positions(targets), np.stack(np.divmod(truth, 12), axis=1))


def test_quality_map_is_high_where_the_mapping_holds_and_low_elsewhere() -> None:
    """A 'net' that reconstructs only probes in the left half of the area: the map shows exactly that."""
    side, size = 24, 12
    windows = []
    for top, left in probe_windows(side, size):
        targets = np.stack([spot_image(size, r, c, 1) for r in range(size) for c in range(size)])
        speckle = targets * (1.0 if left < side // 2 else 0.0) + np.random.default_rng(top + left).random(targets.shape)
        windows.append(((top, left), speckle, targets))
    heat = quality_map(side, windows, lambda s: s)
    assert np.nanmean(heat[:, :12]) > 0.5 and abs(np.nanmean(heat[:, 12:])) < 0.15


def test_findings_follow_the_two_spread_rule() -> None:
    def repeat(fd: float, df: float) -> dict:
        cell = {"unet": 0.0, "ridge": 0.0, "mean_image": 0.0}
        pcc = {t: {s: dict(cell) for s in MAIN_TESTS} for t in MAIN_TRAINING}
        pcc["train_faces"]["test_digits"]["unet"] = fd
        pcc["train_digits"]["test_faces"]["unet"] = df
        return {"pcc": pcc}

    clear = findings([repeat(0.5, 0.2), repeat(0.52, 0.21), repeat(0.49, 0.2)])[0]
    assert clear["id"] == "faces_vs_digits" and clear["holds"] and clear["effect"] == pytest.approx(0.3, abs=0.01)
    noisy = findings([repeat(0.5, 0.2), repeat(0.1, 0.3)])[0]
    assert not noisy["holds"] and noisy["spread"] > noisy["effect"] / 2


def test_a_full_face_set_trains_on_new_faces_and_tests_on_later_ones() -> None:
    """With a large source (e.g. lfw:PATH), every training frame is a new face and the test faces come after."""
    design = study_design(quick=True, faces="lfw:/data/lfw.tgz", digits="mnist:/data/mnist")
    plans = {spec.key: spec.plan for spec in design.datasets}
    assert plans["train_faces"]["targets"] == "lfw:/data/lfw.tgz" and plans["train_faces"]["n_targets"] is None
    assert plans["test_faces"]["target_offset"] == plans["train_faces"]["n_frames"]
    assert plans["train_digits_homogenised"]["targets"].endswith(":mnist:/data/mnist")
    assert any("lfw:/data/lfw.tgz" in note for note in design.notes)
