"""Capture writer throughput, with frames that cost nothing to make (one pre-made block written again and again).

1. Small frames (64x64 uint16 speckle, 32x32 float32 target, six per-frame fields, blocks of 512 rows):
   the writer's own overhead. Target: >= 22,700 frames/s, the fastest binary DMD rate, so the writer is never
   the bottleneck of a capture.
2. Big frames (2048x2048 uint16): the writer against raw h5py writing the same speckle arrays into a plain
   chunked dataset (one frame per chunk, created at its final size, no SWMR, no commit), measured alternately
   in the same run. Target: ratio >= 0.8.

Both sides are timed over the appends (the steady state of a long capture); the time to create and close the
file is reported too. Closing our writer fsyncs the file, raw h5py's does not, so the "whole file" figures
include the cost of making the data durable on our side only.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import h5py
import numpy as np

from benchmarks.common import interleaved, report
from speckle_lab.acquisition.datafile import CaptureWriter, FrameRows
from speckle_lab.acquisition.datafile.testing import EXAMPLE_FIELDS, example_metadata, synthetic_rows

TARGET_FRAMES_PER_S = 22_700
TARGET_RATIO = 0.8


def _writer_run(folder: Path, rows: FrameRows, n_blocks: int, appends_s: list[float]) -> Callable[[], None]:
    """One capture of n_blocks blocks through CaptureWriter; records the time spent appending."""
    speckle_shape = rows.speckle.shape[1:]
    path = folder / "writer.h5"

    def run() -> None:
        path.unlink(missing_ok=True)
        writer = CaptureWriter.create(
            path,
            speckle_shape=speckle_shape,
            speckle_dtype=rows.speckle.dtype,
            target_shape=rows.target.shape[1:],
            frame_fields={name: values.dtype for name, values in rows.fields.items()},
            metadata=example_metadata(n_blocks * len(rows)),
        )
        start = time.perf_counter()
        for _ in range(n_blocks):
            writer.append_frames(rows)
        appends_s.append(time.perf_counter() - start)
        writer.set_status("complete")
        writer.close()

    return run


def _raw_run(folder: Path, rows: FrameRows, n_blocks: int, appends_s: list[float]) -> Callable[[], None]:
    """The same speckle arrays into a plain chunked dataset with bare h5py."""
    path = folder / "raw.h5"
    block, height, width = rows.speckle.shape

    def run() -> None:
        path.unlink(missing_ok=True)
        with h5py.File(path, "w") as f:
            dataset = f.create_dataset(
                "speckle", shape=(n_blocks * block, height, width), dtype=rows.speckle.dtype, chunks=(1, height, width)
            )
            start = time.perf_counter()
            for i in range(n_blocks):
                dataset[i * block : (i + 1) * block] = rows.speckle
            appends_s.append(time.perf_counter() - start)

    return run


def _median(values: list[float]) -> float:
    return float(np.median(values[1:] if len(values) > 1 else values))  # the first call is the warm-up


def _paired_ratio(writer_s: list[float], raw_s: list[float]) -> float:
    """Median over rounds of raw time / writer time: each pair ran back to back, so it shares the machine's
    state (page cache, writeback) and the noise of one round cancels in its own ratio."""
    ratios = np.array(raw_s) / np.array(writer_s)
    return float(np.median(ratios[1:] if len(ratios) > 1 else ratios))


def small_frames(folder: Path, block: int, n_frames: int, rounds: int) -> dict[str, object]:
    rows = synthetic_rows(0, block, speckle_shape=(64, 64), target_shape=(32, 32), fields=EXAMPLE_FIELDS)
    n_blocks = max(1, n_frames // block)
    writer_s: list[float] = []
    raw_s: list[float] = []
    whole = interleaved(_writer_run(folder, rows, n_blocks, writer_s), _raw_run(folder, rows, n_blocks, raw_s), rounds)
    frames = n_blocks * block
    fps = frames / _median(writer_s)
    return {
        "small_frames": "64x64 uint16 + 32x32 float32 target + 6 fields",
        "small_block_rows": block,
        "small_frames_per_round": frames,
        "small_writer_frames_per_s": round(fps),
        "small_raw_h5py_speckle_only_frames_per_s": round(frames / _median(raw_s)),
        "small_writer_whole_file_frames_per_s": round(frames / whole["candidate_s"]),
        "small_target_frames_per_s": TARGET_FRAMES_PER_S,
        "small_meets_target": fps >= TARGET_FRAMES_PER_S,
    }


def big_frames(folder: Path, block: int, n_frames: int, rounds: int) -> dict[str, object]:
    rows = synthetic_rows(0, block, speckle_shape=(2048, 2048), target_shape=(64, 64), fields=EXAMPLE_FIELDS)
    n_blocks = max(1, n_frames // block)
    writer_s: list[float] = []
    raw_s: list[float] = []
    whole = interleaved(_writer_run(folder, rows, n_blocks, writer_s), _raw_run(folder, rows, n_blocks, raw_s), rounds)
    frames = n_blocks * block
    mib = rows.speckle[0].nbytes / 2**20
    writer_fps, raw_fps = frames / _median(writer_s), frames / _median(raw_s)
    ratio = _paired_ratio(writer_s, raw_s)
    return {
        "big_frames": "2048x2048 uint16 (+ 64x64 float32 target + 6 fields on the writer side)",
        "big_block_rows": block,
        "big_frames_per_round": frames,
        "big_writer_frames_per_s": round(writer_fps, 1),
        "big_raw_h5py_frames_per_s": round(raw_fps, 1),
        "big_writer_MiB_per_s": round(writer_fps * mib),
        "big_raw_h5py_MiB_per_s": round(raw_fps * mib),
        "big_ratio": round(ratio, 3),
        "big_whole_file_ratio_incl_fsync_on_close": round(whole["baseline_s"] / whole["candidate_s"], 3),
        "big_target_ratio": TARGET_RATIO,
        "big_meets_target": ratio >= TARGET_RATIO,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--block", type=int, default=512, help="rows per append for small frames")
    parser.add_argument("--frames", type=int, default=65536, help="small frames per round")
    parser.add_argument("--big-block", type=int, default=8, help="rows per append for 2048x2048 frames")
    parser.add_argument("--big-frames", type=int, default=64, help="2048x2048 frames per round")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--dir", type=Path, default=None, help="folder for the files (default: a temporary one)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir, prefix="writer-bench-") as folder:
        figures: dict[str, object] = {"folder": str(Path(folder).parent)}
        figures |= small_frames(Path(folder), args.block, args.frames, args.rounds)
        figures |= big_frames(Path(folder), args.big_block, args.big_frames, args.rounds)
    report("writer_throughput", figures)


if __name__ == "__main__":
    main()
