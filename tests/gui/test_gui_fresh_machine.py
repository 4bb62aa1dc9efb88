"""The panel on a fresh machine: no data folder yet, no capture measured yet."""

from __future__ import annotations

from pathlib import Path

from gui_helpers import fill_plan


def test_a_fresh_home_gets_its_data_folder_and_a_first_estimate_from_the_bench_model(
    qtbot, open_window, bench_file: Path, tmp_path: Path, monkeypatch
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    window = open_window(bench_file)
    card = window.acquisition.plan_card
    data = home / "speckle-lab" / "data"
    assert data.is_dir() and card.out_path().parent == data  # created: Start works at once
    card.target_size.setValue(16)  # the test bench's DMD is 24 macropixels wide
    qtbot.waitUntil(lambda: "fits on the disk" in card.preflight.text(), timeout=10_000)
    assert card.start.isEnabled()
    # Before any capture: the bench's model. The simulated camera reads out in 5 ms, longer than the 40 µs
    # exposure and the DMD's 44 µs picture time: 10,000 rows take 50 s, not "0 min 00 s".
    assert window.controller.bench_info.readout_time_us == 5000.0
    text = card.preflight.text()
    assert "10,000 rows · about 0 min 50 s · " in text and "bench model: 5.0 ms a frame, the camera's readout" in text


def test_a_missing_folder_is_named_as_missing_and_can_be_created(
    qtbot, open_window, bench_file: Path, tmp_path: Path
) -> None:
    window = open_window(bench_file)
    card = window.acquisition.plan_card
    folder = tmp_path / "night" / "run-1"
    fill_plan(window, folder / "x.h5", 100)
    qtbot.waitUntil(lambda: "does not exist" in card.preflight.text(), timeout=5000)
    assert str(folder) in card.preflight.text() and "free" not in card.preflight.text()
    assert not card.start.isEnabled() and "Create the folder" in card.preflight.text()
    card.preflight.linkActivated.emit("create-folder")  # the link in the preflight line
    assert folder.is_dir()
    qtbot.waitUntil(lambda: "fits on the disk" in card.preflight.text(), timeout=5000)
    assert card.start.isEnabled() and "Create the folder" not in card.preflight.text()
