"""The capture engine: drives laser, DMD and camera through their contracts and writes the data file.

It never knows whether a device is simulated. Every exit path (the end, an error, an abort, Ctrl-C)
leaves the laser off and the file valid, holding every row committed so far; a stopped run tells the
exact command that resumes it. The laser is switched on and off only through its lifecycle
(`acquisition.laser_lifecycle`): read back off before the start darks (an alarm there stops the run before
any frame is written), armed only if no stop was asked for, read back off after the last row, on every stop
and at the end; every transition is an event in the file.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from speckle_lab.acquisition.control import CaptureAborted, CaptureControl
from speckle_lab.acquisition.datafile import CaptureReader, CaptureWriter, FrameRows, RunMetadata
from speckle_lab.acquisition.datafile.layout import EventKind
from speckle_lab.acquisition.datafile.lock import WriterLock
from speckle_lab.acquisition.frame_capture import FrameCapture, FrameGapError, SequenceCapture, StepCapture
from speckle_lab.acquisition.killpoints import kill_point
from speckle_lab.acquisition.laser_lifecycle import LaserState, TransitionLog, lifecycle_of
from speckle_lab.acquisition.plan import CapturePlan
from speckle_lab.acquisition.preflight import Preflight, preflight
from speckle_lab.acquisition.rows import RowBlock, RowMaker
from speckle_lab.acquisition.text import resume_command
from speckle_lab.drivers import (
    DMD,
    Camera,
    DeviceError,
    DeviceTimeout,
    DmdGeometry,
    FrameBlock,
    Laser,
    LaserFault,
    LaserOffFailed,
)
from speckle_lab.drivers.capabilities import TriggeredSequences


class CaptureError(RuntimeError):
    """A capture that cannot start or had to stop; the message says what failed and what to do."""


@dataclass
class CaptureDevices:
    laser: Laser
    dmd: DMD
    camera: Camera
    geometry: DmdGeometry


@dataclass
class CaptureProgress:
    """What the command line and the GUI show while a capture runs."""

    phase: str
    rows_done: int
    rows_total: int
    frames_per_s: float = 0.0
    eta_s: float = float("nan")
    retries: int = 0
    paused: bool = False
    last_target: np.ndarray | None = None
    last_speckle: np.ndarray | None = None
    reference_correlation: list[float] = field(default_factory=list)


@dataclass(frozen=True)
class ResumeState:
    """What a file to resume already holds, so a resume redoes nothing and skips nothing."""

    rows_done: int = 0
    start_darks_done: bool = False
    end_darks_done: bool = False
    missing_reference_row: int | None = None  # the reference after this row was lost by the crash


@dataclass
class CaptureResult:
    path: Path
    status: str  # complete, aborted, failed
    rows_committed: int
    rows_planned: int
    retries: int
    elapsed_s: float
    message: str = ""
    #: Non-empty when a switch-off of this run could not be confirmed: an alarm to show, never to hide.
    laser_alarm: str = ""
    laser_failure: LaserOffFailed | None = None  # the failure behind `laser_alarm`

    @property
    def ok(self) -> bool:
        return self.status == "complete" and not self.laser_alarm


ProgressCallback = Callable[[CaptureProgress], None]


class CaptureRun:
    """One plan into one file. `run()` returns a `CaptureResult` for normal ends, aborts and device
    failures; it raises `CaptureError` only when the run cannot start (preflight, bad file)."""

    def __init__(
        self,
        plan: CapturePlan,
        devices: CaptureDevices,
        path: Path,
        *,
        bench: dict,
        medium: dict | None = None,
        resume: bool = False,
        control: CaptureControl | None = None,
        on_progress: ProgressCallback | None = None,
        resume_lock: WriterLock | None = None,
        overwrite: bool = False,
    ) -> None:
        self.plan = plan
        self.devices = devices
        self.path = Path(path)
        self.bench = bench
        self.medium = medium
        self.resume = resume
        self.overwrite = overwrite  # replace an existing file: the writer refuses one that is being written
        self.resume_lock = resume_lock  # taken (and the crash flags cleared) by the caller before reading the file
        self._point = "resume" if resume else "capture"
        self._blocks_this_run = 0
        self.laser_alarm = ""
        self.lifecycle = lifecycle_of(devices.laser)
        self._laser_log = TransitionLog()  # subscribed when the run starts
        self._alarms_before = 0
        self._stops_before = 0
        self._held_interrupt: KeyboardInterrupt | None = None
        self.control = control or CaptureControl()
        self.on_progress = on_progress
        self.rows = RowMaker(plan, devices.geometry, devices.dmd.mirror_shape)
        self.capture = self._make_capture()
        self.retries = 0
        self._progress = CaptureProgress("starting", 0, plan.n_frames)
        self._started_s = 0.0
        self._rows_at_start = 0
        self._paused_s = 0.0  # time spent paused: left out of the rate

    def _make_capture(self) -> FrameCapture:
        plan, dmd, camera, geometry = self.plan, self.devices.dmd, self.devices.camera, self.devices.geometry
        if plan.mode == "sequence" and isinstance(dmd, TriggeredSequences):
            picture_time_us = plan.picture_time_for(dmd.min_picture_time_us)
            return SequenceCapture(dmd, camera, plan.exposure_us, plan.read_timeout_s, picture_time_us, geometry)
        return StepCapture(dmd, camera, plan.exposure_us, plan.read_timeout_s, plan.settle_s, geometry)

    # -- before the run ---------------------------------------------------------------------------
    def preflight(self, rows_done: int = 0) -> Preflight:
        camera = self.devices.camera
        return preflight(
            self.plan,
            self.path,
            speckle_shape=camera.shape,
            speckle_itemsize=camera.dtype.itemsize,
            seconds_per_frame=self.capture.seconds_per_frame(),
            rows_done=rows_done,
            frame_fields=self.rows.frame_fields,
        )

    def _open_writer(self) -> CaptureWriter:
        camera = self.devices.camera
        if self.resume:
            return CaptureWriter.open_for_resume(self.path, lock=self.resume_lock)
        metadata = RunMetadata(
            plan=self.plan.to_dict(),
            bench=self.bench,
            devices=[d.identity.as_dict() for d in (self.devices.laser, self.devices.dmd, camera)],
            medium=self.medium,
            target_stats=self.rows.target_stats(),
            n_planned=self.plan.n_frames,
        )
        return CaptureWriter.create(
            self.path,
            speckle_shape=camera.shape,
            speckle_dtype=camera.dtype,
            target_shape=self.plan.target_shape,
            frame_fields=self.rows.frame_fields,
            metadata=metadata,
            overwrite=self.overwrite,
        )

    # -- the run ----------------------------------------------------------------------------------
    def run(self) -> CaptureResult:
        self._started_s = time.monotonic()
        state = self._existing_progress() if self.resume else ResumeState()
        check = self.preflight(state.rows_done)
        if not check.ok:
            raise CaptureError(f"{self.path}: refusing to start: {check.message}")
        self._check_devices_accept_plan()
        writer = self._open_writer()
        self._rows_at_start = writer.n_committed
        self._start_laser_record()
        status, message, where = "failed", "", "after the failure"
        try:
            self._record_laser(writer)  # the laser found emitting at connect, if it was
            self.capture.open()
            if self.plan.mode == "sequence" and isinstance(self.capture, StepCapture):
                writer.log_event(EventKind.STEP_MODE, "the DMD cannot trigger the camera from a sequence: step mode", 0)
            # read back off before any frame is written: a laser that will not go off stops the run here
            self._switch_off(writer, "before the start darks" if not state.start_darks_done else "at the start")
            self._stop_point()
            if not state.start_darks_done:
                self._capture_darks(writer, "start")
                kill_point(f"{self._point}:darks")
            if writer.n_committed < self.plan.n_frames or state.missing_reference_row is not None:
                # a stop asked for during the darks: the laser never comes on; a pause waits here, dark
                done = writer.n_committed
                self.control.checkpoint(on_pause=lambda: self._report("paused", done, paused=True))
                self._laser_on(writer)
                if state.missing_reference_row is not None:
                    self._retake_reference(writer, state.missing_reference_row)
                self._capture_rows(writer)
                self._switch_off(writer, "after the last row")
            if not state.end_darks_done:
                self._stop_point()  # a stop asked for during the switch-off: the end darks wait for the resume
                self._capture_darks(writer, "end")
                kill_point(f"{self._point}:end_darks")
            status, message = "complete", f"{writer.n_committed} rows captured into {self.path}"
            where = "at the end of the run"
        except (CaptureAborted, KeyboardInterrupt) as stop:
            status = "aborted"
            reason = str(stop) or "interrupted (Ctrl-C)"
            where = f"on stop ({reason})"
            message = self._stopped_message(writer, reason)
            self._safe(lambda: writer.log_event(EventKind.ABORTED, reason, writer.n_committed))
        except LaserOffFailed as off_failed:  # recorded by the lifecycle already (laser_off_failed)
            status = "failed"
            message = self._stopped_message(writer, str(off_failed))
        except (DeviceError, OSError) as error:
            status = "failed"
            message = self._stopped_message(writer, f"{type(error).__name__}: {error}")
            kind = EventKind.WRITE_ERROR if isinstance(error, OSError) else EventKind.DEVICE_ERROR
            detail = str(error)
            if isinstance(error, LaserFault):  # named apart, then logged as the device error it also is
                self._safe(lambda: writer.log_event(EventKind.LASER_FAULT, detail, writer.n_committed))
            self._safe(lambda: writer.log_event(kind, detail, writer.n_committed))
        finally:
            self._shutdown_devices(writer, where)
            self._safe(lambda: writer.set_status(status))
            if status == "complete":
                kill_point(f"{self._point}:closing")
            self._safe(writer.close)
        failures = self.lifecycle.failures[self._alarms_before :]
        failure = failures[-1] if failures else None
        self.laser_alarm = failure.alarm if failure is not None else ""
        if failure is not None:
            message = f"{message}; {self.laser_alarm}"
        if self._held_interrupt is not None:  # a KeyboardInterrupt came during the shutdown: it waited until now
            if failure is not None:
                raise failure from self._held_interrupt
            raise self._held_interrupt
        return CaptureResult(
            self.path,
            status,
            writer.n_committed,
            self.plan.n_frames,
            self.retries,
            time.monotonic() - self._started_s,
            message,
            self.laser_alarm,
            failure,
        )

    # -- the laser --------------------------------------------------------------------------------
    def _start_laser_record(self) -> None:
        """From here on the laser's transitions go into this run's file, and a stop asked for through this run's
        control reaches the laser's lifecycle at once (an arming in flight never sends its on command)."""
        lifecycle = self.lifecycle
        self._laser_log = lifecycle.record()
        self._alarms_before = len(lifecycle.failures)
        self._stops_before = lifecycle.stops
        self.control.on_abort(lifecycle.request_stop)

    def _record_laser(self, writer: CaptureWriter) -> None:
        """The laser's transitions since the last call (from this thread or another: the panel's LASER OFF)."""
        for transition in self._laser_log.take():
            writer.log_event(transition.kind, transition.message, writer.n_committed, transition.time_s)

    def _laser_on(self, writer: CaptureWriter) -> None:
        try:
            self.lifecycle.arm(self._stops_before, self.plan.laser_power_w)
        finally:
            self._record_laser(writer)

    def _switch_off(self, writer: CaptureWriter, where: str) -> None:
        """Off and read back, recorded; `LaserOffFailed` (the alarm, recorded) when it did not go off."""
        try:
            ok = self.lifecycle.switch_off(where)
        finally:
            self._record_laser(writer)
        if not ok:
            raise self.lifecycle.failures[-1]

    def _stop_point(self) -> None:
        if self.control.aborted:
            raise CaptureAborted(self.control.abort_reason)

    def _check_devices_accept_plan(self) -> None:
        """Apply the run's power setpoint (emission stays off) and exposure now: a plan the devices refuse
        stops here, before a file exists, not as a failed file whose suggested resume could never work."""
        laser, camera = self.devices.laser, self.devices.camera
        try:
            laser.set_power_w(self.plan.laser_power_w)
            camera.set_exposure_us(self.plan.exposure_us)
        except (DeviceError, ValueError) as error:
            raise CaptureError(f"{self.path}: refusing to start: the devices refuse the plan: {error}") from None

    def _existing_progress(self) -> ResumeState:
        """What the file to resume holds: rows, darks, and a reference frame the crash may have cost."""
        with CaptureReader(self.path) as reader:
            _, _, phase = reader.dark()
            _, _, after_row, _ = reader.references()
            rows = reader.n_frames
        every, n = self.plan.reference_every, self.plan.n_frames
        due = rows > 0 and (rows % every == 0 or rows == n)
        missing = rows if due and (not len(after_row) or int(after_row[-1]) != rows) else None
        return ResumeState(rows, bool(len(phase)) or rows > 0, bool(np.any(phase == "end")), missing)

    def _retake_reference(self, writer: CaptureWriter, row: int) -> None:
        writer.log_event(EventKind.REFERENCE_RETAKEN, f"the reference frame after row {row} was lost by the crash", row)
        self._capture_reference(writer, row)

    def _stopped_message(self, writer: CaptureWriter, reason: str) -> str:
        return (
            f"capture stopped after {writer.n_committed} of {self.plan.n_frames} rows: {reason}. "
            f"The file is valid; resume with: {resume_command(self.path)}"
        )

    def _capture_rows(self, writer: CaptureWriter) -> None:
        row = writer.n_committed
        while row < self.plan.n_frames:
            self._record_laser(writer)  # a switch-off from another thread (the panel's LASER OFF) goes in now
            self._pause_point(writer, row)
            stop = self._block_end(row)
            self._capture_block(writer, self.rows.make(range(row, stop)), row)
            row = stop

    def _pause_point(self, writer: CaptureWriter, row: int) -> None:
        """Between blocks: wait while paused. The pause and its end are events in the file, and the time spent
        paused is left out of the rate; an abort raises `CaptureAborted`."""
        paused_at: list[float] = []

        def on_pause() -> None:
            paused_at.append(time.monotonic())
            writer.log_event(EventKind.PAUSED, "paused by the operator", row)
            self._report("paused", row, paused=True)

        self.control.checkpoint(on_pause=on_pause)
        if paused_at:
            waited_s = time.monotonic() - paused_at[0]
            self._paused_s += waited_s
            writer.log_event(EventKind.PAUSE_ENDED, f"capture continued after {waited_s:.1f} s paused", row)
            self._report("frames", row)

    def _capture_block(self, writer: CaptureWriter, block: RowBlock, row: int) -> None:
        """One block of rows: capture (with retries), check the laser, commit, a reference frame when due."""
        stop = row + len(block.targets)
        frames = self._capture_with_retries(block.levels, writer, row)
        if self.control.aborted:  # the laser may have gone off mid-block (the operator's "laser off"): discard
            raise CaptureAborted(self.control.abort_reason)
        self._check_laser()
        writer.append_frames(
            FrameRows(
                speckle=frames.pixels,
                target=block.targets,
                target_index=block.target_index,
                timestamp_s=frames.timestamps_s,
                frame_id=frames.frame_ids,
                fields={**block.fields, **self._device_fields(len(frames))},
            )
        )
        self._blocks_this_run += 1
        if self._blocks_this_run == 1:
            kill_point(f"{self._point}:first_block")
        self._progress.last_target = block.targets[-1]
        self._progress.last_speckle = frames.pixels[-1]
        if stop % self.plan.reference_every == 0 or stop == self.plan.n_frames:
            if stop == self.plan.n_frames:
                kill_point(f"{self._point}:before_reference")
            self._capture_reference(writer, stop)
            if stop == self.plan.n_frames:
                kill_point(f"{self._point}:references")
        self._report("frames", stop)

    def _block_end(self, row: int) -> int:
        plan = self.plan
        next_reference = (row // plan.reference_every + 1) * plan.reference_every
        return min(row + plan.block_frames, next_reference, plan.n_frames)

    def _device_fields(self, n: int) -> dict[str, np.ndarray]:
        laser = self.devices.laser
        return {
            "exposure_us": np.full(n, self.devices.camera.exposure_us, np.float32),
            "laser_power_w": np.full(n, laser.power_setpoint_w if laser.emission else 0.0, np.float32),
        }

    def _capture_with_retries(self, levels: np.ndarray, writer: CaptureWriter, row: int) -> FrameBlock:
        """Capture a block of macropixel images; a timeout or a frame-id gap is recorded and the block retried
        from a clean state."""
        failures = 0
        while True:
            try:
                with self.control.waiting_on_devices():  # where a second stop signal may interrupt at once
                    return self.capture.capture(levels)
            except (DeviceTimeout, FrameGapError) as error:
                failures += 1
                kind = EventKind.FRAME_GAP if isinstance(error, FrameGapError) else EventKind.CAMERA_TIMEOUT
                writer.log_event(kind, str(error), row)
                if failures > self.plan.max_retries:
                    raise DeviceError(
                        str(self.devices.camera.identity),
                        f"capture rows {row}..{row + len(levels) - 1}",
                        f"failed {failures} times in a row, last: {error}",
                    ) from error
                if self.control.aborted:  # no retry once a stop was asked for
                    raise CaptureAborted(self.control.abort_reason) from error
                self.retries += 1
                self._progress.retries = self.retries
                attempt = f"attempt {failures + 1} of rows {row}..{row + len(levels) - 1}"
                writer.log_event(EventKind.RETRY, attempt, row)
                self.capture.reopen()

    def _capture_darks(self, writer: CaptureWriter, phase: str) -> None:
        n = self.plan.dark_frames
        if not n:
            return
        self._report("dark", writer.n_committed)
        if self.lifecycle.state is not LaserState.OFF:  # darks are taken only with the light read back off
            self._switch_off(writer, f"before the {phase} darks")
        levels = self.rows.dark_levels(n)
        frames = self._capture_with_retries(levels, writer, writer.n_committed)
        writer.append_dark(frames.pixels, frames.timestamps_s, phase)

    def _capture_reference(self, writer: CaptureWriter, row: int) -> None:
        frames = self._capture_with_retries(self.rows.reference_levels(), writer, row)
        correlation = writer.append_reference(frames.pixels[0], float(frames.timestamps_s[0]), row)
        self._progress.reference_correlation.append(correlation)

    def _check_laser(self) -> None:
        laser = self.devices.laser
        status = laser.status()
        if status.fault is not None or not status.interlock_closed:
            raise LaserFault(str(laser.identity), "status", status.fault or "interlock open")

    def _shutdown_devices(self, writer: CaptureWriter, where: str) -> None:
        """Laser off first, whatever else fails, read back and recorded in the file; a failed switch-off is
        an alarm (logged as critical, in the file, in the result), never swallowed."""
        self._safe(lambda: self.lifecycle.switch_off(where))
        self._safe(lambda: self._record_laser(writer))
        self._safe(self.capture.close)
        self._safe(lambda: self.lifecycle.forget(self._laser_log))

    def _safe(self, action: Callable[[], object]) -> None:
        """Shutting down: every step must run even if one fails; a KeyboardInterrupt (a Ctrl-C that no handler
        turned into a stop) waits until the last step ran, then `run` raises it."""
        try:
            action()
        except KeyboardInterrupt as interrupt:
            self._held_interrupt = self._held_interrupt or interrupt
        except Exception:
            pass

    def _report(self, phase: str, rows_done: int, paused: bool = False) -> None:
        progress = self._progress
        progress.phase, progress.rows_done, progress.paused = phase, rows_done, paused
        elapsed = time.monotonic() - self._started_s - self._paused_s
        captured = rows_done - self._rows_at_start
        progress.frames_per_s = captured / elapsed if elapsed > 0 else 0.0
        left = self.plan.n_frames - rows_done
        progress.eta_s = left / progress.frames_per_s if progress.frames_per_s > 0 else float("nan")
        if self.on_progress is not None:
            self.on_progress(progress)
