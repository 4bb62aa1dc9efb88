"""Simulated bench throughput: a DMD sequence read by a hardware-triggered camera, against the raw GEMM.

A 64x64-macropixel DMD and a 128x128 camera. The candidate is the whole fast path (trigger events, one
GEMM per block, intensity, photons, EMVA noise, quantisation); the baseline is the bare float32 GEMM
of the same shapes. Target: candidate rate >= 0.85 of the GEMM rate.
"""

from __future__ import annotations

import argparse

import numpy as np

from benchmarks.common import interleaved, report
from drivers import TriggerMode
from sim.camera import SimulatedCamera
from sim.dmd import SimulatedDMD
from sim.laser import SimulatedLaser
from sim.medium import RandomTransmissionMatrix
from sim.table import DmdGeometry, OpticalTable

TARGET = 0.85


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--block", type=int, default=512, help="frames per DMD sequence / camera block")
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()

    side, camera = 64, (128, 128)
    medium = RandomTransmissionMatrix(side * side, camera, seed=1, grain_px=2)
    table = OpticalTable(medium, DmdGeometry((side * 4, side * 4), 0, 0, 4, side))
    laser, dmd, cam = SimulatedLaser(table), SimulatedDMD(table), SimulatedCamera(table)
    laser.set_power_w(0.05)
    laser.set_emission(True)
    rng = np.random.default_rng(0)
    patterns = np.kron(rng.random((args.block, side, side)) < 0.3, np.ones((4, 4), bool))
    dmd.load_sequence(patterns, dmd.min_picture_time_us)
    cam.set_trigger_mode(TriggerMode.HARDWARE)
    cam.start()

    def simulated() -> None:
        dmd.start()
        block = cam.read_block(args.block, timeout_s=5.0)
        assert len(block) == args.block

    inputs = (rng.random((args.block, side * side)) < 0.3).astype(np.float32)
    matrix = medium.matrix

    def raw_gemm() -> None:
        inputs @ matrix

    times = interleaved(simulated, raw_gemm, args.rounds)
    laser.close()
    sim_fps = args.block / times["candidate_s"]
    gemm_fps = args.block / times["baseline_s"]
    report(
        "sim_throughput",
        {
            "dmd_macropixels": f"{side}x{side}",
            "camera_pixels": f"{camera[0]}x{camera[1]}",
            "block_frames": args.block,
            "simulated_frames_per_s": round(sim_fps, 1),
            "raw_gemm_frames_per_s": round(gemm_fps, 1),
            "ratio": round(sim_fps / gemm_fps, 3),
            "target_ratio": TARGET,
            "meets_target": sim_fps / gemm_fps >= TARGET,
        },
    )


if __name__ == "__main__":
    main()
