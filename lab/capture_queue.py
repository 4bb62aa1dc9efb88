"""Run a list of captures on one bench: the one owner of "run these plans in order".

`speckle-lab capture --queue`, the study and the panel's capture runner all hand their jobs to a
`CaptureQueue`. It opens the default bench once and keeps it for every job that runs on it, so a night of
plans shares one simulated medium (built once, not per entry) and one set of open devices, as on a real
bench. A job that needs another bench (a queue entry naming its own bench file, a resumed file captured on
another bench) closes the held bench and opens that one: the devices have one owner at a time. Jobs only
reopen a bench when its configuration differs from the one held.

Every bench the queue closes has its laser switched off and read back first (the laser's lifecycle), and the
queue keeps the verdict (`ClosedLaser`): between a failed job and the next bench, a LASER OFF from another
thread (`laser_holder`) then knows there is no open laser, and whether the last one was read back off, instead
of commanding a closed port (on real hardware: a failed switch-off, a false alarm).

What to do around each job (progress bars, Qt signals, Ctrl-C, whether a failure stops the list) stays with
the caller; the queue only decides which bench a job runs on and starts it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from types import TracebackType
from typing import Self

from speckle_lab.acquisition.control import CaptureControl
from speckle_lab.acquisition.laser_lifecycle import LaserState, lifecycle_of
from speckle_lab.acquisition.plan import CapturePlan
from speckle_lab.acquisition.scheduler import CaptureResult, CaptureRun
from speckle_lab.drivers import LaserOffFailed
from speckle_lab.lab.bench import Bench, build_bench
from speckle_lab.lab.bench_config import DEFAULT_BENCH_SOURCE, BenchConfig, load_bench
from speckle_lab.lab.capture_service import (
    ProgressCallback,
    check_output_path,
    claim_resume,
    close_quietly,
    make_run,
)
from speckle_lab.lab.logging_setup import capture_log


@dataclass(frozen=True)
class CaptureJob:
    """One data file to write: a new plan, or (plan None) the resumption of the interrupted file `out`."""

    label: str
    out: Path
    plan: CapturePlan | None = None
    bench_path: Path | None = None  # the job's own bench file; None: the queue's bench
    overwrite: bool = False  # a new plan may replace an existing `out`


@dataclass(frozen=True)
class ClosedLaser:
    """The laser of a bench that was closed (or failed to open): it was switched off and read back off just
    before, or, when `alarm` is set, it could not be confirmed off. No command can reach it any more."""

    name: str
    why: str  # when it was closed: "after the failed job", ...
    failure: LaserOffFailed | None = None  # the alarm (None when it was read back off)
    problem: str = ""  # closing the devices failed (logged): one line

    @property
    def off(self) -> bool:
        return self.failure is None

    @property
    def alarm(self) -> str:
        """The alarm line ("" when the laser was read back off)."""
        return self.failure.alarm if self.failure is not None else ""


def laser_name(bench: Bench) -> str:
    """The laser's identity, as alarms name it."""
    try:
        return str(bench.laser.identity)
    except Exception:  # an identity that cannot be read must not hide the verdict
        return type(bench.laser).__name__


class CaptureQueue:
    """Runs capture jobs one after another, on one bench as long as they allow it.

    `config`/`source` name the queue's own bench (the one jobs without a bench file use, and the one
    `release` hands back). `bench`, when given, is that bench already open (the panel lends its own); the
    queue owns it from then on.
    """

    def __init__(self, config: BenchConfig | None, source: str, bench: Bench | None = None) -> None:
        self._config = config
        self.source = source
        self._bench = bench
        self._bench_path: Path | None = None
        self.benches_opened = 0
        # What the laser-off path of another thread reads (`laser_holder`): set under this lock, never held
        # across device I/O.
        self._holder_lock = threading.Lock()
        self._handed_back: Bench | None = None  # the bench `release` returned, until another is opened
        self.closed_laser: ClosedLaser | None = None  # the verdict on the laser of the bench closed last

    @classmethod
    def for_bench_file(cls, path: Path | None) -> CaptureQueue:
        """The queue of a bench file (None: the built-in simulated bench). Nothing is read or opened yet: a
        queue whose jobs all name their own bench never needs this one."""
        queue = cls(None, DEFAULT_BENCH_SOURCE if path is None else str(path))
        queue._bench_path = path
        return queue

    @property
    def config(self) -> BenchConfig:
        """The queue's own bench configuration (read from its file on first use)."""
        if self._config is None:
            self._config = load_bench(self._bench_path)
        return self._config

    @property
    def bench(self) -> Bench | None:
        """The bench held now (None before the first job or after `close`)."""
        return self._bench

    def laser_holder(self) -> Bench | ClosedLaser | None:
        """Any thread: the bench whose laser the queue has now (held, or handed back by `release`), else the
        verdict on the laser of the bench it closed last; None before it ever had one. For the laser-off path."""
        with self._holder_lock:
            for holder in (self._bench, self._handed_back, self.closed_laser):
                if holder is not None:
                    return holder
        return None

    def bench_for(self, config: BenchConfig, source: str) -> Bench:
        """The bench of `config`: the one held if it has this configuration, else that one closed (its laser read
        back off: `LaserOffFailed` when it is not, and nothing more is opened) and this opened."""
        if self._bench is not None and self._bench.config == config:
            return self._bench
        closed = self._retire("closed for another bench")
        if closed is not None and closed.failure is not None:
            raise closed.failure
        try:
            bench = build_bench(config, source)
        except LaserOffFailed as failure:  # at connect: the new laser could not be confirmed off
            with self._holder_lock:
                self.closed_laser = ClosedLaser(failure.device, "at connect", failure)
            raise
        with self._holder_lock:
            self._bench, self._handed_back = bench, None
        self.benches_opened += 1
        return bench

    def prepare(
        self,
        job: CaptureJob,
        *,
        control: CaptureControl | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> CaptureRun:
        """The run of `job` on its bench, not started yet (its `preflight` can be shown first)."""
        out = Path(job.out)
        if job.plan is None:  # resume with the file's own plan and bench
            plan, config, lock = claim_resume(out)  # the writer lock first: a running capture is never reopened
            try:
                bench = self.bench_for(config, f"{out}: stored bench")
                return make_run(
                    plan, bench, out, resume=True, control=control, on_progress=on_progress, resume_lock=lock
                )
            except BaseException:
                lock.release()
                raise
        out.parent.mkdir(parents=True, exist_ok=True)
        # an existing file is replaced only by the writer, under its lock (never deleted here)
        check_output_path(out, job.overwrite)
        if job.bench_path is None:
            bench = self.bench_for(self.config, self.source)
        else:
            bench = self.bench_for(load_bench(job.bench_path), str(job.bench_path))
        return make_run(job.plan, bench, out, control=control, on_progress=on_progress, overwrite=job.overwrite)

    def run(
        self,
        job: CaptureJob,
        *,
        control: CaptureControl | None = None,
        on_progress: ProgressCallback | None = None,
        on_prepared: Callable[[CaptureRun], None] | None = None,
    ) -> CaptureResult:
        """Capture one job to its end (complete, aborted or failed); errors before the start are raised.

        `on_prepared` sees the run on its bench just before it starts (the panel shows its preflight there).
        A run that failed on the devices, ended with a laser alarm (or raised while running) leaves its bench
        closed, so the next job starts from freshly opened devices (its laser read back off at connect) rather
        than from ones in an unknown state; a failure to close is logged, never raised over the result."""
        capture = self.prepare(job, control=control, on_progress=on_progress)
        try:
            if on_prepared is not None:
                on_prepared(capture)
            with capture_log(job.out):
                result = capture.run()
        except BaseException:
            self._retire("after the job raised")
            raise
        if result.status == "failed" or result.laser_alarm:
            closed = self._retire("after the failed job")
            if closed is not None and closed.problem:
                result.message = f"{result.message}; {closed.problem}"
            if closed is not None and closed.failure is not None and not result.laser_alarm:
                result.laser_alarm, result.laser_failure = closed.alarm, closed.failure
                result.message = f"{result.message}; {closed.alarm}"
        return result

    def _retire(self, why: str) -> ClosedLaser | None:
        """Close the bench held: its laser switched off through its lifecycle and read back, then the devices
        (the laser last) whatever that said; the verdict is kept in `closed_laser` and returned, never raised (an
        alarm is logged as critical by the lifecycle). None when no bench is held. The bench stays the holder
        until the verdict is in, so a laser-off from another thread meanwhile acts on the open laser (the driver
        serialises the commands). A KeyboardInterrupt held by the switch-off is raised once the bench is closed."""
        bench = self._bench
        if bench is None:
            return None
        name, lifecycle = laser_name(bench), lifecycle_of(bench.laser)
        held: KeyboardInterrupt | None = None
        alarms_before = len(lifecycle.failures)
        ok: bool | None = None
        try:
            ok = lifecycle.switch_off(why)
        except KeyboardInterrupt as interrupt:  # held by the switch-off until its read-back was done
            held = interrupt
        failures = lifecycle.failures[alarms_before:]
        failure = failures[-1] if failures and not ok else None
        if ok is None and failure is None and lifecycle.state is not LaserState.OFF:
            failure = LaserOffFailed(name, f"{why}: the switch-off was not completed")
        closed = ClosedLaser(name, why, failure)
        try:
            closed = replace(closed, problem=close_quietly(bench))
        finally:
            with self._holder_lock:
                self._bench, self.closed_laser = None, closed
        if held is not None:
            raise held
        return closed

    def release(self) -> Bench:
        """Hand the queue's own bench back open (reopened if a job needed another) and stop owning it."""
        bench = self.bench_for(self.config, self.source)
        with self._holder_lock:
            self._bench, self._handed_back = None, bench
        return bench

    def close(self) -> None:
        """Close the bench held, if any: its laser switched off and read back (a failure is logged as the alarm
        and kept in `closed_laser`), then the devices, the laser last."""
        self._retire("the queue closed its bench")

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
