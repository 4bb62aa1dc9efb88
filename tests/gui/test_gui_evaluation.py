"""Evaluation from the training page: one dialog (run and data together, checked before anything starts) and
result rows that say which run on which data, with mean ± std under the metric vocabulary's headers."""

from __future__ import annotations

from pathlib import Path

from gui_helpers import fill_training

from speckle_lab.acquisition.plan import plan_from_dict
from speckle_lab.gui.training_cards import METRICS
from speckle_lab.lab.capture_service import run_plan
from speckle_lab.lab.logging_setup import rotating_user_log, stop_logging
from speckle_lab.model.metric_names import Metric

PLAN = {"targets": "digits", "target_rows": 16, "target_cols": 16, "display": "threshold"}


def test_evaluation_dialog_rows_name_run_and_data(qtbot, open_window, bench_file: Path, tmp_path: Path) -> None:
    train_file, other_file = tmp_path / "train.h5", tmp_path / "other.h5"
    assert run_plan(plan_from_dict({**PLAN, "n_frames": 200}), train_file, bench_file).ok
    assert run_plan(plan_from_dict({**PLAN, "n_frames": 60, "seed": 7}), other_file, bench_file).ok
    log_path, log_handler = rotating_user_log(tmp_path / "log")  # the panel's log file, as `speckle-lab gui` has it
    try:
        _train_and_evaluate(qtbot, open_window, bench_file, tmp_path, train_file, other_file)
    finally:
        stop_logging(log_handler)
    logged = log_path.read_text()
    for line in (
        f"training: started: {tmp_path / 'run-a'} on train.h5 (model unet, 2 epochs",
        "training: epoch 1 of 2: loss",
        "training: epoch 2 of 2: loss",
        "training: ended (completed) after 2 epochs",
        f"evaluation: started: {tmp_path / 'run-a'} on other.h5",
        "(60 frames, all frames): PCC",
    ):
        assert line in logged, line


def _train_and_evaluate(
    qtbot, open_window, bench_file: Path, tmp_path: Path, train_file: Path, other_file: Path
) -> None:
    window = open_window(bench_file)
    panel = window.training
    table = panel.evaluation.table
    panel.data.add_paths([train_file])
    run_dir = tmp_path / "run-a"
    fill_training(window, run_dir, epochs=2)
    panel.settings_card.start.click()
    qtbot.waitUntil(lambda: table.rowCount() == 1 and not window.controller.training_busy, timeout=60_000)
    # the run just trained is proposed on the Reconstruct page, with the file its plan is read from
    assert window.reconstruct.run_dir.text() == str(run_dir)
    assert window.reconstruct.data_file.text() == str(train_file)
    assert "run-a" in window.reconstruct.run_status.text() and "Load" in window.reconstruct.run_status.text()
    lines = window.log_panel.lines
    assert any("training: ended (completed) after 2 epochs" in line for line in lines)

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
    assert headers == ["Run", "Data", *(Metric(key).short for key, _ in METRICS)]
    first, second = panel.evaluation.row_texts(0), panel.evaluation.row_texts(1)
    assert first[0] == "run-a" and first[1].startswith("train.h5\n") and first[1].endswith(" test")
    assert second[:2] == ["run-a", "other.h5\n60 all"]
    assert first != second
    assert str(run_dir) in table.item(1, 0).toolTip()
    assert table.item(1, 1).toolTip().startswith(f"{other_file}\n")  # the whole path
    assert table.item(0, 1).toolTip().endswith("frames: test split")
    for column in range(2, table.columnCount()):
        mean, std = (float(v) for v in table.item(1, column).text().split("±"))
        assert -1.0 <= mean <= 1.0 and std >= 0.0
    assert panel.evaluation.status.text() == ""
