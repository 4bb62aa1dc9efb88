"""The Devices page: live view frames with a saturation warning, DMD test patterns, camera settings, and
device refusals shown in the banner."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from gui_helpers import SMALL_BENCH, write_bench

from drivers import Roi
from gui.patterns import PatternRequest


def test_live_view_shows_frames_and_warns_of_saturation(qtbot, open_window, bench_file: Path) -> None:
    window = open_window(bench_file)
    camera, laser = window.devices.camera, window.devices.laser
    camera.live_button.click()
    qtbot.waitUntil(lambda: camera.view.frames_drawn >= 10, timeout=5000)
    assert camera.live and camera.live_button.text() == "Stop live view"
    assert camera.view.image.image.shape == (32, 32)
    assert not camera.view.saturated  # laser off: a dark frame

    window.devices.dmd.kind.setCurrentIndex(window.devices.dmd.kind.findData("all_on"))
    window.devices.dmd.show_button.click()  # light reaches the camera only through mirrors that are on
    laser.power_mw.setValue(100.0)
    laser.apply_power.click()
    laser.emission.click()
    camera.exposure_us.setValue(20_000.0)
    camera.exposure_us.editingFinished.emit()
    qtbot.waitUntil(lambda: camera.view.saturated, timeout=5000)
    assert "saturated" in camera.view.saturation.text()
    assert window.laser_pill.text() == "Laser ON 100.0 mW"

    camera.exposure_us.setValue(1.0)
    camera.exposure_us.editingFinished.emit()
    qtbot.waitUntil(lambda: not camera.view.saturated, timeout=5000)

    for spin, value in zip(camera.roi, (4, 8, 16, 20), strict=True):
        spin.setValue(value)
    camera.apply_roi.click()
    qtbot.waitUntil(lambda: camera.view.image.image.shape == (16, 20), timeout=5000)
    assert window.controller.devices.bench is not None
    camera.full_roi.click()
    qtbot.waitUntil(lambda: camera.view.image.image.shape == (32, 32), timeout=5000)
    camera.live_button.click()
    qtbot.waitUntil(lambda: not camera.live, timeout=5000)


def test_dmd_shows_test_patterns_and_targets(qtbot, open_window, bench_file: Path) -> None:
    window = open_window(bench_file)
    dmd = window.devices.dmd
    bench = window.controller.devices.bench
    dmd.kind.setCurrentIndex(dmd.kind.findData("all_on"))
    dmd.show_button.click()
    qtbot.waitUntil(lambda: bench.dmd.shown_pattern.any(), timeout=5000)
    assert bench.dmd.shown_pattern.sum() == 48 * 48  # the active area: 24 macropixels of 2 mirrors
    assert dmd.preview.image.image.shape == (64, 64)

    dmd.kind.setCurrentIndex(dmd.kind.findData("target"))
    assert dmd.source.isEnabled()
    dmd.source.setCurrentText("digits")
    dmd.index.setValue(3)
    dmd.size.setValue(16)
    dmd.show_button.click()
    qtbot.waitUntil(lambda: bench.dmd.shown_pattern.dtype == np.uint8, timeout=5000)
    assert dmd.request() == PatternRequest("target", "digits", 3, 16)


def test_device_refusals_show_in_the_banner(qtbot, open_window, bench_file: Path) -> None:
    window = open_window(bench_file)
    controller, bench = window.controller, window.controller.devices.bench
    controller.set_power_w(1.0)  # above the 0.1 W safety limit
    qtbot.waitUntil(lambda: window.banner.isVisible(), timeout=5000)
    assert "refuses" in window.banner.text() and "allowed range" in window.banner.text()
    window.banner.dismiss()

    bench.laser.open_interlock()  # rehearsal on the simulated laser
    window.devices.laser.emission.click()
    qtbot.waitUntil(lambda: window.banner.isVisible(), timeout=5000)
    assert "laser refuses to emit" in window.banner.text() and "interlock" in window.banner.text()
    qtbot.waitUntil(lambda: window.laser_pill.text() == "Laser INTERLOCK OPEN", timeout=5000)
    assert window.laser_pill.kind == "error"
    controller.set_roi(Roi(30, 30, 8, 8))  # outside the 32x32 sensor
    qtbot.waitUntil(lambda: "sensor is 32x32" in window.banner.text(), timeout=5000)


def test_a_bad_bench_file_shows_in_the_window(qtbot, open_window, tmp_path: Path) -> None:
    bad = write_bench(tmp_path / "bad.toml", SMALL_BENCH)
    bad.write_text(bad.read_text().replace("max_power_w = 0.1", "max_power_w = -1.0"))
    window = open_window(bad, wait_for_bench=False)
    qtbot.waitUntil(lambda: window.banner.isVisible(), timeout=5000)
    assert "bench file is not valid" in window.banner.text() and "laser.max_power_w" in window.banner.text()
    assert not window.devices.camera.live_button.isEnabled()
    window.acquisition.plan_card.start.click()
    qtbot.waitUntil(lambda: "No bench is open" in window.banner.text(), timeout=5000)
