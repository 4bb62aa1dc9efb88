"""Run a list of captures on one bench: the one owner of "run these plans in order".

`speckle-lab capture --queue`, the study and the panel's capture runner all hand their jobs to a
`CaptureQueue`. It opens the default bench once and keeps it for every job that runs on it, so a night of
plans shares one simulated medium (built once, not per entry) and one set of open devices, as on a real
bench. A job that needs another bench (a queue entry naming its own bench file, a resumed file captured on
another bench) closes the held bench and opens that one: the devices have one owner at a time. Jobs only
reopen a bench when its configuration differs from the one held.

What to do around each job (progress bars, Qt signals, Ctrl-C, whether a failure stops the list) stays with
the caller; the queue only decides which bench a job runs on and starts it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Self

from speckle_lab.acquisition.control import CaptureControl
from speckle_lab.acquisition.plan import CapturePlan
from speckle_lab.acquisition.scheduler import CaptureResult, CaptureRun
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

    def bench_for(self, config: BenchConfig, source: str) -> Bench:
        """The bench of `config`: the one held if it has this configuration, else that one closed and this opened."""
        if self._bench is not None and self._bench.config == config:
            return self._bench
        self.close()
        self._bench = build_bench(config, source)
        self.benches_opened += 1
        return self._bench

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
            self._close_quietly()
            raise
        if result.status == "failed" or result.laser_alarm:
            problem = self._close_quietly()
            if problem:
                result.message = f"{result.message}; {problem}"
        return result

    def _close_quietly(self) -> str:
        bench, self._bench = self._bench, None
        return close_quietly(bench) if bench is not None else ""

    def release(self) -> Bench:
        """Hand the queue's own bench back open (reopened if a job needed another) and stop owning it."""
        bench = self.bench_for(self.config, self.source)
        self._bench = None
        return bench

    def close(self) -> None:
        """Close the bench held, if any (laser last, off)."""
        bench, self._bench = self._bench, None
        if bench is not None:
            bench.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
