"""Training from the panel: stopped on request (the finished epochs are kept and evaluated), and its
refusals and failures shown in the banner."""

from __future__ import annotations

from pathlib import Path

from gui_helpers import fill_training

from speckle_lab.acquisition.plan import plan_from_dict
from speckle_lab.lab.capture_service import run_plan


def test_training_stops_on_request_and_keeps_its_epochs(qtbot, open_window, bench_file: Path, tmp_path: Path) -> None:
    data = tmp_path / "data.h5"
    plan = {"targets": "digits", "n_frames": 300, "target_rows": 16, "target_cols": 16, "display": "threshold"}
    assert run_plan(plan_from_dict(plan), data, bench_file).ok
    window = open_window(bench_file)
    panel = window.training
    panel.data.add_paths([data])
    fill_training(window, tmp_path / "run", epochs=500)
    panel.settings_card.start.click()
    qtbot.waitUntil(lambda: len(panel.epochs_seen) >= 1, timeout=30_000)
    assert panel.settings_card.stop.isEnabled()
    panel.settings_card.stop.click()
    qtbot.waitUntil(lambda: not window.controller.training_busy, timeout=30_000)
    assert panel.last_done["stop_reason"] == "stopped"
    assert 1 <= panel.last_done["epochs_completed"] < 500
    assert any("training: stop requested by the operator" in line for line in window.log_panel.lines)
    assert panel.evaluation.table.rowCount() == 1  # the best net so far, on the run's test split
    assert panel.settings_card.run_dir.text() != str(tmp_path / "run")  # a fresh folder for the next run


def test_training_problems_show_in_the_banner(qtbot, open_window, bench_file: Path, tmp_path: Path) -> None:
    window = open_window(bench_file)
    panel = window.training
    panel.settings_card.start.click()  # no data yet
    qtbot.waitUntil(lambda: "No data to train on" in window.banner.text(), timeout=5000)

    panel.data.add_paths([tmp_path / "missing.h5"])
    fill_training(window, tmp_path / "run")
    panel.settings_card.start.click()
    qtbot.waitUntil(lambda: window.controller.training_busy, timeout=5000)
    qtbot.waitUntil(lambda: not window.controller.training_busy, timeout=30_000)
    assert "Training stopped with an error" in window.banner.text()
    assert "missing.h5" in window.banner.text() and "Traceback" not in window.banner.text()
    qtbot.waitUntil(lambda: any("training failed" in line for line in window.log_panel.lines), timeout=5000)
    assert any("missing.h5" in line and "training failed" in line for line in window.log_panel.lines)  # in the log
