"""Evaluation from the training page: one dialog (run and data together, checked before anything starts) and
result rows that say which run on which data, with mean ± std under the metric vocabulary's headers."""

from __future__ import annotations

from pathlib import Path

from gui_helpers import fill_training

from speckle_lab.acquisition.plan import plan_from_dict
from speckle_lab.gui.training_cards import METRICS
from speckle_lab.lab.capture_service import run_plan
from speckle_lab.model.metric_names import Metric

PLAN = {"targets": "digits", "target_rows": 16, "target_cols": 16, "display": "threshold"}


def test_evaluation_dialog_rows_name_run_and_data(qtbot, open_window, bench_file: Path, tmp_path: Path) -> None:
    train_file, other_file = tmp_path / "train.h5", tmp_path / "other.h5"
    assert run_plan(plan_from_dict({**PLAN, "n_frames": 200}), train_file, bench_file).ok
    assert run_plan(plan_from_dict({**PLAN, "n_frames": 60, "seed": 7}), other_file, bench_file).ok
    window = open_window(bench_file)
    panel = window.training
    table = panel.evaluation.table
    panel.data.add_paths([train_file])
    run_dir = tmp_path / "run-a"
    fill_training(window, run_dir, epochs=2)
    panel.settings_card.start.click()
    qtbot.waitUntil(lambda: table.rowCount() == 1 and not window.controller.training_busy, timeout=60_000)

    panel.evaluation.evaluate.click()
    dialog = panel.evaluation_dialog
    assert dialog is not None and dialog.isVisible()
    assert dialog.run_dir.text() == str(run_dir)  # the run just trained, and its data, are proposed
    assert dialog.paths() == [str(train_file)]
    dialog.files.clear()
    dialog.evaluate.click()  # refused in the dialog: nothing starts
    assert dialog.isVisible() and "at least one data file" in dialog.error.text()
    assert not window.controller.training_busy
    dialog.add_paths([tmp_path / "missing.h5"])
    dialog.evaluate.click()
    assert dialog.isVisible() and "missing.h5" in dialog.error.text()
    dialog.files.clear()
    dialog.add_paths([other_file])
    dialog.evaluate.click()
    assert not dialog.isVisible()
    assert "Evaluating run-a on other.h5" in panel.evaluation.status.text()
    qtbot.waitUntil(lambda: table.rowCount() == 2 and not window.controller.training_busy, timeout=60_000)

    headers = [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())]
    assert headers == ["Run", "Data", "Frames", *(Metric(key).short for key, _ in METRICS)]
    first, second = panel.evaluation.row_texts(0), panel.evaluation.row_texts(1)
    assert first[:2] == ["run-a", "train.h5"] and first[2].endswith(" test")
    assert second[:3] == ["run-a", "other.h5", "60 all"]
    assert first != second
    assert str(run_dir) in table.item(1, 0).toolTip()
    assert table.item(1, 1).toolTip() == str(other_file)  # the whole path
    assert table.item(0, 2).toolTip().endswith("frames: test split")
    for column in range(3, table.columnCount()):
        mean, std = (float(v) for v in table.item(1, column).text().split("±"))
        assert -1.0 <= mean <= 1.0 and std >= 0.0
    assert panel.evaluation.status.text() == ""
