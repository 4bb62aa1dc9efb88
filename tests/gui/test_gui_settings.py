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


def test_live_view_levels_persist_between_sessions(qtbot, open_window, bench_file: Path, settings_path: Path) -> None:
    first = open_window(bench_file)
    view = first.devices.camera.view
    full_range = view.colour_bar.levels()
    assert full_range[0] == 0 and full_range[1] > 900  # a new settings file: the camera's whole range
    view.auto_levels.setChecked(False)
    view.colour_bar.region.setRegion([120.0, 870.0])  # what the end of a drag on the colour bar does
    assert tuple(view.colour_bar.levels()) == (120.0, 870.0)
    close_cleanly(qtbot, first)

    second = open_window(bench_file)  # waits for the bench, whose bit depth must not reset the levels
    view = second.devices.camera.view
    assert tuple(view.colour_bar.levels()) == (120.0, 870.0)
    view.auto_levels.setChecked(True)
    view.set_bit_depth(12)  # a camera (re)connected with auto levels on: still the operator's levels
    assert tuple(view.colour_bar.levels()) == (120.0, 870.0)
    view.set_manual_levels(10.0, 400.0)  # typed levels switch auto levels off and persist too
    assert not view.auto_levels.isChecked()
    close_cleanly(qtbot, second)

    third = open_window(bench_file)
    assert tuple(third.devices.camera.view.colour_bar.levels()) == (10.0, 400.0)
    assert not third.devices.camera.view.auto_levels.isChecked()
