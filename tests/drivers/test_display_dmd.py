"""The display DMD under offscreen Qt: the window, grabbed, equals the pattern pixel for pixel."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before any QApplication exists

import threading
import time
from collections.abc import Callable, Iterator

import numpy as np
import pytest

pytest.importorskip("PySide6.QtWidgets", reason="PySide6 (the 'gui' extra) is not installed")

from speckle_lab.drivers import DeviceError, DeviceTimeout, OutOfRange
from speckle_lab.drivers.dmds import DisplayDMD

SHAPE = (96, 160)  # rows, cols: small, odd-sized against 4-byte row alignment, wider than tall


@pytest.fixture
def dmd(qapp: object) -> Iterator[DisplayDMD]:
    device = DisplayDMD(screen_index=0, mirror_shape=SHAPE, present_timeout_s=1.0)
    yield device
    device.close()


def window_pixels(dmd: DisplayDMD) -> np.ndarray:
    """The window's content through the widget itself, `widget.grab().toImage()`, as `[row, col, rgb]`."""
    from PySide6.QtGui import QImage

    image = dmd.window.grab().toImage().convertToFormat(QImage.Format.Format_RGB888)
    rows, cols, stride = image.height(), image.width(), image.bytesPerLine()
    raw = np.frombuffer(image.constBits(), dtype=np.uint8, count=rows * stride).reshape(rows, stride)
    return raw[:, : cols * 3].reshape(rows, cols, 3).copy()  # the QImage owning `raw` dies on return


def assert_shows(dmd: DisplayDMD, pattern: np.ndarray) -> None:
    expected = pattern.astype(np.uint8) * 255 if pattern.dtype == np.bool_ else pattern
    pixels = window_pixels(dmd)
    assert pixels.shape == (*SHAPE, 3)
    for channel in range(3):
        assert np.array_equal(pixels[..., channel], expected)


def random_binary(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).random(SHAPE) < 0.5


def random_gray(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, SHAPE, dtype=np.uint8)


def run_in_worker(qtbot: object, work: Callable[[], object], timeout_s: float = 5.0) -> object:
    """Run `work` on a plain thread while this (GUI) thread keeps Qt's event loop going."""
    outcome: dict[str, object] = {}

    def target() -> None:
        try:
            outcome["result"] = work()
        except BaseException as error:
            outcome["error"] = error

    thread = threading.Thread(target=target)
    thread.start()
    qtbot.waitUntil(lambda: not thread.is_alive(), timeout=int(timeout_s * 1000))
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome.get("result")


def test_opens_a_frameless_window_of_the_mirror_shape_showing_dark(dmd: DisplayDMD) -> None:
    from PySide6.QtCore import Qt

    assert dmd.mirror_shape == SHAPE
    assert dmd.window.isVisible()
    assert dmd.window.windowFlags() & Qt.WindowType.FramelessWindowHint
    assert_shows(dmd, np.zeros(SHAPE, dtype=bool))
    assert dmd.identity.backend == "display" and dmd.max_pattern_rate_hz > 0


@pytest.mark.parametrize("make", [random_binary, random_gray], ids=["binary", "8-bit"])
def test_show_is_pixel_exact(dmd: DisplayDMD, make: Callable[[int], np.ndarray]) -> None:
    for seed in range(3):
        pattern = make(seed)
        dmd.show(pattern)
        assert_shows(dmd, pattern)
        assert np.array_equal(dmd.shown_pattern, pattern)
    assert np.array_equal(dmd.grab()[..., 1], make(2).astype(np.uint8) * (255 if make is random_binary else 1))


@pytest.mark.parametrize("make", [random_binary, random_gray], ids=["binary", "8-bit"])
def test_show_from_a_worker_thread_is_marshalled_and_presented(
    dmd: DisplayDMD, qtbot: object, make: Callable[[int], np.ndarray]
) -> None:
    pattern = make(7)
    presented_before = dmd.state()["presented_frames"]
    run_in_worker(qtbot, lambda: dmd.show(pattern))
    assert dmd.state()["presented_frames"] == presented_before + 1  # show returned after the paint
    assert_shows(dmd, pattern)
    grabbed = run_in_worker(qtbot, dmd.grab)  # the grab helper from the worker, too
    assert np.array_equal(grabbed[..., 0], window_pixels(dmd)[..., 0])


def test_worker_call_times_out_when_the_gui_thread_does_not_run_events(qapp: object) -> None:
    dmd = DisplayDMD(mirror_shape=SHAPE, present_timeout_s=0.2)
    try:
        outcome: dict[str, BaseException] = {}

        def work() -> None:
            try:
                dmd.show(random_binary(1))
            except BaseException as error:
                outcome["error"] = error

        started = time.monotonic()
        thread = threading.Thread(target=work)
        thread.start()
        thread.join(2.0)  # this GUI thread blocks here: no event loop runs
        assert not thread.is_alive() and time.monotonic() - started < 1.5
        assert isinstance(outcome.get("error"), DeviceTimeout)
        assert "GUI thread did not run it" in str(outcome["error"])
        qapp.processEvents()  # the abandoned call is dropped, not shown late
        assert_shows(dmd, np.zeros(SHAPE, dtype=bool))
    finally:
        dmd.close()


def test_sequence_plays_every_frame_at_the_picture_time(dmd: DisplayDMD) -> None:
    patterns = np.stack([random_gray(s) for s in range(3)])
    picture_time_us = max(dmd.min_picture_time_us, 20_000.0)
    dmd.load_sequence(patterns, picture_time_us=picture_time_us, trigger_out=False)
    presented_before = dmd.state()["presented_frames"]
    started = time.monotonic()
    dmd.start(repeat=2)
    dmd.wait(timeout_s=5.0)
    elapsed = time.monotonic() - started
    assert dmd.state()["presented_frames"] - presented_before == 6
    assert elapsed >= 0.9 * 6 * picture_time_us * 1e-6
    assert_shows(dmd, patterns[-1])


def test_sequence_from_a_worker_and_stop(dmd: DisplayDMD, qtbot: object) -> None:
    patterns = np.stack([random_binary(s) for s in range(2)])
    picture_time_us = max(dmd.min_picture_time_us, 20_000.0)

    def play() -> None:
        dmd.load_sequence(patterns, picture_time_us=picture_time_us, trigger_out=False)
        dmd.start(repeat=1)
        dmd.wait(timeout_s=3.0)

    run_in_worker(qtbot, play)
    assert_shows(dmd, patterns[-1])
    dmd.start(repeat=0)
    with pytest.raises(DeviceError, match="give a timeout"):
        dmd.wait()
    with pytest.raises(DeviceTimeout, match="still runs"):
        dmd.wait(timeout_s=0.05)
    dmd.stop()
    dmd.wait()  # stopped: returns at once
    assert not dmd.state()["running"]


def test_no_trigger_lines_and_contract_checks(dmd: DisplayDMD) -> None:
    patterns = np.zeros((2, *SHAPE), dtype=bool)
    slow = max(dmd.min_picture_time_us, 20_000.0)
    with pytest.raises(OutOfRange, match="no trigger output; use step mode"):
        dmd.load_sequence(patterns, picture_time_us=slow)  # the contract's default asks for trigger_out
    with pytest.raises(OutOfRange, match="no trigger input"):
        dmd.load_sequence(patterns, picture_time_us=slow, trigger_in=True, trigger_out=False)
    with pytest.raises(OutOfRange, match="below the minimum"):
        dmd.load_sequence(patterns, picture_time_us=100.0, trigger_out=False)  # faster than the refresh rate
    with pytest.raises(OutOfRange, match="mirror shape"):
        dmd.show(np.zeros((10, 10), dtype=bool))
    with pytest.raises(OutOfRange, match="no sequence is loaded"):
        dmd.start()


def test_open_refuses_a_missing_screen_or_an_oversized_shape(qapp: object) -> None:
    with pytest.raises(OutOfRange, match="no screen 7"):
        DisplayDMD(screen_index=7)
    with pytest.raises(OutOfRange, match="does not fit"):
        DisplayDMD(mirror_shape=(100_000, 10))


def test_full_screen_by_default_and_close(qapp: object) -> None:
    dmd = DisplayDMD()
    screen = qapp.screens()[0].geometry()
    assert dmd.mirror_shape == (screen.height(), screen.width())
    assert dmd.window.isFullScreen()
    pattern = np.zeros(dmd.mirror_shape, dtype=bool)
    pattern[::2, 1::3] = True
    dmd.show(pattern)
    assert np.array_equal(dmd.grab()[..., 2], pattern.astype(np.uint8) * 255)
    window = dmd.window
    dmd.close()
    dmd.close()
    assert not window.isVisible()
    with pytest.raises(DeviceError, match="closed"):
        dmd.show(pattern)


def test_a_hidden_window_fails_the_presentation_check(qapp: object) -> None:
    dmd = DisplayDMD(mirror_shape=SHAPE, present_timeout_s=0.2)
    try:
        dmd.window.hide()
        started = time.monotonic()
        with pytest.raises(DeviceTimeout, match="did not paint"):
            dmd.show(random_binary(3))
        assert time.monotonic() - started < 1.0
    finally:
        dmd.close()


def test_opened_from_a_worker_thread_lives_on_the_gui_thread(qapp: object, qtbot: object) -> None:
    dmd = run_in_worker(qtbot, lambda: DisplayDMD(mirror_shape=SHAPE, present_timeout_s=1.0))
    try:
        assert dmd.window.thread() is qapp.thread()
        pattern = random_gray(11)
        dmd.show(pattern)  # and driven from the GUI thread afterwards
        assert_shows(dmd, pattern)
    finally:
        dmd.close()


def test_macropixel_images_show_as_their_mirror_patterns(dmd: DisplayDMD) -> None:
    """The display DMD expands the engine's macropixel images to mirrors itself, pixel-exact."""
    from speckle_lab.drivers import DmdGeometry

    geometry = DmdGeometry(SHAPE, 3, 17, 5, 16)
    image = np.random.default_rng(5).integers(0, 256, (16, 16), dtype=np.uint8)
    dmd.show_macropixels(image, geometry)
    assert_shows(dmd, geometry.to_mirrors(image[None])[0])
