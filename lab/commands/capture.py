"""`speckle-lab capture`: one plan into one file, `--resume` an interrupted file, or `--queue` a night's plans."""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path
from typing import Any

from tqdm import tqdm

from speckle_lab.acquisition.control import CaptureControl
from speckle_lab.acquisition.plan import DISPLAY_MODES, CapturePlan, load_plan, plan_from_dict
from speckle_lab.acquisition.preflight import format_duration
from speckle_lab.acquisition.scheduler import CaptureError, CaptureProgress, CaptureResult
from speckle_lab.drivers import LaserOffFailed
from speckle_lab.lab.capture_queue import CaptureJob, CaptureQueue
from speckle_lab.lab.capture_service import load_queue, resume_file, run_plan
from speckle_lab.lab.commands.json_output import print_json
from speckle_lab.lab.exit_codes import EXIT_ALARM, EXIT_FAILED, EXIT_OK, signal_exit_code
from speckle_lab.lab.signals import SignalStop, defer_signals, stop_on_signals

#: Options that describe a new run; `--resume` continues with the file's own plan and bench instead.
RUN_OPTIONS = (
    "bench", "plan", "targets", "n_frames", "target_size", "seed", "exposure_us", "laser_power_w", "mode",
    "display", "placement", "scale", "gain", "block_frames", "reference_every", "overwrite",
)  # fmt: skip


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "capture",
        help="capture (target, speckle) pairs into an HDF5 file",
        description="Capture a plan into FILE.h5; --resume continues an interrupted file; --queue runs several.",
    )
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--out", type=Path, metavar="FILE.h5", help="the data file to write")
    what.add_argument("--resume", type=Path, metavar="FILE.h5", help="continue an interrupted capture")
    what.add_argument("--queue", type=Path, metavar="QUEUE.toml", help="run several plans, one file each")
    parser.add_argument(
        "--bench",
        type=Path,
        metavar="FILE",
        help="bench TOML file (default: the simulated bench; for --queue: for runs that name none)",
    )
    parser.add_argument("--plan", type=Path, metavar="PLAN.toml", help="plan file; options below override it")
    parser.add_argument("--targets", metavar="SOURCE", help="target source, e.g. mnist, lfw, blobs (see `targets`)")
    parser.add_argument("--n", type=int, dest="n_frames", metavar="N", help="number of frames")
    parser.add_argument("--target-size", type=int, metavar="N", help="targets are N x N macropixels (default 32)")
    parser.add_argument("--seed", type=int)
    parser.add_argument("--exposure-us", type=float)
    parser.add_argument("--power-w", type=float, dest="laser_power_w")
    parser.add_argument("--mode", choices=["sequence", "step"])
    parser.add_argument("--display", choices=DISPLAY_MODES)
    parser.add_argument("--placement", choices=["fixed", "random"], help="where targets go on the DMD")
    parser.add_argument("--scale", type=_pair, metavar="MIN,MAX", help="target scale range (enlarged targets)")
    parser.add_argument("--gain", type=_pair, metavar="MIN,MAX", help="random intensity gain range")
    parser.add_argument("--block", type=int, dest="block_frames", help="frames per DMD sequence")
    parser.add_argument("--reference-every", type=int, help="a reference frame every K rows")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing --out file")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument(
        "--json", action="store_true", help="print the result as one JSON document on stdout (progress on stderr)"
    )
    parser.set_defaults(run=run)


def _pair(text: str) -> tuple[float, float]:
    try:
        low, high = (float(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected MIN,MAX (two numbers), got {text!r}") from None
    return low, high


def plan_from_args(args: argparse.Namespace) -> CapturePlan:
    data = load_plan(args.plan).to_dict() if args.plan else {}
    for key in ("targets", "n_frames", "seed", "exposure_us", "laser_power_w", "mode", "display", "block_frames"):
        value = getattr(args, key)
        if value is not None:
            data[key] = value
    if args.target_size is not None:
        data["target_rows"] = data["target_cols"] = args.target_size
    if args.reference_every is not None:
        data["reference_every"] = args.reference_every
    placement = dict(data.get("placement", {}))
    if args.placement:
        placement["mode"] = args.placement
    if args.scale:
        placement["scale_min"], placement["scale_max"] = args.scale
    if args.gain:
        placement["gain_min"], placement["gain_max"] = args.gain
    if placement:
        data["placement"] = placement
    return plan_from_dict(data, "command line")


class ProgressBar:
    """tqdm on stderr, fed by the scheduler's progress callbacks."""

    def __init__(self, label: str, quiet: bool) -> None:
        self.label = label
        self.quiet = quiet
        self.bar: tqdm | None = None

    def __call__(self, progress: CaptureProgress) -> None:
        if self.quiet:
            return
        if self.bar is None:
            self.bar = tqdm(total=progress.rows_total, desc=self.label, unit="frame", file=sys.stderr)
        self.bar.n = progress.rows_done
        postfix = {"phase": progress.phase, "retries": progress.retries}
        if progress.reference_correlation:
            postfix["ref"] = f"{progress.reference_correlation[-1]:.3f}"
        self.bar.set_postfix(postfix, refresh=False)
        self.bar.refresh()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _run_one(label: str, quiet: bool, start: Any) -> CaptureResult:
    """One capture with every termination signal (Ctrl-C, SIGTERM, SIGHUP, SIGQUIT) turned into a clean stop;
    the signal that stopped it, if any, is kept for the exit code."""
    global _last_signal
    control = CaptureControl()
    bar = ProgressBar(label, quiet)
    with stop_on_signals(control.abort, lambda: control.interruptible, noted=_deferred) as stopped:
        _last_signal = stopped
        try:
            return start(control, bar)
        finally:
            bar.close()


_last_signal: SignalStop | None = None
_deferred: SignalStop | None = None  # signals noted by `run`'s defer_signals (before a capture, after it)


def _signalled() -> bool:
    return _last_signal is not None and _last_signal.received


def _print_result(result: CaptureResult) -> None:
    stream = sys.stdout if result.ok else sys.stderr
    print(
        f"{result.status}: {result.message} ({format_duration(result.elapsed_s)}, {result.retries} retries)",
        file=stream,
    )
    if result.laser_alarm:
        print(f"speckle-lab: {result.laser_alarm}", file=sys.stderr)


def result_document(result: CaptureResult, out: Path | None = None) -> dict[str, Any]:
    """What `--json` prints for one capture (an entry of the queue's `entries`)."""
    return {
        "path": str(out if out is not None else result.path),
        "status": result.status,
        "rows_committed": result.rows_committed,
        "rows_planned": result.rows_planned,
        "retries": result.retries,
        "elapsed_s": round(result.elapsed_s, 3),
        "message": result.message,
        "laser_alarm": result.laser_alarm or None,
    }


def _report(result: CaptureResult, as_json: bool) -> None:
    """The result line (text), or the JSON document; a laser alarm is also said on stderr either way."""
    if not as_json:
        _print_result(result)
        return
    print_json(result_document(result))
    if result.laser_alarm:
        print(f"speckle-lab: {result.laser_alarm}", file=sys.stderr)


def _exit_code(result: CaptureResult) -> int:
    """0 complete; 3 laser alarm; 128 + signal when a signal stopped it; else 1."""
    if result.laser_alarm:
        return EXIT_ALARM
    if result.ok:
        return EXIT_OK
    if _signalled() and _last_signal is not None and _last_signal.exit_code is not None:
        return _last_signal.exit_code
    return EXIT_FAILED


def _refuse_run_options_with_resume(args: argparse.Namespace) -> None:
    given = [name for name in RUN_OPTIONS if getattr(args, name, None) not in (None, False)]
    if given:
        flags = ", ".join("--" + {"n_frames": "n", "laser_power_w": "power-w", "block_frames": "block"}.get(
            name, name.replace("_", "-")) for name in given)  # fmt: skip
        raise CaptureError(
            f"--resume {args.resume}: continues with the plan and bench stored in the file; {flags} cannot be "
            "given with it"
        )


def run(args: argparse.Namespace) -> int:
    """Refusals (a bad plan, a file that cannot be written or resumed) propagate to lab/cli.py's table. The
    capture runs under `stop_on_signals`, its report under `defer_signals`: a signal arriving after the
    capture ended (the second Ctrl-C of two) waits until the result and any ALARM are printed."""
    global _deferred
    with defer_signals(restore=not getattr(args, "process_ends", False)) as _deferred:
        return _queue_or_one(args)


def _queue_or_one(args: argparse.Namespace) -> int:
    if args.queue:
        return _run_queue(args)
    if args.resume:
        _refuse_run_options_with_resume(args)
        result = _run_one(
            f"resume {args.resume.name}",
            args.quiet,
            lambda control, bar: resume_file(args.resume, control=control, on_progress=bar),
        )
    else:
        plan = plan_from_args(args)
        result = _run_one(
            args.out.name,
            args.quiet,
            lambda control, bar: run_plan(
                plan, args.out, args.bench, overwrite=args.overwrite, control=control, on_progress=bar
            ),
        )
    _report(result, args.json)
    return _exit_code(result)


def _run_queue(args: argparse.Namespace) -> int:
    """Every entry on one bench (the default one unless an entry names another); a failed entry is reported
    and the queue goes on; a laser alarm stops it (no later entry starts). A termination signal stops the
    queue: during an entry, after its current block (the entry is `aborted`, resumable); between entries,
    before the next one. The exit code is the table's:
    3 if any entry ended in a laser alarm, else 128 + the first signal, else 0 when every entry is complete,
    else 1."""
    entries = load_queue(args.queue)
    rows = []
    alarm = False
    stop_code: int | None = None
    # Between entries (opening a bench, preparing a plan) a signal must not kill the process with the bench
    # held: the first stops the queue before the next entry, a second raises StopSignal, handled below.
    with (
        stop_on_signals(lambda reason: None, noted=_deferred) as between,
        CaptureQueue.for_bench_file(args.bench) as queue,
    ):
        for i, entry in enumerate(entries, 1):
            if between.received:
                break
            label = f"[{i}/{len(entries)}] {entry.out.name}"
            job = CaptureJob(label, entry.out, entry.plan, entry.bench, overwrite=args.overwrite)
            try:
                result = _run_one(
                    label,
                    args.quiet,
                    lambda control, bar, job=job: queue.run(job, control=control, on_progress=bar),
                )
                if not args.json:
                    _print_result(result)
                elif result.laser_alarm:
                    print(f"speckle-lab: {result.laser_alarm}", file=sys.stderr)
                alarm = alarm or bool(result.laser_alarm)
                rows.append(result_document(result, entry.out))
                if result.laser_alarm:  # the laser may still be emitting: no further entry starts on it
                    break
                if _signalled() and _last_signal is not None:
                    stop_code = _last_signal.exit_code
                    break
            except LaserOffFailed as failure:  # at connect: no capture may start on this laser
                print(f"speckle-lab: {failure.alarm}", file=sys.stderr)
                rows.append(_unstarted(entry.out, "failed", str(failure), entry.plan, laser_alarm=failure.alarm))
                alarm = True
                break
            except KeyboardInterrupt as stop:  # a second signal before the entry's capture loop began
                print(f"speckle-lab: error: {label}: {stop}", file=sys.stderr)
                rows.append(_unstarted(entry.out, "aborted", str(stop) or "interrupted", entry.plan))
                stop_code = _first_signal_code(stop)
                break
            except Exception as error:  # a failed plan is reported and the queue goes on
                print(f"speckle-lab: error: {label}: {error}", file=sys.stderr)
                rows.append(_unstarted(entry.out, "failed", str(error), entry.plan))
    if stop_code is None and between.exit_code is not None:
        stop_code = between.exit_code
    if args.json:
        print_json({"queue": str(args.queue), "entries": rows, "entries_planned": len(entries)})
    else:
        print("\nqueue summary:")
        for row in rows:
            print(f"  {row['status']:9} {row['rows_committed']:>6}/{row['rows_planned']:<6}  {row['path']}")
            if row["status"] != "complete":
                print(f"            {row['message']}")
    if alarm:
        return EXIT_ALARM
    if stop_code is not None:
        return stop_code
    complete = all(row["status"] == "complete" for row in rows) and len(rows) == len(entries)
    return EXIT_OK if complete else EXIT_FAILED


def _unstarted(
    out: Path, status: str, message: str, plan: CapturePlan | None, laser_alarm: str | None = None
) -> dict[str, Any]:
    """The queue's row for an entry that raised before its capture ran (nothing committed)."""
    planned = plan.n_frames if plan is not None else 0
    return {"path": str(out), "status": status, "rows_committed": 0, "rows_planned": planned, "retries": 0,
            "elapsed_s": 0.0, "message": message, "laser_alarm": laser_alarm}  # fmt: skip


def _first_signal_code(stop: KeyboardInterrupt) -> int:
    """The exit code of a stop that escaped a capture: the first signal's (kept by the entry's handler),
    else the StopSignal's own, else Ctrl-C's."""
    if _signalled() and _last_signal is not None and _last_signal.exit_code is not None:
        return _last_signal.exit_code
    return signal_exit_code(getattr(stop, "signum", signal.SIGINT))
