"""Captures run here, on a thread of their own, with the bench the device worker lent them.

One runner takes a list of jobs (one plan, a resumed file, or the entries of an overnight queue) and runs
them, in order, with the lab's capture queue (`CaptureQueue.run`, the one way the command line, the study and
the panel run a capture), which owns the panel's bench while they run: it decides when a job needs another
bench, closes a bench whose run failed on the devices (the next job gets fresh ones) and reopens the panel's
at the end. This module only adds what Qt needs: a thread, throttled progress signals and reports (a hook of
the queue shows each new plan's preflight). When all jobs are done (or aborted) the runner hands a bench back
through `finished`.

A job that ends with a laser that could not be confirmed off (the lifecycle's `LaserOffFailed`, in the result or
raised at a bench's connect or close) reports it as `laser_alarm`: the window shows the LASER ALARM banner, never
"the laser is off".
"""

from __future__ import annotations

import contextlib
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from PySide6.QtCore import Signal

from speckle_lab.acquisition.control import CaptureControl
from speckle_lab.acquisition.datafile import CaptureReader
from speckle_lab.acquisition.scheduler import CaptureProgress, CaptureRun
from speckle_lab.gui.device_worker import LaserOffFailed, LaserState, read_laser
from speckle_lab.gui.errors import Problem, describe
from speckle_lab.gui.thread_runner import ThreadRunner
from speckle_lab.lab.bench import Bench
from speckle_lab.lab.capture_queue import CaptureJob, CaptureQueue, ClosedLaser

UPDATE_INTERVAL_S = 0.05  # progress reaches the window at most 20 times a second
LASER_SAMPLE_INTERVAL_S = 0.5


@dataclass(frozen=True)
class CaptureUpdate:
    """A copy of the scheduler's progress, safe to hand to the UI thread."""

    job: int
    jobs: int
    label: str
    phase: str
    rows_done: int
    rows_total: int
    frames_per_s: float
    eta_s: float
    retries: int
    paused: bool
    last_target: np.ndarray | None
    last_speckle: np.ndarray | None
    reference_correlation: tuple[float, ...]
    laser: LaserState | None


@dataclass(frozen=True)
class JobReport:
    """How one job ended, with what the file says about lost frames and retries."""

    job: int
    label: str
    out: Path
    status: str  # complete, aborted, failed, skipped
    rows_committed: int = 0
    rows_planned: int = 0
    retries: int = 0
    elapsed_s: float = 0.0
    message: str = ""
    frame_gaps: int = 0
    camera_timeouts: int = 0
    frames_skipped: int = 0
    problem: Problem | None = None
    laser_alarm: str = ""  # the laser could not be confirmed off: the alarm line ("" otherwise)


__all__ = ["CaptureJob", "CaptureRunner", "CaptureUpdate", "JobReport"]


class CaptureRunner(ThreadRunner):
    """Runs `jobs` on a worker thread. pause/resume/abort may be called from any thread."""

    update = Signal(object)  # CaptureUpdate
    job_started = Signal(int, object)  # index, CaptureJob
    job_done = Signal(object)  # JobReport
    finished = Signal(object)  # the panel's Bench, handed back (None if it could not be reopened)
    preflight = Signal(object)  # Preflight of a new plan, on the bench that runs it
    thread_name = "capture"

    def __init__(self, bench: Bench, jobs: list[CaptureJob], panel_source: str = "panel bench") -> None:
        super().__init__()
        self.jobs = list(jobs)
        self._queue = CaptureQueue(bench.config, panel_source, bench)
        self._control = CaptureControl()
        self._lock = threading.Lock()
        self._paused = False
        self._aborted = False
        self._last_update_s = 0.0
        self._last_phase = ""
        self._last_paused = False
        self._laser: LaserState | None = None
        self._laser_s = 0.0
        self._last_progress: CaptureProgress | None = None

    # -- control (any thread) -------------------------------------------------------------------------
    def pause(self) -> None:
        with self._lock:
            self._paused = True
            self._control.pause()

    def resume(self) -> None:
        with self._lock:
            self._paused = False
            self._control.resume()

    def abort(self, reason: str = "aborted by the operator") -> None:
        with self._lock:
            self._aborted = True
            self._control.abort(reason)

    @property
    def paused(self) -> bool:
        return self._paused

    @property
    def bench(self) -> Bench | None:
        """The bench the queue holds now (it may have swapped the panel's for a job's own; None between a failed
        job and the next bench)."""
        return self._queue.bench

    def laser_holder(self) -> Bench | ClosedLaser | None:
        """Any thread: what the laser-off path acts on: the bench whose laser the queue has now (held, or handed
        back), else the verdict on the laser it closed last (no open laser: nothing to command)."""
        return self._queue.laser_holder()

    # -- the capture thread ---------------------------------------------------------------------------
    def _run(self) -> None:
        try:
            for index, job in enumerate(self.jobs):
                if self._aborted:
                    self.job_done.emit(JobReport(index, job.label, job.out, "skipped", message="the queue was aborted"))
                    continue
                self.job_started.emit(index, job)
                self.job_done.emit(self._run_job(index, job))
        finally:
            self.finished.emit(self._give_back())

    def _run_job(self, index: int, job: CaptureJob) -> JobReport:
        """One job through the lab's capture queue (`CaptureQueue.run`, as the command line and the study run
        theirs): a run that fails on the devices leaves the queue's bench closed, and the next job, or the
        hand-back at the end, opens fresh devices."""
        with self._lock:
            self._control = CaptureControl()
            if self._paused:
                self._control.pause()
            if self._aborted:
                self._control.abort()
            control = self._control
        self._last_progress = None

        def on_progress(progress: CaptureProgress) -> None:
            self._last_progress = progress
            self._sample_laser()
            self._emit(index, job, progress)

        def on_prepared(run: CaptureRun) -> None:
            if job.plan is not None:  # what the new plan takes, on the bench that runs it
                self.preflight.emit(run.preflight())

        try:
            result = self._queue.run(job, control=control, on_progress=on_progress, on_prepared=on_prepared)
        except Exception as error:
            return _failed_report(index, job.label, job.out, error, f"starting {job.out.name}")
        self._sample_laser(force=True)
        if self._last_progress is not None:
            final = self._snapshot(index, job, self._last_progress)
            self.update.emit(
                replace(
                    final,
                    phase=result.status,
                    rows_done=result.rows_committed,
                    paused=False,
                    eta_s=0.0,
                    retries=result.retries,
                )
            )
        gaps, timeouts, skipped = _file_faults(job.out)
        problem = None
        if result.status == "failed" and not result.laser_alarm:  # with an alarm, "the laser is off" is false
            problem = Problem(
                f"The capture of {job.out.name} failed",
                result.message,
                "Check the devices; the laser is off and the file is valid: resume it when ready.",
            )
        return JobReport(
            index,
            job.label,
            job.out,
            result.status,
            result.rows_committed,
            result.rows_planned,
            result.retries,
            result.elapsed_s,
            result.message,
            gaps,
            timeouts,
            skipped,
            problem,
            result.laser_alarm,
        )

    def _give_back(self) -> Bench | None:
        try:
            return self._queue.release()
        except Exception as error:
            self.job_done.emit(_failed_report(-1, "reopen the bench", Path(), error, "reopening the bench"))
            return None

    def _sample_laser(self, force: bool = False) -> None:
        now = time.monotonic()
        bench = self._queue.bench
        if bench is None or (not force and now - self._laser_s < LASER_SAMPLE_INTERVAL_S):
            return
        self._laser_s = now
        with contextlib.suppress(Exception):
            self._laser = read_laser(bench, by_capture=True)

    def _emit(self, index: int, job: CaptureJob, progress: CaptureProgress) -> None:
        """Throttled: phase and pause changes and the last row always go out, the rest at most every 50 ms."""
        now = time.monotonic()
        changed = progress.phase != self._last_phase or progress.paused != self._last_paused
        done = progress.rows_done >= progress.rows_total
        if not (changed or done or now - self._last_update_s >= UPDATE_INTERVAL_S):
            return
        self._last_update_s, self._last_phase, self._last_paused = now, progress.phase, progress.paused
        self.update.emit(self._snapshot(index, job, progress))

    def _snapshot(self, index: int, job: CaptureJob, progress: CaptureProgress) -> CaptureUpdate:
        return CaptureUpdate(
            job=index,
            jobs=len(self.jobs),
            label=job.label,
            phase=progress.phase,
            rows_done=progress.rows_done,
            rows_total=progress.rows_total,
            frames_per_s=progress.frames_per_s,
            eta_s=progress.eta_s,
            retries=progress.retries,
            paused=progress.paused,
            last_target=None if progress.last_target is None else np.array(progress.last_target),
            last_speckle=None if progress.last_speckle is None else np.array(progress.last_speckle),
            reference_correlation=tuple(float(c) for c in progress.reference_correlation),
            laser=self._laser,
        )


def _failed_report(index: int, label: str, out: Path, error: Exception, doing: str) -> JobReport:
    """A job that raised: the alarm when its laser could not be confirmed off, else the problem."""
    if isinstance(error, LaserOffFailed):
        return JobReport(index, label, out, "failed", message=str(error), laser_alarm=error.alarm)
    return JobReport(index, label, out, "failed", message=str(error), problem=describe(error, doing))


def _file_faults(path: Path) -> tuple[int, int, int]:
    """Frame-id gaps and camera timeouts logged in the file, and frames the camera skipped."""
    try:
        with CaptureReader(path) as reader:
            summary = reader.summary()
    except Exception:
        return 0, 0, 0
    events = summary.get("events", {})
    return (
        int(events.get("frame_gaps", 0)),
        int(events.get("camera_timeouts", 0)),
        int(summary.get("frame_ids", {}).get("frames_skipped", 0)),
    )
