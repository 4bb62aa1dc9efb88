"""Settings persist between sessions, in the settings file the window was given."""

from __future__ import annotations

from pathlib import Path

from gui_helpers import close_cleanly


def test_choices_persist_between_sessions(qtbot, open_window, bench_file: Path, settings_path: Path) -> None:
    first = open_window(bench_file)
    card = first.acquisition.plan_card
    card.targets.setCurrentText("lfw")
    card.n_frames.setValue(1234)
    card.placement.setCurrentText("random")
    card.power_mw.set_text("12.5")
    first.training.settings_card.epochs.setValue(7)
    first.training.data.add_paths(["/data/a.h5", "/data/b.h5"])
    first.devices.camera.view.auto_levels.setChecked(False)
    first.show_page("Training")
    close_cleanly(qtbot, first)
    assert settings_path.exists()

    second = open_window(bench_file)
    card = second.acquisition.plan_card
    assert card.targets.currentText() == "lfw"
    assert card.n_frames.value() == 1234
    assert card.placement.currentText() == "random"
    assert card.power_mw.value() == 12.5
    assert second.training.settings_card.epochs.value() == 7
    assert second.training.data.paths() == ["/data/a.h5", "/data/b.h5"]
    assert not second.devices.camera.view.auto_levels.isChecked()
    assert second.pages.currentWidget() is second.training
