"""Closing the window in the middle of a capture: the capture stops after its block, the file stays valid
(status aborted, every committed row readable), the laser is off, the devices are closed."""

from __future__ import annotations

from pathlib import Path

import pytest
from gui_helpers import close_cleanly, fill_plan

from speckle_lab.acquisition.datafile import CaptureReader, CaptureWriter


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


@pytest.mark.parametrize("how", ["close the window", "LASER OFF"])
def test_closing_mid_capture_switches_the_light_off_at_once_as_laser_off_does(
    qtbot, open_window, bench_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    """Closing the panel takes the LASER OFF path: the light is off when `close()` returns, before the capture
    commits another block (it used to wait for the block in flight to end: 5.6 s measured). Asserted on the
    order of what happened (the simulated table's light, the writer's commits), not on wall time."""
    window = open_window(bench_file)
    out = tmp_path / "closing.h5"
    fill_plan(window, out, 3000, reference_every=1000)
    card = window.acquisition.plan_card
    card.display.setCurrentText("gray")  # 8 bit planes a frame and 2 ms frames: blocks that take a while
    card.exposure_us.set_text("2000")
    card.start.click()
    qtbot.waitUntil(lambda: (u := window.acquisition.last_update) is not None and u.rows_done >= 256, timeout=30_000)
    table = window.controller._lent_bench.table  # the simulated optical table: where the light is
    assert table.emitted_power_w > 0
    happened: list[str] = []
    publish = table.set_emitted_power_w
    monkeypatch.setattr(table, "set_emitted_power_w", lambda power_w: (happened.append(f"light {power_w:g}"),
                                                                      publish(power_w)))  # fmt: skip
    append_frames = CaptureWriter.append_frames
    monkeypatch.setattr(CaptureWriter, "append_frames", lambda self, rows: (happened.append("block committed"),
                                                                          append_frames(self, rows)))  # fmt: skip

    window.close() if how == "close the window" else window.laser_off.click()
    assert table.emitted_power_w == 0.0 and happened[:1] == ["light 0"]  # off already, no block in between

    if how == "LASER OFF":
        qtbot.waitUntil(lambda: not window.controller.capture_busy, timeout=30_000)
    close_cleanly(qtbot, window)
    assert "block committed" not in happened  # the block in flight was discarded, never committed
    reason = "the control panel was closed" if how == "close the window" else "LASER OFF by the operator"
    with CaptureReader(out) as reader:
        assert reader.status == "aborted"
        events = reader.events()
    off = next(e for e in events if e["kind"] == "laser_off" and e["message"].startswith(reason))
    aborted = next(e for e in events if e["kind"] == "aborted")
    assert "read back off" in off["message"] and off["time_s"] <= aborted["time_s"]  # off before the run stopped
    assert aborted["message"] == reason


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
