"""The demo's study pipeline on a tiny design: every dataset captured, every net trained and evaluated,
report.md and results.json hold the cross-dataset table and the findings."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from lab.study.design import study_design
from lab.study.report import findings, write_report
from lab.study.runner import run_study


@pytest.fixture(autouse=True)
def one_torch_thread():
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def tiny_design():
    design = study_design(quick=True)
    datasets = tuple(
        dataclasses.replace(spec, plan={**spec.plan, "n_frames": 48 if spec.role == "train" else 16})
        for spec in design.datasets
    )
    return dataclasses.replace(design, datasets=datasets, train={**design.train, "epochs": 1, "batch_size": 16},
                               figures_per_pair=2)  # fmt: skip


def test_tiny_study_writes_the_cross_dataset_report(tmp_path: Path) -> None:
    design = tiny_design()
    results = run_study(design, tmp_path, log=lambda _: None)
    report = write_report(design, results, tmp_path).read_text()
    stored = json.loads((tmp_path / "results.json").read_text())
    assert set(stored["metrics"]) == {"train_faces", "train_digits", "train_digits_diverse"}
    for row in stored["metrics"].values():
        assert set(row) == {"own", "test_faces", "test_digits", "test_digits_shifted"}
        for cell in row.values():
            assert -1 <= cell["pcc"]["mean"] <= 1 and cell["pcc"]["std"] >= 0 and cell["n_frames"] > 0
    assert stored["datasets"]["train_faces"]["frames"] == 48
    assert stored["datasets"]["test_digits_shifted"]["plan"]["placement"]["left"] == 17
    for heading in ("## Cross-dataset results", "## Findings", "## Datasets and their diversity", "## Training"):
        assert heading in report
    for line in findings(stored):
        assert line.split(" [")[0] in report
    figures = {path.name for path in (tmp_path / "figures").iterdir()}
    assert "train_faces_on_test_digits_reconstructions.png" in figures
    for target in [line.split("](")[1].rstrip(")") for line in report.splitlines() if line.startswith("![")]:
        assert (tmp_path / target).exists(), target


def test_a_full_face_set_trains_on_new_faces_and_tests_on_later_ones() -> None:
    """With a large source (e.g. lfw:PATH), every training frame is a new face and the test faces come after."""
    design = study_design(quick=True, faces="lfw:/data/lfw.tgz", digits="mnist:/data/mnist")
    plans = {spec.key: spec.plan for spec in design.datasets}
    assert plans["train_faces"]["targets"] == "lfw:/data/lfw.tgz" and plans["train_faces"]["n_targets"] is None
    assert plans["test_faces"]["target_offset"] == plans["train_faces"]["n_frames"]
    assert plans["test_digits"]["target_offset"] == plans["train_digits"]["n_frames"]
    assert any("lfw:/data/lfw.tgz" in note for note in design.notes)
