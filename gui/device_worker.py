"""The bench session (`lab.bench_session`) on a Qt thread of its own: requests in through a queued signal, the
session's typed events out as Qt signals. Devices are driven by the session only; this module holds the
thread, the timers (laser polling, live frames) and the flow control of the display.

Requests run in order on the device thread, so a slow device never blocks the UI thread and two calls
never reach a device at once. The one exception is switching the laser off (`laser_off_now`), which must
not wait behind a slow live frame or a capture's block: it goes straight to the laser from the caller's
thread and reads it back; a failure is an alarm.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt, QTimer, Signal, Slot

from speckle_lab.gui.errors import Problem, describe
from speckle_lab.lab.bench_session import (
    BenchClosed,
    BenchInfo,
    BenchLent,
    BenchSession,
    CameraState,
    Failure,
    LaserAlarm,
    LaserOff,
    LaserOffFailed,
    LaserState,
    LiveFrame,
    PatternShown,
    PreflightResult,
    frame_period_s,
    live_frame,
    needs_laser_off,
    read_laser,
)

if TYPE_CHECKING:
    import numpy as np

    from speckle_lab.acquisition.plan import CapturePlan
    from speckle_lab.lab.bench import Bench
    from speckle_lab.lab.bench_session import EmissionToken
    from speckle_lab.lab.capture_queue import ClosedLaser
    from speckle_lab.lab.patterns import PatternRequest

__all__ = [
    "BenchInfo",
    "CameraState",
    "DeviceWorker",
    "LaserOff",
    "LaserState",
    "LiveFrame",
    "live_frame",
    "read_laser",
]

LASER_POLL_MS = 250
LIVE_PERIOD_MS = 25  # at most 40 frames/s are grabbed; the display takes what it can


class DeviceWorker(QObject):
    """Lives on the device thread. Call `submit(name, *args)` from any thread."""

    requested = Signal(object)  # (method name, arguments): one Python object, no Qt conversion
    opened = Signal(object)  # BenchInfo
    laser = Signal(object)  # LaserState
    camera = Signal(object)  # CameraState
    pattern = Signal(object)  # PatternShown: what the DMD shows
    frame = Signal(object)  # LiveFrame
    snapped = Signal(object)  # (request id, np.ndarray): one frame for the reconstruction view
    preflight = Signal(object)  # Preflight or Problem
    problem = Signal(object)  # Problem
    alarm = Signal(str)  # the laser could not be confirmed off
    lent = Signal(object)  # Bench: the capture owns it now
    closed = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.session = BenchSession(self._event)
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
        self._display_hidden = False  # the live image is not on screen: the camera stays live, no frames are grabbed

    @property
    def bench(self) -> Bench | None:
        """The bench held now (None while lent to a capture or closed). For tests and diagnostics: devices
        are driven through `submit`, never through this reference."""
        return self.session.bench

    def submit(self, name: str, *args: Any) -> None:
        self.requested.emit((name, args))

    def laser_off_now(
        self, holder: Bench | ClosedLaser | None = None, why: str = "LASER OFF by the operator"
    ) -> LaserOff:
        """Any thread: emission off at once, read back, on `holder` (a capture's bench, or the verdict on the one
        it closed) when given, else on the session's own laser (`BenchSession.laser_holder`)."""
        return self.session.switch_laser_off(holder, why)

    def emission_token(self) -> EmissionToken | None:
        """Any thread, at the click: the stop token an emission-on request carries (see `set_emission`)."""
        return self.session.emission_token()

    # -- events from the session ----------------------------------------------------------------------
    def _event(self, event: object) -> None:
        if isinstance(event, BenchInfo):
            self.opened.emit(event)
        elif isinstance(event, LaserState):
            self.laser.emit(event)
        elif isinstance(event, CameraState):
            self.camera.emit(event)
        elif isinstance(event, PatternShown):
            self.pattern.emit(event)
        elif isinstance(event, LiveFrame):
            self.frame.emit(event)
        elif isinstance(event, PreflightResult):
            self.preflight.emit(event.result)
        elif isinstance(event, Failure):
            problem = describe(event.error, event.doing)
            self.preflight.emit(problem) if event.doing == "checking the plan" else self.problem.emit(problem)
        elif isinstance(event, LaserAlarm):
            self.alarm.emit(event.message)
        elif isinstance(event, BenchLent):
            self.lent.emit(event.bench)
        elif isinstance(event, BenchClosed):
            self.closed.emit()

    @Slot(object)
    def _dispatch(self, request: tuple[str, tuple]) -> None:
        name, args = request
        handler = getattr(self, f"_do_{name}")
        if name not in ("open", "reclaim", "close", "preflight", "hide_live") and self.session.bench is None:
            if self.session.lent_out:
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
            if needs_laser_off(error):
                self.session.switch_laser_off()
            self.report(error, _DOING.get(name, name.replace("_", " ")))

    def report(self, error: BaseException, doing: str) -> None:
        """A failure for the window: a laser that could not be confirmed off is the alarm (the red banner), any
        other error a problem."""
        if isinstance(error, LaserOffFailed):
            self.alarm.emit(error.alarm)
        else:
            self.problem.emit(describe(error, doing))

    # -- requests -------------------------------------------------------------------------------------
    def _do_open(self, path: Path | None) -> None:
        self.session.open(path)
        self._poll.start()

    def _do_close(self) -> None:
        self._poll.stop()
        self._live_timer.stop()
        self.session.close()

    def _do_lend(self) -> None:
        self._live_timer.stop()
        self._poll.stop()
        self.session.lend()

    def _do_reclaim(self, bench: Bench | None) -> None:
        if self.session.reclaim(bench):
            self._do_set_live(True)
        if bench is not None:
            self._poll.start()

    def _do_set_power_w(self, power_w: float) -> None:
        self.session.set_power_w(power_w)

    def _do_set_emission(self, on: bool, token: EmissionToken | None = None) -> None:
        self.session.set_emission(on, token)

    def _poll_laser(self) -> None:
        try:
            self.session.poll_laser()
        except Exception as error:
            self._poll.stop()
            self.report(error, "reading the laser")

    def _do_show_pattern(self, request: PatternRequest) -> None:
        self.session.show_pattern(request)

    def _do_show_image(self, image: np.ndarray, description: str) -> None:
        self.session.show_macropixels(image, description)

    def _do_show_and_snap(self, request_id: int, pattern: np.ndarray, description: str) -> None:
        """Reconstruction view: show a mirror pattern on the DMD, then one camera frame of it."""
        self.session.show_mirrors(pattern, description)
        self.snapped.emit((request_id, self.session.snap()))

    def _do_set_exposure_us(self, exposure_us: float) -> None:
        self.session.set_exposure_us(exposure_us)

    def _do_set_gain_db(self, gain_db: float) -> None:
        self.session.set_gain_db(gain_db)

    def _do_set_roi(self, roi: tuple[int, int, int, int] | None) -> None:
        self._live_timer.stop()
        self.session.set_roi(roi)
        if self.session.live and not self._display_hidden:
            self._live_timer.start()

    def _do_set_live(self, on: bool) -> None:
        if not on:
            self._live_timer.stop()
            self.session.stop_live()
            self.session.emit_camera()
            return
        self.session.start_live()
        self.frame_shown.set()
        if not self._display_hidden:
            self._live_timer.start()

    def _do_hide_live(self, hidden: bool) -> None:
        """The Devices page went out of sight (or came back): stop grabbing frames no one sees."""
        self._display_hidden = hidden
        if hidden:
            self._live_timer.stop()
        elif self.session.live:
            self.frame_shown.set()
            self._live_timer.start()

    def _grab(self) -> None:
        send = self.frame_shown.is_set()  # else the window is still busy with the previous frame: drop this one
        if send:
            self.frame_shown.clear()  # before the frame goes out: the window's acknowledgement may come at once
        frame = self.session.grab(send)
        if frame is None:
            self.frame_shown.set()
            if not self.session.live:
                self._live_timer.stop()

    def _do_preflight(self, plan: CapturePlan, out: Path, rows_done: int = 0) -> None:
        self.session.preflight(plan, out, rows_done)


_DOING = {
    "open": "opening the bench",
    "set_power_w": "setting the laser power",
    "set_emission": "switching the laser",
    "show_pattern": "showing a DMD pattern",
    "show_image": "showing a drawn target",
    "show_and_snap": "showing a target and grabbing its speckle",
    "set_exposure_us": "setting the exposure",
    "set_gain_db": "setting the gain",
    "set_roi": "setting the region of interest",
    "set_live": "starting the live view",
    "close": "closing the bench",
}

__all__ += ["frame_period_s"]
