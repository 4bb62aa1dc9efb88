"""What every study on the simulated bench shares: capturing a list of plans with progress in the log, the
spread of a number over repeats, the training configuration of a run, and writing results as JSON.

`demo` (lab/study/runner.py), `study scaling` (lab/study/scaling.py) and `study budget` (lab/study/budget.py)
all capture through `capture_plans`, the one place a study drives the bench: a list of typed plans in, one
file per plan out, on one bench and one medium, as a real bench runs a night's queue.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel

from speckle_lab.acquisition.plan import CapturePlan
from speckle_lab.acquisition.scheduler import CaptureError, CaptureProgress
from speckle_lab.lab.bench_config import BenchConfig
from speckle_lab.lab.capture_queue import CaptureJob, CaptureQueue

Log = Callable[[str], None]
PROGRESS_EVERY_S = 10.0  # a capture logs its progress at most this often (and at its end)


class Spread(BaseModel):
    """A number over repeats: mean, spread (sample standard deviation; 0 for one value) and the values."""

    mean: float
    spread: float
    values: list[float]


def spread_of(values: Sequence[float]) -> Spread:
    v = np.asarray(values, dtype=np.float64)
    return Spread(
        mean=float(v.mean()) if len(v) else float("nan"),
        spread=float(v.std(ddof=1)) if len(v) > 1 else 0.0,
        values=[float(x) for x in v],
    )


class CaptureLog:
    """Progress of one capture in the study's log: a line per block of frames, at most every
    `PROGRESS_EVERY_S` seconds, and one at the end (frames, seconds, frames/s)."""

    def __init__(self, label: str, log: Log, every_s: float = PROGRESS_EVERY_S) -> None:
        self.label, self.log, self.every_s = label, log, every_s
        self.started = time.monotonic()
        self.last = self.started
        self.rows_done = 0
        self.rows_total = 0

    def __call__(self, progress: CaptureProgress) -> None:
        self.rows_done, self.rows_total = progress.rows_done, progress.rows_total
        now = time.monotonic()
        if now - self.last >= self.every_s and progress.rows_done < progress.rows_total:
            self.last = now
            rate = progress.rows_done / max(now - self.started, 1e-9)
            self.log(f"    {self.label}: {progress.rows_done}/{progress.rows_total} frames, {rate:.0f} frames/s")

    def done(self) -> None:
        seconds = time.monotonic() - self.started
        self.log(
            f"    {self.label}: {self.rows_total} frames in {seconds:.1f} s "
            f"({self.rows_total / max(seconds, 1e-9):.0f} frames/s)"
        )


def capture_plans(
    config: BenchConfig, plans: Sequence[tuple[str, CapturePlan]], data_dir: Path, log: Log
) -> dict[str, Path]:
    """Every (key, plan) through one bench and one medium, as on a real bench in one session; key.h5 files.
    Logs each set as it starts and ends, and its progress in between."""
    data_dir.mkdir(parents=True, exist_ok=True)
    paths = {}
    with CaptureQueue(config, "study bench") as queue:
        for i, (key, plan) in enumerate(plans, 1):
            path = data_dir / f"{key}.h5"
            log(f"  capture {i}/{len(plans)} {key}: {plan.n_frames} frames of {plan.targets}")
            progress = CaptureLog(key, log)
            result = queue.run(CaptureJob(key, path, plan, overwrite=True), on_progress=progress)
            if result.laser_failure is not None:  # the laser was not confirmed off: the alarm (exit 3)
                raise result.laser_failure
            if not result.ok:
                raise CaptureError(f"capture of {key} stopped: {result.message}")
            progress.done()
            paths[key] = path
    return paths


def plain(value: object) -> object:
    """JSON for what `json` does not know: numpy arrays and scalars, pydantic models."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    raise TypeError(f"not JSON: {type(value).__name__}")


def write_json(path: Path, data: BaseModel | dict[str, Any]) -> Path:
    """`data` as indented JSON (NaN written as NaN, as Python's json reads it back)."""
    payload = data.model_dump(mode="json", by_alias=True) if isinstance(data, BaseModel) else data
    path.write_text(json.dumps(payload, indent=2, default=plain))
    return path
