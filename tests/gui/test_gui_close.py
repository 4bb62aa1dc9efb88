"""Closing the window in the middle of a capture: the capture stops after its block, the file stays valid
(status aborted, every committed row readable), the laser is off, the devices are closed."""

from __future__ import annotations

from pathlib import Path

from gui_helpers import close_cleanly, fill_plan

from speckle_lab.acquisition.datafile import CaptureReader


def test_closing_mid_capture_leaves_a_valid_file_and_the_laser_off(
    qtbot, open_window, bench_file: Path, tmp_path: Path
) -> None:
    window = open_window(bench_file)
    bench = window.controller.devices.bench
    lasers = []
    window.controller.laser.connect(lasers.append)
    window.show_page("Acquisition")
    out = tmp_path / "interrupted.h5"
    fill_plan(window, out, 50_000, reference_every=1000)
    window.acquisition.plan_card.display.setCurrentText("gray")  # 8 bit planes a frame: a slow capture
    window.acquisition.plan_card.start.click()
    update = lambda: window.acquisition.last_update  # noqa: E731
    qtbot.waitUntil(lambda: update() is not None and update().rows_done >= 256, timeout=20_000)
    assert bench.laser.emission  # the capture has the laser on

    close_cleanly(qtbot, window)

    assert window.closed_cleanly and not window.controller.capture_busy
    assert bench.laser.emission is False and bench.table.emitted_power_w == 0.0
    assert lasers[-1].emission is False
    assert not bench.camera.acquiring
    report = window.acquisition.reports[-1]
    assert report.status == "aborted"
    with CaptureReader(out) as reader:
        assert reader.status == "aborted"
        assert 256 <= reader.n_frames == report.rows_committed < 50_000
        assert reader.speckle(reader.n_frames - 1).shape == (32, 32)
        assert any(e["kind"] == "aborted" and "closed" in e["message"] for e in reader.events())


def test_the_window_shows_before_the_bench_opens_and_closes_at_once_then(qtbot, settings_path: Path) -> None:
    """Start-up (`open_panel`): the window first, the bench and the rest behind it; a window closed before it
    began to open the bench closes at once (and never opens it afterwards)."""
    from speckle_lab.gui.app import application, open_panel
    from speckle_lab.gui.settings import Settings

    application()
    window = open_panel(None, Settings.at(settings_path))
    assert window.isVisible() and window.controller.bench_info is None and not window.is_ready
    window.close()
    qtbot.waitUntil(lambda: window.closed_cleanly, timeout=5000)
    qtbot.wait(300)  # past the moment the loads behind the window were due
    assert window.controller.bench_info is None and not window.controller.devices.session.bench
    window.deleteLater()
