"""Training from the panel: stopped on request (the finished epochs are kept and evaluated), and its
refusals and failures shown in the banner."""

from __future__ import annotations

import json
from pathlib import Path

from gui_helpers import fill_training

from speckle_lab.acquisition.plan import plan_from_dict
from speckle_lab.gui.training_settings import NO_PRESET
from speckle_lab.lab.capture_service import run_plan
from speckle_lab.model.presets import PRESETS, preset_config
from speckle_lab.model.registry import entry, kind_names


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


def test_the_model_kind_and_recipe_say_what_runs_and_physics_trains_a_physics_net(
    qtbot, open_window, bench_file: Path, tmp_path: Path
) -> None:
    """Kinds and recipes come from their registries; the line under the form states the loss and the selection
    metric the trainer will use; a physics-first net chosen on the page is what trains, and its result line
    names the kind and the metric that picked its best epoch (PCC and Dice both shown)."""
    window = open_window(bench_file)
    card = window.training.settings_card
    assert card.width() > 0 and card.depth() > 0  # no field shadows QWidget.width() or QPaintDevice.depth()
    assert [card.kind.itemText(i) for i in range(card.kind.count())] == list(kind_names())
    assert [card.preset.itemText(i) for i in range(card.preset.count())] == [NO_PRESET, *PRESETS]

    card.preset.setCurrentText("reference")  # fills the form with the reference recipe
    reference = preset_config("reference")
    assert card.kind.currentText() == reference.model.kind and card.kernel.currentText() == "7"
    assert card.epochs.value() == reference.epochs and card.lr.value() == reference.lr
    assert card.train_config() == reference  # the form adds nothing the recipe does not say
    assert "recipe reference" in card.recipe.text() and "on validation Dice" in card.recipe.text()
    assert "0.5 MSE + 0.5 (1 − Dice)" in card.recipe.text()
    card.kernel.setCurrentText("5")
    assert "changed: kernel" in card.recipe.text() and card.train_config().selection_metric == "dice"

    card.preset.setCurrentText(NO_PRESET)
    card.kind.setCurrentText("physics")
    config = card.train_config()
    assert config.model.kind == "physics" and config.selection_metric == "pcc" and config.loss == "mse_npcc"
    assert entry("physics").summary in card.recipe.text() and "on validation PCC" in card.recipe.text()
    assert "0.5 MSE + 0.5 (1 − PCC)" in card.recipe.text() and "Dice" not in card.recipe.text()

    data = tmp_path / "data.h5"
    plan = {"targets": "digits", "n_frames": 96, "target_rows": 16, "target_cols": 16, "display": "threshold"}
    assert run_plan(plan_from_dict(plan), data, bench_file).ok
    window.training.data.add_paths([data])
    run = tmp_path / "run"
    fill_training(window, run, epochs=1, depth=1, width=4)
    assert card.kind.currentText() == "physics"
    card.start.click()
    qtbot.waitUntil(lambda: window.controller.training_busy, timeout=5000)
    qtbot.waitUntil(lambda: not window.controller.training_busy, timeout=60_000)
    done = window.training.last_done
    assert done is not None and done["model_kind"] == "physics" and done["selection_metric"] == "pcc"
    assert json.loads((run / "config.json").read_text())["model"]["kind"] == "physics"  # what the trainer ran
    line = card.status.text()
    assert line.startswith("physics: completed after 1 epochs") and "by validation PCC" in line
    assert f"PCC {done['best_val_pcc']:.3f}" in line and f"Dice {done['best_val_dice']:.3f}" in line
    assert any("physics: best epoch" in entry_ and "by validation PCC" in entry_ for entry_ in window.log_panel.lines)
