"""Synthetic capture rows whose every value follows from the row number, for tests and benchmarks: a test
can check any row of any file (after a crash, a resume, from another process) without keeping a copy."""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping

import numpy as np

from speckle_lab.acquisition.datafile.records import FrameRows, RunMetadata
from speckle_lab.acquisition.datafile.writer import CaptureWriter

EXAMPLE_FIELDS: dict[str, np.dtype] = {
    "exposure_us": np.dtype(np.float32),
    "laser_power_w": np.dtype(np.float32),
    "placement_top": np.dtype(np.int32),
    "placement_left": np.dtype(np.int32),
    "placement_scale": np.dtype(np.float32),
    "intensity_gain": np.dtype(np.float32),
}


def example_metadata(n_planned: int) -> RunMetadata:
    return RunMetadata(
        plan={"n_frames": n_planned, "seed": 7, "targets": {"source": "generated", "kind": "digits"}},
        bench={"name": "simulated", "camera": {"shape": [64, 64], "bit_depth": 12}, "laser": {"max_power_w": 0.1}},
        devices=[
            {"family": "laser", "vendor": "speckle-lab", "model": "SimLaser", "serial": "0001"},
            {"family": "camera", "vendor": "speckle-lab", "model": "SimCamera", "serial": "0002"},
        ],
        medium={"kind": "transmission_matrix", "seed": 11, "checksum": "sha256:0123abcd"},
        target_stats={"intrinsic_dimension": 9.5, "label_sharpness": 1.25},
        n_planned=n_planned,
    )


def synthetic_rows(
    start: int,
    n: int,
    *,
    speckle_shape: tuple[int, int] = (64, 64),
    speckle_dtype: np.dtype | type = np.uint16,
    target_shape: tuple[int, int] = (32, 32),
    fields: Mapping[str, np.dtype] = EXAMPLE_FIELDS,
) -> FrameRows:
    """Rows start..start+n: pixel values, targets, ids and fields are all functions of the row number."""
    rows = np.arange(start, start + n, dtype=np.int64)
    dtype = np.dtype(speckle_dtype)
    modulus = int(np.iinfo(dtype).max) + 1
    pixels = np.arange(speckle_shape[0] * speckle_shape[1], dtype=np.int64).reshape(speckle_shape)
    speckle = ((rows[:, None, None] * 31 + pixels[None]) % modulus).astype(dtype)
    grid = np.linspace(0.0, 1.0, target_shape[0] * target_shape[1], dtype=np.float32).reshape(target_shape)
    target = ((rows[:, None, None] % 100).astype(np.float32) / 100.0 + grid[None]) % 1.0
    return FrameRows(
        speckle=speckle,
        target=target.astype(np.float32),
        target_index=rows % 97,
        timestamp_s=1.7e9 + rows * 1e-3,
        frame_id=rows + 1000,
        fields={name: (rows % 1000).astype(dtype_) for name, dtype_ in fields.items()},
    )


def assert_rows_equal(actual: FrameRows, expected: FrameRows) -> None:
    """Raise AssertionError naming the first column that differs."""
    for name in ("speckle", "target", "target_index", "timestamp_s", "frame_id"):
        a, b = getattr(actual, name), getattr(expected, name)
        if a.shape != b.shape or not np.array_equal(a, b):
            raise AssertionError(f"column {name} differs (shapes {a.shape} / {b.shape})")
    if set(actual.fields) != set(expected.fields):
        raise AssertionError(f"fields {sorted(actual.fields)} != {sorted(expected.fields)}")
    for name, values in expected.fields.items():
        if not np.array_equal(actual.fields[name], values):
            raise AssertionError(f"field {name} differs")


def write_synthetic(path: str, n_planned: int, block: int, *, resume: bool = False, pause_s: float = 0.0) -> None:
    """Create (or resume) `path` and append synthetic rows until the plan is complete, printing
    "committed N" after each block: the body of the crash tests' writer subprocess."""
    shape = (64, 64)
    if resume:
        writer = CaptureWriter.open_for_resume(path)
    else:
        writer = CaptureWriter.create(
            path,
            speckle_shape=shape,
            speckle_dtype=np.uint16,
            target_shape=(32, 32),
            frame_fields=EXAMPLE_FIELDS,
            metadata=example_metadata(n_planned),
        )
    print(f"committed {writer.n_committed}", flush=True)
    with writer:
        if writer.n_dark == 0:
            writer.append_dark(np.zeros((2, *shape), np.uint16), time.time(), "start")
        row = writer.n_committed
        while row < n_planned:
            stop = min(row + block, n_planned)
            writer.append_frames(synthetic_rows(row, stop - row))
            row = stop
            if row % (4 * block) == 0:
                writer.append_reference(synthetic_rows(0, 1).speckle[0], time.time(), row)
                writer.log_event("retry", f"synthetic event at row {row}", row)
            print(f"committed {writer.n_committed}", flush=True)
            if pause_s:
                time.sleep(pause_s)
        writer.append_dark(np.zeros((2, *shape), np.uint16), time.time(), "end")
        writer.set_status("complete")
    print("done", flush=True)


if __name__ == "__main__":  # python -m speckle_lab.acquisition.datafile.testing PATH N_PLANNED BLOCK [resume] [PAUSE_S]
    args = sys.argv[1:]
    write_synthetic(
        args[0],
        int(args[1]),
        int(args[2]),
        resume=len(args) > 3 and args[3] == "resume",
        pause_s=float(args[4]) if len(args) > 4 else 0.0,
    )
