"""The bench's owner while no capture runs: every device call happens on this worker's thread, in order.

The window sends requests (a method name and arguments) through a queued signal, so a slow device never
blocks the UI thread, and two calls never reach a device at once. For a capture the worker lends the
bench out (live view stopped, polling paused) and refuses device requests until the bench comes back.
"""

from __future__ import annotations

import contextlib
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Qt, QTimer, Signal, Slot

from acquisition.plan import CapturePlan
from drivers import DeviceError, DmdGeometry, OutOfRange, Roi, TriggerMode
from gui.errors import Problem, describe
from gui.patterns import PatternRequest, make_pattern
from lab.bench import Bench, open_bench
from lab.bench_config import DEFAULT_BENCH_SOURCE, BenchConfig
from lab.capture_service import make_run

LASER_POLL_MS = 250
LIVE_PERIOD_MS = 25  # at most 40 frames/s are grabbed; the display takes what it can
LIVE_READ_TIMEOUT_S = 2.0


@dataclass(frozen=True)
class BenchInfo:
    """What the window needs to know about the opened bench (read once, on the device thread)."""

    name: str
    source: str
    simulated: bool
    identities: dict[str, str]
    power_range_w: tuple[float, float]
    geometry: DmdGeometry
    sensor_shape: tuple[int, int]
    bit_depth: int
    config: BenchConfig


@dataclass(frozen=True)
class LaserState:
    emission: bool
    setpoint_w: float
    measured_w: float
    fault: str | None
    interlock_closed: bool
    hours: float | None = None
    by_capture: bool = False  # read by the capture while it owns the bench


@dataclass(frozen=True)
class CameraState:
    exposure_us: float
    gain_db: float
    roi: Roi
    live: bool


@dataclass(frozen=True)
class LiveFrame:
    pixels: np.ndarray
    frame_id: int
    saturation_dn: int
    saturated_fraction: float
    max_dn: int
    grab_fps: float


def read_laser(bench: Bench, by_capture: bool = False) -> LaserState:
    laser = bench.laser
    status = laser.status()
    return LaserState(
        status.emission,
        laser.power_setpoint_w,
        laser.measured_power_w,
        status.fault,
        status.interlock_closed,
        status.hours,
        by_capture,
    )


def live_frame(pixels: np.ndarray, frame_id: int, bit_depth: int, grab_fps: float) -> LiveFrame:
    saturation_dn = 2**bit_depth - 1
    saturated = int(np.count_nonzero(pixels >= saturation_dn))
    return LiveFrame(pixels, frame_id, saturation_dn, saturated / max(pixels.size, 1), int(pixels.max()), grab_fps)


class DeviceWorker(QObject):
    """Lives on the device thread. Call `submit(name, *args)` from any thread."""

    requested = Signal(object)  # (method name, arguments): one Python object, no Qt conversion
    opened = Signal(object)  # BenchInfo
    laser = Signal(object)  # LaserState
    camera = Signal(object)  # CameraState
    pattern = Signal(object)  # np.ndarray: what the DMD shows
    frame = Signal(object)  # LiveFrame
    preflight = Signal(object)  # Preflight or Problem
    problem = Signal(object)  # Problem
    lent = Signal(object)  # Bench: the capture owns it now
    closed = Signal()

    def __init__(self) -> None:
        super().__init__()
        self._bench: Bench | None = None
        self._lent_out = False
        self._live = False
        self._live_before_lend = False
        self._last_pattern: np.ndarray | None = None
        self._grab_times: list[float] = []
        # Flow control for the display: a frame is sent only after the window has shown the previous one.
        self.frame_shown = threading.Event()
        self.frame_shown.set()
        self._poll = QTimer(self)
        self._poll.setInterval(LASER_POLL_MS)
        self._poll.timeout.connect(self._poll_laser)
        self._live_timer = QTimer(self)
        self._live_timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._live_timer.setInterval(LIVE_PERIOD_MS)
        self._live_timer.timeout.connect(self._grab)
        self.requested.connect(self._dispatch, Qt.ConnectionType.QueuedConnection)

    @property
    def bench(self) -> Bench | None:
        """The bench held now (None while lent to a capture or closed). For tests and diagnostics: devices
        are driven through `submit`, never through this reference."""
        return self._bench

    def submit(self, name: str, *args: Any) -> None:
        self.requested.emit((name, args))

    @Slot(object)
    def _dispatch(self, request: tuple[str, tuple]) -> None:
        name, args = request
        handler = getattr(self, f"_do_{name}")
        if name not in ("open", "reclaim", "close", "preflight") and self._bench is None:
            if self._lent_out:
                self.problem.emit(
                    Problem(
                        "The bench is busy",
                        "A capture is using the devices.",
                        "Wait for the capture to finish, or pause or abort it on the Acquisition page.",
                    )
                )
            return
        try:
            handler(*args)
        except Exception as error:
            if isinstance(error, DeviceError) and not isinstance(error, OutOfRange):
                self._laser_off_quietly()
            self.problem.emit(describe(error, _DOING.get(name, name.replace("_", " "))))

    # -- opening and closing ------------------------------------------------------------------------
    def _do_open(self, path: Path | None) -> None:
        bench = open_bench(path)
        self._bench = bench
        config = bench.config
        self.opened.emit(
            BenchInfo(
                name=config.bench.name,
                source=DEFAULT_BENCH_SOURCE if path is None else str(path),
                simulated=config.simulated,
                identities={family: str(device.identity) for family, device in bench.devices().items()},
                power_range_w=bench.laser.power_range_w,
                geometry=bench.geometry,
                sensor_shape=bench.camera.sensor_shape,
                bit_depth=bench.camera.bit_depth,
                config=config,
            )
        )
        self._emit_all()
        self._poll.start()

    def _do_close(self) -> None:
        """Leave the bench safe: live view stopped, laser off, devices closed (the laser last). `closed` is
        emitted whatever fails: the window's shutdown waits for it."""
        self._poll.stop()
        try:
            self._stop_live()
            bench, self._bench = self._bench, None
            if bench is not None:
                self._laser_off_quietly(bench)
                with contextlib.suppress(Exception):
                    self.laser.emit(read_laser(bench))
                bench.close()
        finally:
            self.closed.emit()

    # -- lending the bench to a capture ---------------------------------------------------------------
    def _do_lend(self) -> None:
        self._live_before_lend = self._live
        self._stop_live()
        self._poll.stop()
        self._emit_camera()
        bench, self._bench = self._bench, None
        self._lent_out = True
        self.lent.emit(bench)

    def _do_reclaim(self, bench: Bench | None) -> None:
        self._lent_out = False
        self._bench = bench
        if bench is None:
            return
        self._emit_all()
        self._poll.start()
        if self._live_before_lend:
            self._do_set_live(True)

    # -- laser --------------------------------------------------------------------------------------
    def _do_set_power_w(self, power_w: float) -> None:
        self._bench.laser.set_power_w(power_w)
        self._poll_laser()

    def _do_set_emission(self, on: bool) -> None:
        try:
            self._bench.laser.set_emission(on)
        finally:
            self._poll_laser()

    def _poll_laser(self) -> None:
        if self._bench is None:
            return
        try:
            self.laser.emit(read_laser(self._bench))
        except DeviceError as error:
            self._poll.stop()
            self.problem.emit(describe(error, "reading the laser"))

    def _laser_off_quietly(self, bench: Bench | None = None) -> None:
        bench = bench or self._bench
        if bench is not None:
            with contextlib.suppress(Exception):
                bench.laser.set_emission(False)

    # -- DMD ----------------------------------------------------------------------------------------
    def _do_show_pattern(self, request: PatternRequest) -> None:
        pattern = make_pattern(self._bench.geometry, request)
        self._bench.dmd.show(pattern)
        self._last_pattern = pattern
        self._emit_pattern()

    def _emit_pattern(self) -> None:
        shown = getattr(self._bench.dmd, "shown_pattern", None)  # simulated DMDs know; real ones: what we sent
        pattern = shown if shown is not None else self._last_pattern
        if pattern is not None:
            self.pattern.emit(np.array(pattern, copy=True))

    # -- camera -------------------------------------------------------------------------------------
    def _do_set_exposure_us(self, exposure_us: float) -> None:
        try:
            self._bench.camera.set_exposure_us(exposure_us)
        finally:
            self._emit_camera()

    def _do_set_gain_db(self, gain_db: float) -> None:
        try:
            self._bench.camera.set_gain_db(gain_db)
        finally:
            self._emit_camera()

    def _do_set_roi(self, roi: Roi | None) -> None:
        """A new region of interest (None: the full sensor); the camera must stop for it."""
        camera = self._bench.camera
        roi = roi or Roi(0, 0, *camera.sensor_shape)
        was_live = self._live
        self._stop_live()
        try:
            camera.set_roi(roi)
        finally:
            self._emit_camera()
            if was_live:
                self._do_set_live(True)

    def _do_set_live(self, on: bool) -> None:
        if not on:
            self._stop_live()
            self._emit_camera()
            return
        if self._live:
            return
        camera = self._bench.camera
        if camera.acquiring:
            camera.stop()
        camera.set_trigger_mode(TriggerMode.FREE_RUN)
        camera.start()
        self._live = True
        self._grab_times.clear()
        self.frame_shown.set()
        self._live_timer.start()
        self._emit_camera()

    def _stop_live(self) -> None:
        self._live_timer.stop()
        if self._live and self._bench is not None:
            with contextlib.suppress(DeviceError):
                self._bench.camera.stop()
        self._live = False

    def _grab(self) -> None:
        if not self._live or self._bench is None:
            return
        camera = self._bench.camera
        try:
            frame = camera.read(LIVE_READ_TIMEOUT_S)
        except DeviceError as error:
            self._stop_live()
            self._emit_camera()
            self.problem.emit(describe(error, "live view"))
            return
        now = time.perf_counter()
        self._grab_times = [t for t in self._grab_times if now - t < 1.0] + [now]
        if self.frame_shown.is_set():  # else the window is still busy with the previous frame: drop this one
            self.frame_shown.clear()
            fps = (len(self._grab_times) - 1) / max(now - self._grab_times[0], 1e-9)
            self.frame.emit(live_frame(frame.pixels, frame.frame_id, camera.bit_depth, fps))

    def _emit_camera(self) -> None:
        camera = self._bench.camera
        self.camera.emit(CameraState(camera.exposure_us, camera.gain_db, camera.roi, self._live))

    def _emit_all(self) -> None:
        self._poll_laser()
        self._emit_camera()
        self._emit_pattern()

    # -- planning -----------------------------------------------------------------------------------
    def _do_preflight(self, plan: CapturePlan, out: Path) -> None:
        """Duration, file size and free space of `plan` into `out`; skipped while the bench is lent."""
        if self._bench is None:
            return
        try:
            self.preflight.emit(make_run(plan, self._bench, out).preflight())
        except Exception as error:
            self.preflight.emit(describe(error, "checking the plan"))


_DOING = {
    "open": "opening the bench",
    "set_power_w": "setting the laser power",
    "set_emission": "switching the laser",
    "show_pattern": "showing a DMD pattern",
    "set_exposure_us": "setting the exposure",
    "set_gain_db": "setting the gain",
    "set_roi": "setting the region of interest",
    "set_live": "starting the live view",
    "close": "closing the bench",
}
