"""A bench held for interactive use (the control panel's Devices and Reconstruct pages): laser, DMD patterns,
camera settings, region of interest and live frames, reported as typed events.

The session never knows about Qt: a front end calls its methods from one thread of its own (the panel's
device thread) and receives what the devices really did through `emit(event)`: after every command the
device is read back, so what is shown is what the device reports, never what was asked. A capture borrows
the bench (`lend`) and gives it back (`reclaim`). Switching the laser off is the one command that may come
from any thread (`switch_laser_off`): it is the safety path, and a failure to switch off is an alarm event,
never a silent "off". It acts on the laser that exists: the session's, the one lent to a capture (or on its
way back), or, when none is open (a capture queue closed the bench after a failed job, the panel closed it),
it says so from the verdict taken when that laser was closed (`ClosedLaser`), never commanding a closed port.
Switching on takes its stop token when it is asked for (`emission_token`, on the caller's thread): a LASER OFF
given after that wins even while the request still waits for the device thread.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from speckle_lab.acquisition.laser_lifecycle import ArmingStopped, lifecycle_of
from speckle_lab.acquisition.plan import CapturePlan
from speckle_lab.drivers import (
    DeviceDisconnected,
    DeviceError,
    DeviceTimeout,
    DmdGeometry,
    Laser,
    LaserFault,
    LaserOffFailed,
    OutOfRange,
    Roi,
    TriggerMode,
)
from speckle_lab.drivers.capabilities import PatternReadback, RegionOfInterest
from speckle_lab.lab.bench import Bench, open_bench
from speckle_lab.lab.bench_config import DEFAULT_BENCH_SOURCE, BenchConfig
from speckle_lab.lab.capture_queue import ClosedLaser, laser_name
from speckle_lab.lab.capture_service import make_run
from speckle_lab.lab.patterns import PatternRequest, make_pattern

log = logging.getLogger(__name__)

# The device errors a front end tells apart (re-exported: the panel imports no drivers module).
DEVICE_ERRORS = {
    "disconnected": DeviceDisconnected,
    "error": DeviceError,
    "timeout": DeviceTimeout,
    "laser_fault": LaserFault,
    "out_of_range": OutOfRange,
    "laser_off_failed": LaserOffFailed,  # the alarm: the laser may still be emitting
}


def needs_laser_off(error: BaseException) -> bool:
    """A device failure (not a refused value) leaves the bench in doubt: the light goes off."""
    return isinstance(error, DeviceError) and not isinstance(error, OutOfRange)


LIVE_READ_TIMEOUT_S = 2.0
EXPOSURE_RANGE_US = (1.0, 10_000_000.0)  # what the panel accepts; a camera may refuse more, and says why
GAIN_RANGE_DB = (0.0, 48.0)


# -- events ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class BenchInfo:
    """What a front end needs to know about the opened bench (read once)."""

    name: str
    source: str
    simulated: bool
    identities: dict[str, str]
    power_range_w: tuple[float, float]
    geometry: DmdGeometry  # front ends read it without importing drivers
    sensor_shape: tuple[int, int]
    bit_depth: int
    config: BenchConfig
    exposure_range_us: tuple[float, float] = EXPOSURE_RANGE_US
    gain_range_db: tuple[float, float] = GAIN_RANGE_DB
    frame_period_s: float = 0.0  # the bench's modelled time per frame at the configured exposure
    readout_time_us: float = 0.0  # the camera's sensor readout, where the camera states it (0: unknown)


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
    roi: Roi  # row, col, height, width
    live: bool


@dataclass(frozen=True)
class PatternShown:
    """What the DMD shows now (read back where the DMD can, else what was sent) and what it is."""

    pattern: np.ndarray
    description: str


@dataclass(frozen=True)
class LiveFrame:
    pixels: np.ndarray
    frame_id: int
    saturation_dn: int
    saturated_fraction: float
    max_dn: int
    grab_fps: float
    exposure_us: float = 0.0


@dataclass(frozen=True)
class Failure:
    """A command the devices refused or failed: the error and what was being done."""

    error: BaseException
    doing: str


@dataclass(frozen=True)
class LaserAlarm:
    """Switching the laser off failed (or could not be confirmed): the light may still be on."""

    message: str


@dataclass(frozen=True)
class LaserOff:
    """What a switch-off did: `confirmed` when the laser is known off (read back off, or no laser is open and the
    last one was read back off when it was closed); else an alarm event was emitted. `message` says what was
    acted on when it was not an open laser ("" for the usual case)."""

    confirmed: bool
    message: str = ""


@dataclass(frozen=True)
class EmissionToken:
    """Taken when emission on is asked for: the laser and its lifecycle's stop count then. A stop asked for
    after it (LASER OFF) refuses the on command, however long the request waited; so does another laser."""

    laser: object
    stops: int


@dataclass(frozen=True)
class PreflightResult:
    result: object  # acquisition.preflight.Preflight


@dataclass(frozen=True)
class BenchLent:
    bench: Bench


@dataclass(frozen=True)
class BenchClosed:
    pass


Event = (
    BenchInfo
    | LaserState
    | CameraState
    | PatternShown
    | LiveFrame
    | Failure
    | LaserAlarm
    | PreflightResult
    | BenchLent
    | BenchClosed
)


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


def live_frame(
    pixels: np.ndarray, frame_id: int, bit_depth: int, grab_fps: float, exposure_us: float = 0.0
) -> LiveFrame:
    saturation_dn = 2**bit_depth - 1
    saturated = int(np.count_nonzero(pixels >= saturation_dn))
    return LiveFrame(
        pixels, frame_id, saturation_dn, saturated / max(pixels.size, 1), int(pixels.max()), grab_fps, exposure_us
    )


def switch_laser_off(laser: Laser, why: str = "LASER OFF by the operator") -> str | None:
    """The laser's lifecycle switch-off, from any thread: first a stop (whatever is arming the laser, a capture
    included, never sends its on command), then off and read back (recorded in the file of a capture running on
    it). Returns None when the laser is known off, else the alarm line. The drivers serialise their commands."""
    lifecycle = lifecycle_of(laser)
    lifecycle.request_stop(why)
    if lifecycle.switch_off(why):
        return None
    return lifecycle.alarm


class BenchSession:
    """The bench of one front end, between captures. Every method but `switch_laser_off` runs on the
    caller's one device thread."""

    def __init__(self, emit: Callable[[Event], None]) -> None:
        self._emit = emit
        self._bench: Bench | None = None
        self._lent_out = False
        self._live = False
        self._live_before_lend = False
        self._pattern: PatternShown | None = None
        self._unknown_pattern = "as found when the bench opened"  # what the DMD shows when no command of ours set it
        self._grab_times: list[float] = []
        self._laser_lock = threading.Lock()
        # Which laser a switch-off from any thread acts on (`laser_holder`); changed under this short lock.
        self._holder_lock = threading.Lock()
        self._away: Bench | ClosedLaser | None = None  # lent to a capture, or on its way back (or its verdict)
        self._closed: ClosedLaser | None = None  # the verdict on the laser of the bench this session closed

    @property
    def bench(self) -> Bench | None:
        """The bench held now (None while lent to a capture or closed)."""
        return self._bench

    @property
    def lent_out(self) -> bool:
        return self._lent_out

    @property
    def live(self) -> bool:
        return self._live

    # -- opening and closing --------------------------------------------------------------------------
    def open(self, path: Path | None) -> None:
        try:
            bench = open_bench(path)
        except LaserOffFailed as failure:  # at connect: a laser that will not go off; a LASER OFF says so again
            with self._holder_lock:
                self._closed = ClosedLaser(failure.device, "at connect", failure)
            raise
        with self._holder_lock:
            self._bench = bench
        config = bench.config
        camera = bench.camera
        self._emit(
            BenchInfo(
                name=config.bench.name,
                source=DEFAULT_BENCH_SOURCE if path is None else str(path),
                simulated=config.simulated,
                identities={family: str(device.identity) for family, device in bench.devices().items()},
                power_range_w=bench.laser.power_range_w,
                geometry=bench.geometry,
                sensor_shape=camera.sensor_shape,
                bit_depth=camera.bit_depth,
                config=config,
                frame_period_s=frame_period_s(bench, camera.exposure_us),
                readout_time_us=readout_time_us(bench),
            )
        )
        self.emit_all()

    def close(self) -> None:
        """Leave the bench safe: live view stopped, laser off (an alarm if it fails), devices closed (the laser
        last). `BenchClosed` is emitted whatever fails."""
        try:
            self.stop_live()
            bench = self._bench
            if bench is not None:
                why = "the bench was closed"
                closed = ClosedLaser(laser_name(bench), why, self._laser_off(bench, why))
                try:
                    with contextlib.suppress(Exception):
                        self._emit(read_laser(bench))
                    bench.close()
                finally:
                    with self._holder_lock:  # the bench stays the holder until its verdict is in
                        self._bench, self._closed = None, closed
        finally:
            self._emit(BenchClosed())

    @property
    def _held(self) -> Bench:
        """The open bench, for the device thread's commands; none while it is lent to a capture or closed."""
        bench = self._bench
        if bench is None:
            raise DeviceError("bench", "command", "no bench is open here: it is lent to a capture, or closed")
        return bench

    # -- lending the bench to a capture ---------------------------------------------------------------
    def lend(self) -> None:
        held = self._held  # nothing to lend when no bench is open (refused before anything changes)
        self._live_before_lend = self._live
        self.stop_live()
        self.emit_camera()
        with self._holder_lock:
            self._bench, self._away = None, held
        self._lent_out = True
        self._emit(BenchLent(held))

    def returning(self, holder: Bench | ClosedLaser | None) -> None:
        """Any thread (the front end's, as the capture hands the bench back): what holds the laser until `reclaim`
        runs on the device thread: the bench coming back, or, when none could be reopened, the verdict on the
        last laser closed."""
        with self._holder_lock:
            self._away = holder
            if isinstance(holder, ClosedLaser):
                self._closed = holder

    def reclaim(self, bench: Bench | None) -> bool:
        """The capture gave the bench back: report what every device really does now (the capture left its
        own exposure, laser state and pattern). Returns whether the live view should restart."""
        self._lent_out = False
        with self._holder_lock:
            self._bench = bench
            if bench is not None:
                self._away = None
        if bench is None:
            return False
        self._pattern = None  # the capture showed its own patterns: read the DMD back, or say it is unknown
        self._unknown_pattern = "left by the last capture"
        self.emit_all()
        return self._live_before_lend

    # -- laser ----------------------------------------------------------------------------------------
    def set_power_w(self, power_w: float) -> None:
        try:
            self._held.laser.set_power_w(power_w)
        finally:
            self.poll_laser()

    def emission_token(self) -> EmissionToken | None:
        """Any thread, when emission on is asked for (the click): the stop count it must still see when its
        turn comes on the device thread. None when the session holds no bench (the request is refused then)."""
        bench = self._bench
        if bench is None:
            return None
        return EmissionToken(bench.laser, lifecycle_of(bench.laser).stops)

    def set_emission(self, on: bool, token: EmissionToken | None = None) -> None:
        """Off: the lifecycle's switch-off, read back. On: armed at the power set, unless a stop was asked for
        after `token` was taken (LASER OFF wins: the on command is never sent, and that is no error); without a
        token, stops from now on count."""
        if not on:
            self._laser_off(self._held, "emission off by the operator")
            self.poll_laser()
            return
        laser = self._held.laser
        lifecycle = lifecycle_of(laser)
        since = lifecycle.stops if token is None else token.stops
        try:
            if token is not None and token.laser is not laser:
                log.info("emission on not sent: the bench was reopened since it was asked for")
                return
            lifecycle.arm(since)  # a LASER OFF after `since` stops it before its on command
        except ArmingStopped as stopped:
            log.info("emission on not sent: %s", stopped)
        finally:
            self.poll_laser()

    def laser_holder(self) -> Bench | ClosedLaser | None:
        """Any thread: the bench whose laser is the session's (held, or lent and not yet back), else the verdict
        on the last laser closed; None before a bench was opened."""
        with self._holder_lock:
            for holder in (self._bench, self._away, self._closed):
                if holder is not None:
                    return holder
        return None

    def switch_laser_off(
        self, holder: Bench | ClosedLaser | None = None, why: str = "LASER OFF by the operator"
    ) -> LaserOff:
        """The safety path, callable from any thread (the UI thread's "laser off" button, a signal handler): off
        now and read back, on `holder` (a capture's bench, or the verdict of the one it closed) or the session's
        own (`laser_holder`); an alarm event when that fails. A laser known closed is not commanded: its verdict
        at closing stands (an alarm event again when it was not read back off)."""
        holder = holder if holder is not None else self.laser_holder()
        if holder is None:
            return LaserOff(True, "No bench is open yet: its laser is switched off and read back as it opens.")
        if isinstance(holder, ClosedLaser):
            if holder.failure is not None:
                self._emit(LaserAlarm(f"{holder.alarm} (its bench is closed: no command reaches it)"))
                return LaserOff(False, "")
            return LaserOff(True, f"No laser is open: {holder.name} was switched off and read back off ({holder.why}).")
        ok = self._laser_off(holder, why) is None
        with contextlib.suppress(Exception):  # the readout follows at once (the alarm already says if it failed)
            self._emit(read_laser(holder, by_capture=holder is not self._bench))
        return LaserOff(ok)

    def _laser_off(self, bench: Bench, why: str = "LASER OFF by the operator") -> LaserOffFailed | None:
        """Off and read back through the laser's lifecycle; the failure (also emitted as an alarm), or None."""
        with self._laser_lock:
            alarm = switch_laser_off(bench.laser, why)
        if alarm is None:
            return None
        self._emit(LaserAlarm(alarm))
        return lifecycle_of(bench.laser).failures[-1]

    def poll_laser(self) -> None:
        if self._bench is None:
            return
        self._emit(read_laser(self._bench))

    # -- DMD ------------------------------------------------------------------------------------------
    def show_pattern(self, request: PatternRequest) -> None:
        pattern = make_pattern(self._held.geometry, request)
        self._show(pattern, describe_request(request))

    def show_macropixels(self, image: np.ndarray, description: str) -> None:
        """Show `image` (side x side macropixels, values in [0, 1]) on the active area, as 8-bit gray."""
        geometry = self._held.geometry
        side = geometry.side_macropixels
        image = np.asarray(image, dtype=np.float32)
        if image.shape != (side, side):
            raise ValueError(f"the image must be {side}x{side} macropixels (the DMD's active area), not {image.shape}")
        gray = np.rint(np.clip(image, 0.0, 1.0) * 255).astype(np.uint8)
        self._show(geometry.to_mirrors(gray[None])[0], description)

    def show_mirrors(self, pattern: np.ndarray, description: str) -> None:
        """A mirror pattern made elsewhere (the reconstruction view renders targets as the capture would)."""
        self._show(np.asarray(pattern), description)

    def _show(self, pattern: np.ndarray, description: str) -> None:
        self._held.dmd.show(pattern)
        self._pattern = PatternShown(np.array(pattern, copy=True), description)
        self.emit_pattern()

    def emit_pattern(self) -> None:
        dmd = self._held.dmd  # simulated DMDs read back; real ones: what we sent
        shown = dmd.shown_pattern if isinstance(dmd, PatternReadback) else None
        if shown is not None:
            description = self._pattern.description if self._pattern is not None else self._unknown_pattern
            self._emit(PatternShown(np.array(shown, copy=True), description))
        elif self._pattern is not None:
            self._emit(self._pattern)
        else:
            self._emit(PatternShown(np.zeros((1, 1), np.uint8), "unknown (the DMD cannot be read back)"))

    # -- camera ---------------------------------------------------------------------------------------
    def set_exposure_us(self, exposure_us: float) -> None:
        try:
            self._held.camera.set_exposure_us(exposure_us)
        finally:
            self.emit_camera()

    def set_gain_db(self, gain_db: float) -> None:
        try:
            self._held.camera.set_gain_db(gain_db)
        finally:
            self.emit_camera()

    def set_roi(self, roi: Sequence[int] | None) -> bool:
        """A new region of interest (row, col, height, width; None: the full sensor); the camera stops for it.
        Returns whether the live view was on (the front end restarts its timer)."""
        camera = self._held.camera
        if not isinstance(camera, RegionOfInterest):
            raise DeviceError(type(camera).__name__, "set ROI", "this camera has no region of interest (whole sensor)")
        new_roi = Roi(*roi) if roi is not None else Roi(0, 0, *camera.sensor_shape)
        was_live = self._live
        self.stop_live()
        try:
            camera.set_roi(new_roi)
        finally:
            self.emit_camera()
            if was_live:
                self.start_live()
        return was_live

    def start_live(self) -> None:
        if self._live:
            return
        camera = self._held.camera
        if camera.acquiring:
            camera.stop()
        camera.set_trigger_mode(TriggerMode.FREE_RUN)
        camera.start()
        self._live = True
        self._grab_times.clear()
        self.emit_camera()

    def stop_live(self) -> None:
        if self._live and self._bench is not None:
            with contextlib.suppress(DeviceError):
                self._held.camera.stop()
        self._live = False

    def grab(self, send: bool) -> LiveFrame | None:
        """One live frame; it is emitted when `send` (the front end has drawn the previous one). The rate
        counts frames grabbed in the last second, so a long exposure shows its true (low) rate."""
        if not self._live or self._bench is None:
            return None
        camera = self._held.camera
        try:
            frame = camera.read(max(LIVE_READ_TIMEOUT_S, 2 * camera.exposure_us * 1e-6))
        except DeviceError as error:
            self.stop_live()
            self.emit_camera()
            self._emit(Failure(error, "live view"))
            return None
        now = time.perf_counter()
        self._grab_times = [t for t in self._grab_times if now - t < 2.0] + [now]
        times = self._grab_times
        fps = (len(times) - 1) / (now - times[0]) if len(times) > 1 else 0.0
        result = live_frame(frame.pixels, frame.frame_id, camera.bit_depth, fps, camera.exposure_us)
        if send:
            self._emit(result)
        return result

    def snap(self) -> np.ndarray:
        """One frame of what the camera sees now (live view on or off), for the reconstruction view."""
        camera = self._held.camera
        if self._live:
            camera.read(LIVE_READ_TIMEOUT_S)  # a frame exposed before the pattern changed: drop it
            return camera.read(LIVE_READ_TIMEOUT_S).pixels
        if camera.acquiring:
            camera.stop()
        camera.set_trigger_mode(TriggerMode.SOFTWARE)
        camera.start()
        try:
            camera.software_trigger()
            return camera.read(max(LIVE_READ_TIMEOUT_S, 2 * camera.exposure_us * 1e-6)).pixels
        finally:
            camera.stop()

    def emit_camera(self) -> None:
        camera = self._held.camera
        roi = camera.roi if isinstance(camera, RegionOfInterest) else Roi(0, 0, *camera.sensor_shape)
        self._emit(CameraState(camera.exposure_us, camera.gain_db, roi, self._live))

    def emit_all(self) -> None:
        self.poll_laser()
        self.emit_camera()
        self.emit_pattern()

    # -- planning -------------------------------------------------------------------------------------
    def preflight(self, plan: CapturePlan, out: Path, rows_done: int = 0) -> None:
        """Duration, file size and free space of `plan` into `out`; skipped while the bench is lent."""
        if self._bench is None:
            return
        try:
            self._emit(PreflightResult(make_run(plan, self._bench, out).preflight(rows_done)))
        except Exception as error:
            self._emit(Failure(error, "checking the plan"))


def readout_time_us(bench: Bench) -> float:
    """The camera's sensor readout time, where the camera states it (the simulated one does); 0 when unknown."""
    return float(getattr(bench.camera, "readout_time_us", 0.0) or 0.0)


def frame_period_s(bench: Bench, exposure_us: float) -> float:
    """The bench's modelled time per frame at `exposure_us`: the exposure, or the sensor readout if longer."""
    return max(exposure_us, readout_time_us(bench)) * 1e-6


def describe_request(request: PatternRequest) -> str:
    if request.kind == "target":
        return f"target #{request.index} of {request.source} ({request.size_macropixels} macropixels)"
    return {"checkerboard": "checkerboard", "all_on": "all on", "all_off": "all off"}.get(request.kind, request.kind)
