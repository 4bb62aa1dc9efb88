"""A small simulated bench (laser, DMD, camera on one optical table) built straight from the sim classes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import pytest

from speckle_lab.drivers import DmdGeometry
from speckle_lab.sim.camera import SimulatedCamera
from speckle_lab.sim.camera_model import SensorModel
from speckle_lab.sim.dmd import SimulatedDMD
from speckle_lab.sim.laser import SimulatedLaser
from speckle_lab.sim.medium import Medium, RandomTransmissionMatrix
from speckle_lab.sim.table import OpticalTable, patterns_to_inputs


@dataclass
class Bench:
    table: OpticalTable
    laser: SimulatedLaser
    dmd: SimulatedDMD
    camera: SimulatedCamera

    @property
    def geometry(self) -> DmdGeometry:
        return self.table.geometry

    @property
    def side(self) -> int:
        return self.geometry.side_macropixels

    def pattern(self, macropixels: np.ndarray) -> np.ndarray:
        """Mirror pattern showing `macropixels` `[side, side]` (bool or uint8) in the active area, dark elsewhere."""
        g = self.geometry
        block = np.ones((g.macropixel_mirrors, g.macropixel_mirrors), dtype=macropixels.dtype)
        pattern = np.zeros(g.mirror_shape, dtype=macropixels.dtype)
        span = g.active_side_mirrors
        pattern[g.active_top : g.active_top + span, g.active_left : g.active_left + span] = np.kron(macropixels, block)
        return pattern

    def reference(self, pattern: np.ndarray) -> np.ndarray:
        """Noise-free relative intensity `[row, col]` of one mirror pattern (mean 1 with all macropixels on)."""
        inputs = patterns_to_inputs(pattern[None], self.geometry, self.table.coherent_gray)
        return self.table.intensity(inputs)[0].reshape(self.table.medium.output_shape)

    def expected_dn(self, relative_intensity: np.ndarray, power_w: float) -> np.ndarray:
        """EMVA 1288 mean digital numbers for a relative intensity, at the camera's exposure and gain."""
        sensor, camera = self.camera.sensor, self.camera
        photons = relative_intensity * power_w * camera.exposure_us * 1e-6 * self.table.photons_per_joule
        electrons = sensor.quantum_efficiency * photons + sensor.dark_current_e_per_s * camera.exposure_us * 1e-6
        return sensor.offset_dn + sensor.gain_dn_per_e(camera.gain_db) * electrons


BenchFactory = Callable[..., Bench]


@pytest.fixture
def make_bench() -> Iterator[BenchFactory]:
    """Factory of small benches: a 16x16-macropixel DMD (2x2 mirrors each) off-centre on a 40x44 mirror array."""
    benches: list[Bench] = []

    def build(
        medium: Medium | None = None,
        side: int = 16,
        output_shape: tuple[int, int] = (64, 64),
        seed: int = 1,
        grain_px: float = 1.0,
        macropixel_mirrors: int = 2,
        sensor: SensorModel | None = None,
        camera_seed: int = 0,
        coherent_gray: bool = False,
        compute: str = "numpy",
    ) -> Bench:
        medium = medium or RandomTransmissionMatrix(side * side, output_shape, seed=seed, grain_px=grain_px)
        span = side * macropixel_mirrors
        geometry = DmdGeometry((span + 8, span + 12), 3, 7, macropixel_mirrors, side)
        table = OpticalTable(medium, geometry, photons_per_joule=2e10, coherent_gray=coherent_gray, compute=compute)
        bench = Bench(
            table,
            SimulatedLaser(table),
            SimulatedDMD(table),
            SimulatedCamera(table, sensor=sensor or SensorModel(), seed=camera_seed),
        )
        benches.append(bench)
        return bench

    yield build
    for bench in benches:
        bench.camera.close()
        bench.dmd.close()
        bench.laser.close()
