"""Simulated bench throughput: the band-limited medium against the dense GEMM it replaces, measured in one run.

1. Headline, 64x64 macropixels -> 128x128 camera, grain 2 px: the whole simulated fast path (a DMD sequence of
   macropixel images read by a hardware-triggered camera: one GEMM to the pupil modes, inverse FFT, intensity,
   photons, EMVA noise, quantisation) against the bare float32 GEMM of the dense medium of the same shapes
   (`[frame, input] @ [input, 2 * pixel]`). Target: >= 3x the dense GEMM's frames/s.
2. The reference scale, 64x64 -> 256x256: the band-limited medium's memory (target <= 600 MB) and its frames/s
   against the dense GEMM (a 2.1 GB matrix).
3. How cost grows: DMD 32..128 macropixels a side x camera 64..512 pixels a side, memory and frames/s, dense
   against band-limited. Dense is the bare GEMM (an upper bound on any dense simulator: noise comes on top);
   band-limited is the whole simulated path. Points whose matrix exceeds `--max-gb` are skipped and marked.

With `--torch-device cuda` (or cpu) the reference scale is also run on the torch backend.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from benchmarks.common import interleaved, report
from speckle_lab.drivers import DmdGeometry, TriggerMode
from speckle_lab.sim.camera import SimulatedCamera
from speckle_lab.sim.dmd import SimulatedDMD
from speckle_lab.sim.laser import SimulatedLaser
from speckle_lab.sim.medium import RandomTransmissionMatrix
from speckle_lab.sim.table import OpticalTable

TARGET_RATIO = 3.0
TARGET_REFERENCE_MB = 600
GRAIN_PX = 2.0
# Each measured call starts 0.2 s after the previous one: past the ~0.1 s that OpenBLAS's workers spin after a
# multithreaded GEMM, which would otherwise slow whichever side runs next (measured: 2,040 against 2,400
# simulated frames/s right after a dense GEMM, with no pause and with 0.2 s).
SETTLE_S = 0.2
DMD_RATE_FPS = 1e6 / 44.0


class SimulatedPath:
    """A sequence of `block` random binary macropixel images on a simulated DMD, read by the camera."""

    def __init__(self, medium: RandomTransmissionMatrix, side: int, block: int, compute: str = "numpy") -> None:
        self.table = OpticalTable(medium, DmdGeometry((side, side), 0, 0, 1, side), compute=compute)
        self.laser, self.dmd = SimulatedLaser(self.table), SimulatedDMD(self.table)
        self.camera = SimulatedCamera(self.table)
        self.laser.set_power_w(0.05)
        self.laser.set_emission(True)
        images = np.random.default_rng(0).random((block, side, side)) < 0.3
        self.dmd.load_macropixels(images, self.table.geometry, self.dmd.min_picture_time_us)
        self.camera.set_trigger_mode(TriggerMode.HARDWARE)
        self.camera.start()
        self.block = block

    def __call__(self) -> None:
        self.dmd.start()
        assert len(self.camera.read_block(self.block, timeout_s=600.0)) == self.block

    def close(self) -> None:
        self.camera.close()
        self.laser.close()


def dense_gemm(n_inputs: int, n_pixels: int, block: int) -> tuple[object, np.ndarray]:
    """The dense medium's one GEMM. Its cost does not depend on the values, so the matrix is filled by tiling
    a random block instead of being drawn and filtered (which takes minutes at the larger shapes)."""
    rng = np.random.default_rng(1)
    matrix = np.empty((n_inputs, 2 * n_pixels), np.float32)
    tile = rng.standard_normal((min(n_inputs, 64), 2 * n_pixels), dtype=np.float32)
    for start in range(0, n_inputs, len(tile)):
        matrix[start : start + len(tile)] = tile[: n_inputs - start]
    inputs = (rng.random((block, n_inputs)) < 0.3).astype(np.float32)
    return (lambda: inputs @ matrix), matrix


def block_for(n_inputs: int, n_coefficients: int, flops: float = 3e10) -> int:
    """Frames per measured block: about `flops` of GEMM, between 16 and 512 frames."""
    return int(np.clip(flops / (4 * n_inputs * n_coefficients), 16, 512))


def headline(rounds: int) -> dict[str, object]:
    side, camera, block = 64, (128, 128), 512
    medium = RandomTransmissionMatrix(side * side, camera, seed=1, grain_px=GRAIN_PX)
    path = SimulatedPath(medium, side, block)
    gemm, _ = dense_gemm(side * side, camera[0] * camera[1], block)
    times = interleaved(path, gemm, rounds, SETTLE_S)
    path.close()
    sim_fps, gemm_fps = block / times["candidate_s"], block / times["baseline_s"]
    return {
        "headline": "64x64 macropixels -> 128x128 camera, grain 2 px, 512-frame blocks",
        "pupil_modes": medium.n_coefficients,
        "band_limited_simulated_frames_per_s": round(sim_fps, 1),
        "dense_gemm_frames_per_s": round(gemm_fps, 1),
        "ratio": round(sim_fps / gemm_fps, 2),
        "target_ratio": TARGET_RATIO,
        "meets_target": sim_fps / gemm_fps >= TARGET_RATIO,
    }


def reference(rounds: int, torch_device: str | None) -> dict[str, object]:
    side, camera = 64, (256, 256)
    medium = RandomTransmissionMatrix(side * side, camera, seed=1, grain_px=GRAIN_PX)
    started = time.perf_counter()
    _ = medium.matrix
    build_s = time.perf_counter() - started
    block = 256
    path = SimulatedPath(medium, side, block)
    gemm, matrix = dense_gemm(side * side, camera[0] * camera[1], block)
    times = interleaved(path, gemm, rounds, SETTLE_S)
    path.close()
    del matrix, gemm
    sim_fps, gemm_fps = block / times["candidate_s"], block / times["baseline_s"]
    figures: dict[str, object] = {
        "reference": "64x64 macropixels -> 256x256 camera, grain 2 px, 256-frame blocks",
        "reference_pupil_modes": medium.n_coefficients,
        "reference_band_limited_MB": round(medium.memory_bytes / 1e6),
        "reference_dense_MB": round(side * side * 2 * camera[0] * camera[1] * 4 / 1e6),
        "reference_target_MB": TARGET_REFERENCE_MB,
        "reference_meets_memory_target": medium.memory_bytes / 1e6 <= TARGET_REFERENCE_MB,
        "reference_build_s": round(build_s, 1),
        "reference_band_limited_simulated_frames_per_s": round(sim_fps, 1),
        "reference_dense_gemm_frames_per_s": round(gemm_fps, 1),
        "reference_ratio": round(sim_fps / gemm_fps, 2),
    }
    if torch_device:
        torch_path = SimulatedPath(medium, side, 1024, compute=f"torch:{torch_device}")
        numpy_path = SimulatedPath(medium, side, 1024)
        times = interleaved(torch_path, numpy_path, rounds, SETTLE_S)
        torch_path.close()
        numpy_path.close()
        torch_fps = 1024 / times["candidate_s"]
        figures |= {
            "reference_torch_device": torch_device,
            "reference_torch_simulated_frames_per_s": round(torch_fps, 1),
            "reference_torch_over_numpy": round(times["baseline_s"] / times["candidate_s"], 2),
            "reference_torch_over_dmd_rate": round(torch_fps / DMD_RATE_FPS, 3),
        }
    return figures


def measure(run: object, rounds: int) -> float:
    """Median seconds of `rounds` calls after one warm-up."""
    run()
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return float(np.median(times))


def growth(sides: list[int], cameras: list[int], max_gb: float, rounds: int) -> list[dict[str, object]]:
    rows = []
    for side in sides:
        for cam in cameras:
            n_inputs, n_pixels = side * side, cam * cam
            medium = RandomTransmissionMatrix(n_inputs, (cam, cam), seed=1, grain_px=GRAIN_PX)
            row: dict[str, object] = {"dmd_side": side, "camera_side": cam, "pupil_modes": medium.n_coefficients}
            dense_gb = n_inputs * 2 * n_pixels * 4 / 1e9
            band_gb = medium.memory_bytes / 1e9
            row |= {"dense_GB": round(dense_gb, 3), "band_limited_GB": round(band_gb, 3)}
            if dense_gb <= max_gb:
                block = block_for(n_inputs, n_pixels)
                gemm, matrix = dense_gemm(n_inputs, n_pixels, block)
                row["dense_gemm_frames_per_s"] = round(block / measure(gemm, rounds), 1)
                del matrix, gemm
            else:
                row["dense_gemm_frames_per_s"] = f"skipped (> {max_gb} GB)"
            if band_gb <= max_gb:
                block = block_for(n_inputs, medium.n_coefficients)
                path = SimulatedPath(medium, side, block)
                row["band_limited_frames_per_s"] = round(block / measure(path, rounds), 1)
                path.close()
            else:
                row["band_limited_frames_per_s"] = f"skipped (> {max_gb} GB)"
            del medium
            print(row, flush=True)
            rows.append(row)
    return rows


def markdown_table(rows: list[dict[str, object]]) -> str:
    head = "| DMD | camera | modes | dense GB | band-limited GB | dense GEMM frames/s | band-limited frames/s | ratio |"
    lines = [head, "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        dense, band = r["dense_gemm_frames_per_s"], r["band_limited_frames_per_s"]
        ratio = f"{band / dense:.1f}x" if isinstance(dense, float) and isinstance(band, float) else "-"
        lines.append(
            f"| {r['dmd_side']}x{r['dmd_side']} | {r['camera_side']}x{r['camera_side']} | {r['pupil_modes']} "
            f"| {r['dense_GB']} | {r['band_limited_GB']} | {dense} | {band} | {ratio} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--growth", action="store_true", help="also measure the growth table (minutes)")
    parser.add_argument("--sides", type=int, nargs="+", default=[32, 64, 128])
    parser.add_argument("--cameras", type=int, nargs="+", default=[64, 128, 256, 512])
    parser.add_argument("--max-gb", type=float, default=2.5, help="skip media larger than this")
    parser.add_argument("--torch-device", default=None, help="also run the reference scale on torch (cpu, cuda)")
    args = parser.parse_args()
    figures = headline(args.rounds) | reference(max(3, args.rounds // 2), args.torch_device)
    if args.growth:
        rows = growth(args.sides, args.cameras, args.max_gb, rounds=2)
        figures["growth"] = rows
        print(markdown_table(rows))
    report("sim_throughput", figures)


if __name__ == "__main__":
    main()
