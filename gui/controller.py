"""The window's one entry point to the lab: devices, captures and training, all off the UI thread.

It keeps the bench single-owner: the device thread holds it; a capture borrows it (the device worker stops
the live view and lends it), and gives it back when done. Closing runs in steps without blocking the
window: abort the capture and stop training, wait for the bench to come back, close it with the laser off,
then report `shutdown_complete`.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QThread, QTimer, Signal

from speckle_lab.acquisition.plan import CapturePlan
from speckle_lab.gui import training_log
from speckle_lab.gui.capture_worker import CaptureJob, CaptureRunner, CaptureUpdate, JobReport
from speckle_lab.gui.device_worker import BenchInfo, DeviceWorker, LaserOff
from speckle_lab.gui.errors import Problem
from speckle_lab.gui.patterns import PatternRequest
from speckle_lab.gui.training_worker import TrainingRunner
from speckle_lab.lab.training_service import TrainingJob

if TYPE_CHECKING:
    import numpy as np

    from speckle_lab.lab.bench import Bench
    from speckle_lab.lab.capture_queue import ClosedLaser

log = logging.getLogger(__name__)

TRAINING_EXIT_GRACE_MS = 15_000  # after "quit", a child that has not exited by then is killed


class LabController(QObject):
    # devices (re-emitted from the device worker)
    bench_opened = Signal(object)  # BenchInfo
    laser = Signal(object)  # LaserState (also from the capture, while it owns the bench)
    camera = Signal(object)  # CameraState
    pattern = Signal(object)  # PatternShown: what the DMD shows, and what it is
    snapped = Signal(object)  # (request id, np.ndarray): a frame for the reconstruction view
    alarm = Signal(str)  # the laser could not be confirmed off: shown and logged, never hidden
    frame = Signal(object)  # LiveFrame
    preflight = Signal(object)  # Preflight or Problem
    problem = Signal(object)  # Problem: shown in the banner
    # capture
    capture_state = Signal(str)  # idle, starting, running, pausing, paused, resuming, stopping
    capture_update = Signal(object)  # CaptureUpdate
    capture_job_started = Signal(int, object)  # index, CaptureJob
    capture_job_done = Signal(object)  # JobReport
    capture_finished = Signal()
    # training
    training_state = Signal(str)  # idle, running, stopping, evaluating
    training_batch = Signal(object)
    training_epoch = Signal(object)
    training_samples = Signal(object)
    training_done = Signal(object)
    training_evaluation = Signal(object)
    training_finished = Signal()
    # lifetime
    shutdown_complete = Signal()

    def __init__(self, bench_path: Path | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.bench_path = bench_path
        self.bench_info: BenchInfo | None = None
        self._thread = QThread()
        self._thread.setObjectName("devices")
        self.devices = DeviceWorker()
        self.devices.moveToThread(self._thread)
        self._thread.finished.connect(self._device_thread_finished)
        worker = self.devices
        worker.opened.connect(self._opened)
        for source, target in (
            (worker.laser, self.laser),
            (worker.camera, self.camera),
            (worker.pattern, self.pattern),
            (worker.frame, self.frame),
            (worker.preflight, self.preflight),
            (worker.problem, self.problem),
            (worker.snapped, self.snapped),
            (worker.alarm, self.alarm),
        ):
            source.connect(target)
        worker.lent.connect(self._lent)
        worker.closed.connect(self._bench_closed)
        self.capture: CaptureRunner | None = None
        self._lent_bench: Bench | None = None  # the bench lent to the capture running (tests reach its devices)
        self._pending_jobs: list[CaptureJob] | None = None
        self._pause_requested = False
        self._capture_state = "idle"
        self.training: TrainingRunner | None = None
        self._training_state = "idle"
        self._shutting_down = False
        self._device_thread_done = False
        self._kill_timer = QTimer(self)
        self._kill_timer.setSingleShot(True)
        self._kill_timer.timeout.connect(self._kill_training)

    # -- lifetime -----------------------------------------------------------------------------------
    def start(self) -> None:
        """Open the bench on the device thread (once; not after the window began closing)."""
        if self._shutting_down or self._thread.isRunning():
            return
        self._thread.start()
        self.devices.submit("open", self.bench_path)

    def _opened(self, info: BenchInfo) -> None:
        self.bench_info = info
        self.bench_opened.emit(info)

    @property
    def shutting_down(self) -> bool:
        return self._shutting_down

    def shutdown(self) -> None:
        """Stop everything cleanly; `shutdown_complete` follows (the window closes then)."""
        if self._shutting_down:
            return
        self._shutting_down = True
        self._pending_jobs = None
        if self.training is not None:
            self._set_training_state("stopping")
            self.training.quit()
            self._kill_timer.start(TRAINING_EXIT_GRACE_MS)
        if self.capture is not None:  # the light goes off now, as LASER OFF does, not when the block ends
            self.laser_off_now("the control panel was closed")
        elif self._capture_state == "starting":
            pass  # the bench is on its way to the capture: _lent hands it straight back
        elif not self._thread.isRunning():  # closed before the bench began to open: nothing to close
            self._device_thread_done = True
            self._check_shutdown()
        else:
            self.devices.submit("close")

    def _bench_closed(self) -> None:
        if self._shutting_down:
            self._thread.quit()

    def _device_thread_finished(self) -> None:
        self._device_thread_done = True
        self._check_shutdown()

    def _kill_training(self) -> None:
        if self.training is not None:
            self.training.kill()

    def _check_shutdown(self) -> None:
        if self._shutting_down and self._device_thread_done and self.training is None:
            self._kill_timer.stop()
            self.shutdown_complete.emit()

    # -- devices ------------------------------------------------------------------------------------
    def laser_off_now(self, why: str = "LASER OFF by the operator") -> LaserOff:
        """The operator's laser off (and closing the window): at once, on this thread, on the laser that exists.
        During a capture the capture is aborted first (the file stays valid and resumable; the block in flight
        is discarded), then the light goes off without waiting for the block to end, on the bench the capture's
        queue holds now; between a failed job and the next bench there is no open laser, and the queue's verdict
        on the one it closed is what is reported (never a command to a closed port). Without a capture: the
        session's laser, or the one lent or on its way back. Returns whether the laser is known off (and what was
        acted on, when not an open laser); a failure comes as `alarm`."""
        holder, capture = None, self.capture
        if capture is not None:
            capture.abort(why)  # first: the block in flight is then discarded, an arming never switches on
            holder = capture.laser_holder()  # the queue may have swapped, closed or reopened benches
        elif self._capture_state == "starting":
            self._pending_jobs = []
        result = self.devices.laser_off_now(holder, why)  # the light goes off here, before anything is redrawn
        note = f" ({result.message})" if result.message else ""
        log.warning("laser off: %s%s%s", why, " (capture aborted)" if capture is not None else "", note)
        if capture is not None:
            self._set_capture_state("stopping")
        return result

    def set_power_w(self, power_w: float) -> None:
        self.devices.submit("set_power_w", power_w)

    def set_emission(self, on: bool) -> None:
        """Emission on waits its turn on the device thread with the stop token taken now, at the click: a LASER
        OFF given meanwhile wins (the on command is never sent)."""
        if on:
            self.devices.submit("set_emission", True, self.devices.emission_token())
        else:
            self.devices.submit("set_emission", False)

    def show_pattern(self, request: PatternRequest) -> None:
        self.devices.submit("show_pattern", request)

    def set_exposure_us(self, exposure_us: float) -> None:
        self.devices.submit("set_exposure_us", exposure_us)

    def set_gain_db(self, gain_db: float) -> None:
        self.devices.submit("set_gain_db", gain_db)

    def set_roi(self, roi: tuple[int, int, int, int] | None) -> None:
        """(row, col, height, width), or None for the full sensor."""
        self.devices.submit("set_roi", roi)

    def set_live(self, on: bool) -> None:
        self.devices.submit("set_live", on)

    def hide_live(self, hidden: bool) -> None:
        """The live image is out of sight (another page): no frames are grabbed until it is back."""
        self.devices.submit("hide_live", hidden)

    def frame_shown(self) -> None:
        """The window has drawn the last live frame: the device thread may send the next."""
        self.devices.frame_shown.set()

    def show_image(self, image: np.ndarray, description: str) -> None:
        """Show a macropixel image (values in [0, 1]) on the DMD's active area."""
        self.devices.submit("show_image", image, description)

    def show_and_snap(self, request_id: int, pattern: np.ndarray, description: str) -> None:
        """Show a mirror pattern, then grab one frame of its speckle (`snapped`)."""
        self.devices.submit("show_and_snap", request_id, pattern, description)

    def request_preflight(self, plan: CapturePlan, out: Path, rows_done: int = 0) -> None:
        if self.capture is None and self._capture_state == "idle":
            self.devices.submit("preflight", plan, out, rows_done)

    # -- capture ------------------------------------------------------------------------------------
    @property
    def capture_state_now(self) -> str:
        return self._capture_state

    @property
    def capture_busy(self) -> bool:
        return self._capture_state != "idle"

    def start_capture(self, jobs: list[CaptureJob]) -> None:
        """Borrow the bench from the device thread and run `jobs` on it."""
        if self._shutting_down:
            return
        if self.capture_busy:
            self.problem.emit(
                Problem(
                    "A capture is already running",
                    "Only one capture runs at a time.",
                    "Wait for it to finish, or abort it.",
                )
            )
            return
        if self.bench_info is None:
            self.problem.emit(
                Problem(
                    "No bench is open",
                    "The devices could not be opened.",
                    "Fix the problem shown when the panel started, then restart it.",
                )
            )
            return
        self._pending_jobs = list(jobs)
        self._pause_requested = False
        self._set_capture_state("starting")
        self.devices.submit("lend")

    def _lent(self, bench: Bench) -> None:
        self._lent_bench = bench
        jobs, self._pending_jobs = self._pending_jobs, None
        if not jobs or self._shutting_down:
            self.devices.submit("reclaim", bench)
            self._set_capture_state("idle")
            if self._shutting_down:
                self.devices.submit("close")
            return
        source = self.bench_info.source if self.bench_info else "panel bench"
        runner = CaptureRunner(bench, jobs, source)
        runner.update.connect(self._capture_update)
        runner.job_started.connect(self._capture_job_started)
        runner.job_done.connect(self._capture_job_done)
        runner.finished.connect(self._capture_done)
        runner.preflight.connect(self.preflight)
        self.capture = runner
        if self._pause_requested:
            runner.pause()
        self._set_capture_state("pausing" if self._pause_requested else "running")
        runner.start()

    def pause_capture(self) -> None:
        """Ask the engine to pause; the state is "pausing" until it reports it has (between blocks)."""
        if self.capture is not None and self._capture_state in ("running", "resuming"):
            self.capture.pause()
            self._set_capture_state("pausing")
        elif self._capture_state == "starting":
            self._pause_requested = True

    def resume_capture(self) -> None:
        """Ask the engine to continue; "resuming" until it reports rows again."""
        if self.capture is not None and self._capture_state in ("paused", "pausing"):
            self.capture.resume()
            self._set_capture_state("resuming")
        elif self._capture_state == "starting":
            self._pause_requested = False

    def abort_capture(self) -> None:
        if self.capture is not None:
            self._set_capture_state("stopping")
            self.capture.abort()
        elif self._capture_state == "starting":
            self._pending_jobs = []

    def _capture_update(self, update: CaptureUpdate) -> None:
        """The engine's own report decides the state: paused only once it has paused, running again only once
        it has continued."""
        if update.laser is not None:
            self.laser.emit(update.laser)
        state = self._capture_state
        if update.paused and state in ("pausing", "running"):
            self._set_capture_state("paused")
        elif not update.paused and state == "resuming" and update.phase not in ("paused",):
            self._set_capture_state("running")
        self.capture_update.emit(update)

    def _capture_job_started(self, index: int, job: CaptureJob) -> None:
        if self._capture_state == "failed":  # the queue goes on with its next entry
            self._set_capture_state("running")
        self.capture_job_started.emit(index, job)

    def _capture_job_done(self, report: JobReport) -> None:
        if report.status in ("aborted", "failed") and self._capture_state != "idle":
            self._set_capture_state(report.status)  # what the file says, at once (the bench comes back next)
        if report.laser_alarm:  # the capture's (or a bench's close or connect): the red banner, as every alarm
            self.alarm.emit(report.laser_alarm)
        elif report.problem is not None and report.status != "aborted":
            self.problem.emit(report.problem)
        self.capture_job_done.emit(report)

    def _capture_done(self, bench: Bench | None) -> None:
        self._lent_bench = None
        runner, self.capture = self.capture, None
        # Until the device thread has it back, the laser-off path acts on this bench (or, none reopened, the
        # verdict on the last laser closed).
        holder: Bench | ClosedLaser | None = bench if bench is not None or runner is None else runner.laser_holder()
        self.devices.session.returning(holder)
        if runner is not None:
            runner.wait(5.0)  # the thread has only its last statement left
        self.devices.submit("reclaim", bench)
        self._set_capture_state("idle")
        self.capture_finished.emit()
        if self._shutting_down:
            self.devices.submit("close")

    def _set_capture_state(self, state: str) -> None:
        self._capture_state = state
        self.capture_state.emit(state)

    # -- training -----------------------------------------------------------------------------------
    @property
    def training_busy(self) -> bool:
        return self.training is not None

    def start_training(self, job: TrainingJob) -> None:
        """Train (or, for an evaluate job, evaluate) in a child process."""
        if self._shutting_down:
            return
        if self.training is not None:
            self.problem.emit(
                Problem(
                    "Training is already running",
                    "One training or evaluation at a time.",
                    "Wait for it to finish, or stop it.",
                )
            )
            return
        runner = TrainingRunner(job)
        runner.batch.connect(self.training_batch)
        runner.epoch.connect(self._training_epoch)
        runner.samples.connect(self.training_samples)
        runner.done.connect(self._training_done)
        runner.evaluation.connect(self._training_evaluation)
        runner.failed.connect(self._training_failed)
        runner.finished.connect(self._training_finished)
        self.training = runner
        training_log.started(job)
        self._set_training_state("evaluating" if job.kind == "evaluate" else "running")
        runner.start()

    def stop_training(self) -> None:
        if self.training is not None:
            log.info("training: stop requested by the operator (the finished epochs are kept)")
            self._set_training_state("stopping")
            self.training.stop()

    def _training_epoch(self, event: dict) -> None:
        training_log.epoch(event)
        self.training_epoch.emit(event)

    def _training_done(self, result: dict) -> None:
        training_log.ended(result)
        if self.training is not None and self.training.job.evaluate and not self._shutting_down:
            self._set_training_state("evaluating")
        self.training_done.emit(result)

    def _training_evaluation(self, result: dict) -> None:
        training_log.evaluated(result)
        self.training_evaluation.emit(result)

    def _training_failed(self, problem: Problem) -> None:
        training_log.failed(self.training.job if self.training is not None else None, problem)
        self.problem.emit(problem)

    def _training_finished(self) -> None:
        runner, self.training = self.training, None
        if runner is not None:
            runner.wait(5.0)
        self._set_training_state("idle")
        self.training_finished.emit()
        self._check_shutdown()

    def _set_training_state(self, state: str) -> None:
        self._training_state = state
        self.training_state.emit(state)
