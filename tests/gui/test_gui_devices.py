"""The Devices page: live view frames with a saturation warning, DMD test patterns, camera settings, and
device refusals shown in the banner."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from gui_helpers import SMALL_BENCH, write_bench
from PySide6.QtCore import QSize

from speckle_lab.gui.patterns import PatternRequest


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
    laser.power_mw.set_text("100")
    laser.apply_power.click()
    laser.emission.click()
    camera.exposure_us.set_text("20000")
    assert camera.exposure_us.submit()
    qtbot.waitUntil(lambda: camera.view.saturated, timeout=10_000)
    assert "saturated" in camera.view.saturation.full_text()
    assert window.laser_pill.text() == "Laser ON 100.0 mW"

    camera.exposure_us.set_text("1")
    assert camera.exposure_us.submit()
    qtbot.waitUntil(lambda: not camera.view.saturated, timeout=5000)

    for field, value in zip(camera.roi, (4, 8, 16, 20), strict=True):
        field.set_text(str(value))
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
    assert isinstance(dmd.size(), QSize)  # QWidget.size() is not hidden by the card's size field
    dmd.target_size.setValue(16)
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
    controller.set_roi((30, 30, 8, 8))  # outside the 32x32 sensor: the camera refuses it too
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


def test_typed_values_out_of_range_are_refused_next_to_the_field_and_nothing_is_sent(
    qtbot, open_window, bench_file: Path
) -> None:
    """150 mW (limit 100), 99999999 µs, -5 µs, letters and a ROI leaving the sensor: each refused with the reason
    next to its field, the typed text kept, and no request reaches the device thread."""
    window = open_window(bench_file)
    laser, camera = window.devices.laser, window.devices.camera
    bench = window.controller.devices.bench
    sent: list[tuple[str, tuple]] = []
    window.controller.devices.requested.connect(lambda request: sent.append(request))
    qtbot.waitUntil(lambda: laser.power_mw.edit.text() != "", timeout=5000)
    setpoint_w, exposure_us = bench.laser.power_setpoint_w, bench.camera.exposure_us
    assert "0 – 100 mW" in laser.power_mw.range_label.text()  # the allowed range is visible
    assert "1 – 10 000 000 µs" in camera.exposure_us.range_label.text()
    assert "31" in camera.roi[0].range_label.text() and "32" in camera.roi[2].range_label.text()

    for field, typed, reason in (
        (laser.power_mw, "150", "150.0 is outside 0 – 100"),
        (camera.exposure_us, "99999999", "outside"),
        (camera.exposure_us, "-5", "outside"),
        (camera.gain_db, "abc", "not a number"),
        (laser.power_mw, "nan", "not a finite number"),
    ):
        field.set_text(typed)
        field.edit.returnPressed.emit()  # Enter
        assert "Refused, nothing sent" in field.refused_text and reason in field.refused_text, field.refused_text
        assert field.edit.text() == typed  # never changed behind the operator's back
    laser.apply_power.click()
    for field, value in zip(camera.roi, (20, 20, 16, 16), strict=True):  # rows 20..35 of a 32-row sensor
        field.set_text(str(value))
    camera.apply_roi.click()
    assert "leave the 32×32 sensor" in camera.roi_error.text() and camera.roi_error.isVisible()
    qtbot.waitUntil(lambda: any("region of interest refused" in line for line in window.log_panel.lines), timeout=2000)
    qtbot.wait(300)
    assert [name for name, _ in sent] == []
    assert bench.laser.power_setpoint_w == setpoint_w and bench.camera.exposure_us == exposure_us

    laser.power_mw.set_text("42.5")  # a valid value goes out, and the refusal message goes away
    laser.apply_power.click()
    qtbot.waitUntil(lambda: abs(bench.laser.power_setpoint_w - 0.0425) < 1e-9, timeout=5000)
    assert laser.power_mw.refused_text == "" and [name for name, _ in sent] == ["set_power_w"]
    assert any("refused" in line for line in window.log_panel.lines)  # refusals are in the log


def test_the_device_page_shows_what_the_devices_do(qtbot, open_window, bench_file: Path) -> None:
    """Readouts follow the device, not the request: a refused exposure leaves the device's value; the DMD
    says what it shows."""
    window = open_window(bench_file)
    camera, dmd = window.devices.camera, window.devices.dmd
    bench = window.controller.devices.bench
    window.controller.set_exposure_us(123.0)
    qtbot.waitUntil(lambda: camera.exposure_us.edit.text() == "123.0", timeout=5000)
    window.controller.set_exposure_us(5e7)  # beyond the camera's own limit: the device refuses, banner
    qtbot.waitUntil(lambda: window.banner.isVisible(), timeout=5000)
    assert bench.camera.exposure_us == 123.0 and camera.exposure_us.edit.text() == "123.0"
    dmd.kind.setCurrentIndex(dmd.kind.findData("checkerboard"))
    dmd.show_button.click()
    qtbot.waitUntil(lambda: dmd.shown_label.text() == "DMD shows: checkerboard", timeout=5000)


def test_live_view_pauses_while_its_page_is_hidden(qtbot, open_window, bench_file: Path) -> None:
    window = open_window(bench_file)
    window.show_page("Devices")
    camera = window.devices.camera
    camera.live_button.click()
    qtbot.waitUntil(lambda: camera.view.frames_drawn >= 5, timeout=10_000)
    window.show_page("Training")
    qtbot.wait(300)
    received = camera.view.frames_received
    qtbot.wait(700)
    assert camera.view.frames_received <= received + 1  # nothing grabbed for a page no one sees
    assert camera.live  # still live: it resumes when the page is back
    window.show_page("Devices")
    qtbot.waitUntil(lambda: camera.view.frames_received >= received + 5, timeout=10_000)
