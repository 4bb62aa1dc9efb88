"""Capture as a service: what `speckle-lab capture` and the GUI both call to run, resume or queue plans."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from speckle_lab.acquisition.control import CaptureControl
from speckle_lab.acquisition.datafile import CaptureFileError, CaptureReader, CaptureWriter
from speckle_lab.acquisition.datafile.lock import WriterLock
from speckle_lab.acquisition.plan import CapturePlan, PlanError, plan_from_dict, read_toml
from speckle_lab.acquisition.preflight import folder_problem
from speckle_lab.acquisition.scheduler import CaptureDevices, CaptureError, CaptureProgress, CaptureResult, CaptureRun
from speckle_lab.acquisition.text import output_exists_message
from speckle_lab.lab.bench import Bench, build_bench, open_bench
from speckle_lab.lab.bench_config import BenchConfig
from speckle_lab.lab.config_errors import BenchConfigError
from speckle_lab.lab.logging_setup import capture_log

ProgressCallback = Callable[[CaptureProgress], None]
logger = logging.getLogger(__name__)

log = logging.getLogger(__name__)


def capture_devices(bench: Bench) -> CaptureDevices:
    return CaptureDevices(bench.laser, bench.dmd, bench.camera, bench.geometry)


def make_run(
    plan: CapturePlan,
    bench: Bench,
    out: Path,
    *,
    resume: bool = False,
    control: CaptureControl | None = None,
    on_progress: ProgressCallback | None = None,
    overwrite: bool = False,
    resume_lock: WriterLock | None = None,
) -> CaptureRun:
    medium = bench.table.medium.describe() if bench.table is not None else None
    if plan.laser_power_w == 0 and not resume:
        warn_dark_plan(plan, out)
    try:
        return _capture_run(plan, bench, out, medium, resume, control, on_progress, overwrite, resume_lock)
    except PlanError:
        raise
    except ValueError as error:  # the plan does not fit this bench (a target larger than the DMD's area)
        raise PlanError(f"{out}: the plan does not fit the bench: {error}") from None


def warn_dark_plan(plan: CapturePlan, out: Path) -> None:
    """A plan at 0 W is a dry run (the DMD, the camera, the triggers and the file, with no light: a lab may
    want exactly that while people work at the table), so it is not refused; but every frame will be dark,
    and a net trained on them learns nothing: one warning says so before the capture starts."""
    logger.warning(
        "%s: laser_power_w is 0: the laser will not emit, every frame will be dark (a dry run); give a power "
        "in W (e.g. --power-w %g) to capture speckle",
        out,
        CapturePlan.model_fields["laser_power_w"].default,
    )


def _capture_run(
    plan: CapturePlan,
    bench: Bench,
    out: Path,
    medium: dict | None,
    resume: bool,
    control: CaptureControl | None,
    on_progress: ProgressCallback | None,
    overwrite: bool,
    resume_lock: WriterLock | None,
) -> CaptureRun:
    return CaptureRun(
        plan,
        capture_devices(bench),
        out,
        bench=bench.config.to_dict(),
        medium=medium,
        resume=resume,
        control=control,
        on_progress=on_progress,
        overwrite=overwrite,
        resume_lock=resume_lock,
    )


def run_plan(
    plan: CapturePlan,
    out: Path,
    bench_path: Path | None = None,
    *,
    overwrite: bool = False,
    control: CaptureControl | None = None,
    on_progress: ProgressCallback | None = None,
) -> CaptureResult:
    """Capture `plan` into a new file `out` on the bench of `bench_path` (default: the simulated bench).

    An existing `out` is replaced only with `overwrite`, and only by the writer (`CaptureWriter.create`),
    which takes the file's writer lock first: a file another process is capturing into is never deleted."""
    out = Path(out)
    check_output_path(out, overwrite)
    with capture_log(out):
        bench = open_bench(bench_path)
        return run_then_close(
            bench, lambda: make_run(plan, bench, out, control=control, on_progress=on_progress, overwrite=overwrite)
        )


def run_then_close(bench: Bench, make: Callable[[], CaptureRun]) -> CaptureResult:
    """Run the capture `make()` builds on `bench`, then close the bench. A failure to close (a laser answering
    garbage to its off command at close) is logged and added to the result's message, never raised over it:
    the run read the laser back already, and its result (an alarm included) is what the caller must see."""
    try:
        result = make().run()
    except BaseException:
        close_quietly(bench)
        raise
    problem = close_quietly(bench)
    if problem:
        result.message = f"{result.message}; {problem}"
    return result


def close_quietly(bench: Bench) -> str:
    """Close `bench` (laser last); a failure is logged and returned as one line ("" when it closed)."""
    try:
        bench.close()
    except Exception as error:
        problem = f"closing the devices failed: {type(error).__name__}: {error}"
        log.error(problem)
        return problem
    return ""


def check_output_path(out: Path, overwrite: bool) -> None:
    """Refuse, before any device opens, an output path that cannot become a new capture file."""
    if out.is_dir():
        raise CaptureError(f"{out}: is a directory; --out takes the name of the data file to write")
    if out.exists() and not overwrite:
        raise CaptureError(output_exists_message(out))
    problem = folder_problem(out)
    if problem:
        raise CaptureError(problem)


def stored_plan_and_bench(path: Path) -> tuple[CapturePlan, BenchConfig]:
    """The plan and the bench a file was captured with: resuming must use exactly these."""
    with CaptureReader(path) as reader:
        plan_data, bench_data = reader.plan, reader.bench
        if reader.status == "complete" and reader.n_frames >= reader.n_planned:
            raise CaptureError(f"{path}: the capture is already complete ({reader.n_frames} rows); nothing to resume")
    plan = plan_from_dict(plan_data, f"{path}: stored plan")
    try:
        bench = BenchConfig.model_validate(bench_data)
    except ValueError as error:
        raise BenchConfigError(f"{path}: stored bench", [str(error)]) from None
    return plan, bench


def claim_resume(path: Path) -> tuple[CapturePlan, BenchConfig, WriterLock]:
    """The first step of every resume (command line, GUI): take the writer lock (and clear a killed writer's
    crash flags), then read the stored plan and bench and refuse a complete file, all under the lock, so a
    capture still running or just finishing is never reopened. Pass the lock to `make_run(resume_lock=...)`
    and release it afterwards (`lock.release()` is harmless once the writer has released it)."""
    path = Path(path)
    try:
        lock = CaptureWriter.claim_for_resume(path)
    except CaptureFileError as error:
        raise _with_restart_hint(error, path) from None
    try:
        plan, config = stored_plan_and_bench(path)
    except CaptureFileError as error:
        lock.release()
        raise _with_restart_hint(error, path) from None
    except BaseException:
        lock.release()
        raise
    return plan, config, lock


def resume_file(
    path: Path, *, control: CaptureControl | None = None, on_progress: ProgressCallback | None = None
) -> CaptureResult:
    """Continue an interrupted capture from its first missing row, with its own plan and bench."""
    path = Path(path)
    plan, config, lock = claim_resume(path)
    try:
        with capture_log(path):
            bench = build_bench(config, f"{path}: stored bench")
            return run_then_close(
                bench,
                lambda: make_run(
                    plan, bench, path, resume=True, control=control, on_progress=on_progress, resume_lock=lock
                ),
            )
    finally:
        lock.release()  # the writer released it already when it got that far; releasing twice is harmless


def _with_restart_hint(error: CaptureFileError, path: Path) -> CaptureFileError:
    """A file that cannot be resumed may be a capture killed while being created: say how to restart it."""
    text = str(error)
    not_a_crash = ("--overwrite", "another process", "no such file", "directory", "symbolic link", "0 or more rows")
    if any(words in text for words in not_a_crash):
        return error
    return CaptureFileError(
        f"{text}; if it was killed while being created (no row committed), start it again: "
        f"speckle-lab capture --out {path} --overwrite (with its plan options)"
    )


@dataclass(frozen=True)
class QueueEntry:
    plan: CapturePlan
    out: Path
    bench: Path | None


def load_queue(path: Path) -> list[QueueEntry]:
    """A queue file: `[defaults]` (plan keys and `bench`) applied to every `[[run]]` (plan keys, `out`)."""
    path = Path(path)
    data = read_toml(path, "queue")
    unknown = set(data) - {"defaults", "run"}
    if unknown:
        raise PlanError(f"{path}: unknown section(s) {sorted(unknown)}; expected [defaults] and [[run]]")
    runs = data.get("run")
    if not isinstance(runs, list) or not runs:
        raise PlanError(f"{path}: expected at least one [[run]] table with `out` and plan keys")
    defaults = dict(data.get("defaults", {}))
    entries = []
    for i, run in enumerate(runs):
        merged = {**defaults, **run}
        out = merged.pop("out", None)
        if not out:
            raise PlanError(f"{path}: run[{i}]: missing `out` (the data file to write)")
        bench = merged.pop("bench", None)
        plan = plan_from_dict(merged, f"{path}: run[{i}]")
        base = path.parent
        entries.append(QueueEntry(plan, base / out, base / bench if bench else None))
    return entries
