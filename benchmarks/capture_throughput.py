"""Capture throughput, against the physical and computational limits, measured in the same run.

1. Software overhead: the whole capture engine (target rendering, scheduler, writer) with devices that cost
   nothing, 64x64 uint16 frames. Target: >= 2 x 22,700 frames/s (twice the fastest binary DMD rate), so the
   software is never what limits a bench, even on a busy machine.
2. End to end on the default simulated bench (64x64 macropixels of 4x4 mirrors -> 128x128 camera, band-limited
   medium, binary display): frames/s of the whole capture (targets, scheduler, DMD, camera, writer) against
   the simulator's own frames/s (the same DMD sequences read by the same camera, nothing else), alternated
   so that both see the same machine. Target: >= 0.9. Also as frames per CPU second of this process (all
   threads): on a shared machine that is what each side would reach on cores of its own.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.common import report
from benchmarks.null_devices import NullCamera, NullDMD, NullLaser
from speckle_lab.acquisition.frame_capture import SequenceCapture
from speckle_lab.acquisition.plan import CapturePlan
from speckle_lab.acquisition.scheduler import CaptureDevices, CaptureRun
from speckle_lab.drivers import DmdGeometry, TriggerMode
from speckle_lab.lab.bench import build_bench
from speckle_lab.lab.bench_config import load_bench
from speckle_lab.lab.capture_service import make_run

DMD_RATE_FPS = 1e6 / 44.0
OVERHEAD_TARGET_FPS = 2 * DMD_RATE_FPS
END_TO_END_TARGET = 0.9
BLOCK = 512


def software_overhead(folder: Path, n_frames: int) -> tuple[float, float]:
    """Frames per wall-clock second and per CPU second of this process (all its threads): on a machine shared
    with other work the second is what the engine would reach on cores of its own."""
    geometry = DmdGeometry((64, 64), 0, 0, 1, 64)
    dmd = NullDMD(geometry.mirror_shape)
    devices = CaptureDevices(NullLaser(), dmd, NullCamera(dmd, (64, 64)), geometry)
    plan = CapturePlan(
        targets="binary:size=32", n_frames=n_frames, n_targets=2048, block_frames=2048, display="threshold",
        reference_every=n_frames, dark_frames=0,
    )  # fmt: skip
    path = folder / "overhead.h5"
    path.unlink(missing_ok=True)
    run = CaptureRun(plan, devices, path, bench={}, medium=None)
    if not isinstance(run.capture, SequenceCapture):  # step mode would measure another engine path
        raise RuntimeError(f"the null DMD was driven in {type(run.capture).__name__}, not sequence mode")
    started, cpu_started = time.perf_counter(), time.process_time()
    result = run.run()
    elapsed, cpu_s = time.perf_counter() - started, time.process_time() - cpu_started
    assert result.ok, result.message
    return n_frames / elapsed, n_frames / cpu_s


def end_to_end(folder: Path, n_frames: int, rounds: int) -> dict[str, float]:
    """Median frames/s of whole captures and of the bare simulator, alternated round by round."""
    plan = CapturePlan(
        targets="binary:size=32", n_frames=n_frames, n_targets=2048, block_frames=BLOCK, display="threshold",
        reference_every=n_frames, dark_frames=0,
    )  # fmt: skip
    capture_fps, simulator_fps, capture_cpu_s, simulator_cpu_s = [], [], [], []
    with build_bench(load_bench(None)) as bench:
        _ = bench.table.medium.matrix  # built once, outside the timing, as a bench does at start-up
        side = bench.table.geometry.side_macropixels
        images = np.random.default_rng(0).random((BLOCK, side, side)) < 0.3
        for i in range(rounds + 1):  # round 0 warms up both
            run = make_run(plan, bench, folder / f"e2e-{i}.h5")
            started, cpu_started = time.perf_counter(), time.process_time()
            result = run.run()
            elapsed, cpu_s = time.perf_counter() - started, time.process_time() - cpu_started
            assert result.ok, result.message
            (folder / f"e2e-{i}.h5").unlink()
            camera, dmd, laser = bench.camera, bench.dmd, bench.laser
            laser.set_emission(True)
            camera.set_trigger_mode(TriggerMode.HARDWARE)
            camera.start()
            started, cpu_started = time.perf_counter(), time.process_time()
            for _ in range(n_frames // BLOCK):
                dmd.load_macropixels(images, bench.table.geometry, dmd.min_picture_time_us)
                dmd.start()
                camera.read_block(BLOCK, timeout_s=60.0)
            simulator_elapsed = time.perf_counter() - started
            simulator_cpu = time.process_time() - cpu_started
            camera.stop()
            laser.set_emission(False)
            if i:
                capture_fps.append(n_frames / elapsed)
                simulator_fps.append((n_frames // BLOCK) * BLOCK / simulator_elapsed)
                capture_cpu_s.append(cpu_s / n_frames)
                simulator_cpu_s.append(simulator_cpu / ((n_frames // BLOCK) * BLOCK))
    ratios = [c / s for c, s in zip(capture_fps, simulator_fps, strict=True)]
    cpu_ratios = [s / c for c, s in zip(capture_cpu_s, simulator_cpu_s, strict=True)]
    return {
        "capture": statistics.median(capture_fps),
        "simulator": statistics.median(simulator_fps),
        "ratio": statistics.median(ratios),
        "cpu_ratio": statistics.median(cpu_ratios),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--overhead-frames", type=int, default=200_000)
    parser.add_argument("--e2e-frames", type=int, default=8192, help="per capture: start-up costs amortise")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        overhead = [software_overhead(Path(tmp), args.overhead_frames) for _ in range(args.rounds)]
        e2e = end_to_end(Path(tmp), args.e2e_frames, args.rounds)
    overhead_fps = statistics.median(wall for wall, _ in overhead)
    overhead_cpu_fps = statistics.median(cpu for _, cpu in overhead)
    report(
        "capture_throughput",
        {
            "software_overhead_frames_per_s": round(overhead_fps),
            "software_overhead_frames_per_cpu_s": round(overhead_cpu_fps),
            "software_overhead_rounds_wall_cpu": [(round(w), round(c)) for w, c in overhead],
            "overhead_target_frames_per_s": round(OVERHEAD_TARGET_FPS),
            "overhead_over_dmd_rate": round(overhead_fps / DMD_RATE_FPS, 2),
            "overhead_per_cpu_s_over_dmd_rate": round(overhead_cpu_fps / DMD_RATE_FPS, 2),
            "overhead_meets_target": overhead_fps >= OVERHEAD_TARGET_FPS,
            "overhead_per_cpu_s_meets_target": overhead_cpu_fps >= OVERHEAD_TARGET_FPS,
            "end_to_end_frames_per_s": round(e2e["capture"], 1),
            "simulator_frames_per_s": round(e2e["simulator"], 1),
            "end_to_end_ratio": round(e2e["ratio"], 3),
            "end_to_end_ratio_per_cpu_s": round(e2e["cpu_ratio"], 3),
            "end_to_end_target_ratio": END_TO_END_TARGET,
            "end_to_end_meets_target": e2e["ratio"] >= END_TO_END_TARGET,
        },
    )


if __name__ == "__main__":
    main()
