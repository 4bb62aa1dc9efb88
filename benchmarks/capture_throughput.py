"""Capture throughput, against the physical and computational limits, measured in the same run.

1. Software overhead: the whole capture engine (target rendering, scheduler, writer) with devices that cost
   nothing, 64x64 uint16 frames. Target: >= 22,700 frames/s, the fastest binary DMD rate, so the software is
   never what limits a bench.
2. End to end on the simulated bench (64x64 macropixels -> 128x128 camera, binary display): frames/s of the
   whole capture against the raw float32 GEMM of the same shapes. Target: >= 0.8 of the GEMM rate.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from acquisition.plan import CapturePlan
from acquisition.scheduler import CaptureDevices, CaptureRun
from benchmarks.common import report
from benchmarks.null_devices import NullCamera, NullDMD, NullLaser
from drivers import DmdGeometry
from lab.bench import build_bench
from lab.bench_config import load_bench
from lab.capture_service import make_run

DMD_RATE_FPS = 1e6 / 44.0


def software_overhead(folder: Path, n_frames: int) -> float:
    geometry = DmdGeometry((64, 64), 0, 0, 1, 64)
    dmd = NullDMD(geometry.mirror_shape)
    devices = CaptureDevices(NullLaser(), dmd, NullCamera(dmd, (64, 64)), geometry)
    plan = CapturePlan(
        targets="binary:size=32", n_frames=n_frames, n_targets=2048, block_frames=2048, display="threshold",
        reference_every=n_frames, dark_frames=0,
    )  # fmt: skip
    run = CaptureRun(plan, devices, folder / "overhead.h5", bench={}, medium=None)
    started = time.perf_counter()
    result = run.run()
    elapsed = time.perf_counter() - started
    assert result.ok, result.message
    return n_frames / elapsed


def end_to_end(folder: Path, n_frames: int, macropixel_mirrors: int = 4) -> tuple[float, float]:
    """The default simulated bench (64x64 macropixels, 128x128 camera); `macropixel_mirrors` sets how many
    mirrors a macropixel spans (the default bench: 4x4 of a 256x256 array; 1: a 64x64-mirror DMD)."""
    plan = CapturePlan(
        targets="binary:size=32", n_frames=n_frames, n_targets=2048, block_frames=512, display="threshold",
        reference_every=n_frames, dark_frames=0,
    )  # fmt: skip
    side = 64 * macropixel_mirrors
    dmd = {"mirror_rows": side, "mirror_cols": side, "macropixel_mirrors": macropixel_mirrors, "side_macropixels": 64}
    with build_bench(load_bench(None).with_changes(dmd=dmd)) as bench:
        _ = bench.table.medium.matrix  # built once, outside the timing, as a bench does at start-up
        run = make_run(plan, bench, folder / f"e2e-{macropixel_mirrors}.h5")
        started = time.perf_counter()
        result = run.run()
        capture_fps = n_frames / (time.perf_counter() - started)
        assert result.ok, result.message
        inputs = (np.random.default_rng(0).random((512, bench.table.medium.n_inputs)) < 0.3).astype(np.float32)
        matrix = bench.table.medium.matrix
        started = time.perf_counter()
        rounds = max(1, n_frames // 512)
        for _ in range(rounds):
            inputs @ matrix
        gemm_fps = rounds * 512 / (time.perf_counter() - started)
    return capture_fps, gemm_fps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--overhead-frames", type=int, default=200_000)
    parser.add_argument("--e2e-frames", type=int, default=4096)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        overhead_fps = software_overhead(Path(tmp), args.overhead_frames)
        capture_fps, gemm_fps = end_to_end(Path(tmp), args.e2e_frames)
        one_mirror_fps, one_mirror_gemm_fps = end_to_end(Path(tmp), args.e2e_frames, macropixel_mirrors=1)
    report(
        "capture_throughput",
        {
            "software_overhead_frames_per_s": round(overhead_fps),
            "overhead_target_frames_per_s": round(DMD_RATE_FPS),
            "overhead_meets_target": overhead_fps >= DMD_RATE_FPS,
            "end_to_end_frames_per_s": round(capture_fps, 1),
            "raw_gemm_frames_per_s": round(gemm_fps, 1),
            "end_to_end_ratio": round(capture_fps / gemm_fps, 3),
            "end_to_end_target_ratio": 0.8,
            "end_to_end_meets_target": capture_fps / gemm_fps >= 0.8,
            "one_mirror_macropixels_ratio": round(one_mirror_fps / one_mirror_gemm_fps, 3),
        },
    )


if __name__ == "__main__":
    main()
