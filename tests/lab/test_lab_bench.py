"""Building the bench from its configuration, and closing it in the order that leaves it safe."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from speckle_lab.drivers import DeviceError, TriggerMode
from speckle_lab.lab import bench as bench_module
from speckle_lab.lab.bench import Bench, build_bench, open_bench
from speckle_lab.lab.bench_config import BenchConfig, BenchConfigError, load_bench
from speckle_lab.sim.medium import PhaseScreenDiffuser, RandomTransmissionMatrix

SMALL = {"dmd": {"macropixel_mirrors": 8, "side_macropixels": 16}, "camera": {"rows": 32, "cols": 48}}


def test_default_bench_builds_the_simulated_devices() -> None:
    with open_bench(None) as bench:
        assert [d.identity.kind for d in bench.devices().values()] == ["laser", "dmd", "camera"]
        assert {d.identity.backend for d in bench.devices().values()} == {"sim"}
        assert bench.dmd.mirror_shape == (256, 256)
        assert bench.camera.sensor_shape == (128, 128) and bench.camera.bit_depth == 12
        assert bench.camera.exposure_us == 40.0
        assert bench.laser.power_setpoint_w == 0.05 and not bench.laser.emission
        assert bench.laser.power_range_w == (0.0, 0.1)
        assert bench.table is not None
        medium = bench.table.medium
        assert isinstance(medium, RandomTransmissionMatrix)
        assert (medium.n_inputs, medium.output_shape, medium.seed, medium.grain_px) == (64 * 64, (128, 128), 1, 2.0)
        g = bench.table.geometry
        assert (g.active_top, g.active_left, g.macropixel_mirrors, g.side_macropixels) == (0, 0, 4, 64)


def test_phase_screen_takes_the_dmd_side_and_camera_shape() -> None:
    config = BenchConfig().with_changes(
        **SMALL, medium={"kind": "phase_screen", "seed": 4, "correlation_px": 2.0, "grain_px": 3.0}
    )
    with build_bench(config) as bench:
        medium = bench.table.medium
        assert isinstance(medium, PhaseScreenDiffuser)
        assert (medium.side, medium.n_inputs, medium.output_shape) == (16, 256, (32, 48))
        assert bench.camera.sensor_shape == (32, 48)
        assert bench.table.geometry.active_top == (256 - 128) // 2


def test_sensor_and_settings_come_from_the_config() -> None:
    config = BenchConfig().with_changes(
        **{**SMALL, "camera": {**SMALL["camera"], "bit_depth": 8, "gain_db": 6.0, "read_noise_e": 2.5}},
        laser={"max_power_w": 0.02, "power_w": 0.01},
    )
    with build_bench(config) as bench:
        assert bench.camera.dtype == np.uint8 and bench.camera.gain_db == 6.0
        assert bench.camera.sensor.read_noise_e == 2.5
        assert bench.laser.power_range_w == (0.0, 0.02) and bench.laser.power_setpoint_w == 0.01


def test_built_bench_makes_speckle_with_hardware_triggers() -> None:
    config = BenchConfig().with_changes(**SMALL)
    with build_bench(config) as bench:
        patterns = np.zeros((2, 256, 256), dtype=bool)
        patterns[0, 64:192, 64:128] = True
        patterns[1, 64:192, 128:192] = True
        bench.camera.set_trigger_mode(TriggerMode.HARDWARE)
        bench.camera.start()
        bench.laser.set_emission(True)
        bench.dmd.load_sequence(patterns, 100.0)
        bench.dmd.start()
        frames = bench.camera.read_block(2, timeout_s=5.0).pixels.astype(float)
    signal = frames - config.camera.offset_dn
    assert signal.mean() > 100  # light arrived
    assert 0.6 < signal[0].std() / signal[0].mean() < 1.2  # speckle contrast near 1
    assert not bench.laser.emission  # closing turned it off


def test_device_refusal_names_the_key() -> None:
    config = BenchConfig().with_changes(camera={"exposure_us": 2e7})
    with pytest.raises(BenchConfigError, match=r"^bench\.toml: camera\.exposure_us: the device refuses 20000000\.0"):
        build_bench(config, "bench.toml")


def test_backend_without_a_factory_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bench_module, "CAMERA_BACKENDS", {})
    with pytest.raises(BenchConfigError, match=r"camera\.backend: the 'sim' backend is not implemented yet"):
        build_bench(BenchConfig(), "bench.toml")


def test_open_bench_reads_the_file(tmp_path: Path) -> None:
    path = tmp_path / "b.toml"
    path.write_text('[bench]\nname = "east table"\n[camera]\nexposure_us = 80.0\n', encoding="utf-8")
    with open_bench(path) as bench:
        assert bench.config == load_bench(path)
        assert bench.camera.exposure_us == 80.0


class _Recorder:
    def __init__(self, log: list[str], name: str, fails: bool = False) -> None:
        self.log, self.name, self.fails = log, name, fails

    def close(self) -> None:
        self.log.append(self.name)
        if self.fails:
            raise DeviceError(self.name, "close", "cable pulled")


def _bench(log: list[str], failing: set[str]) -> Bench:
    devices: dict[str, Any] = {name: _Recorder(log, name, name in failing) for name in ("laser", "dmd", "camera")}
    return Bench(config=BenchConfig(), **devices)


def test_close_order_is_camera_dmd_laser() -> None:
    log: list[str] = []
    with _bench(log, set()):
        pass
    assert log == ["camera", "dmd", "laser"]


def test_laser_closes_even_when_others_fail() -> None:
    log: list[str] = []
    with pytest.raises(DeviceError, match="camera: close: cable pulled") as caught:
        _bench(log, {"camera", "dmd"}).close()
    assert log == ["camera", "dmd", "laser"]
    assert any("dmd: close: cable pulled" in note for note in caught.value.__notes__)


def test_real_laser_closes_with_emission_off_when_the_camera_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    bench = build_bench(BenchConfig().with_changes(**SMALL))
    bench.laser.set_emission(True)

    def broken_close() -> None:
        raise DeviceError("camera", "close", "driver crashed")

    monkeypatch.setattr(bench.camera, "close", broken_close)
    with pytest.raises(DeviceError, match="driver crashed"):
        bench.close()
    assert not bench.laser.emission
    assert bench.table.emitted_power_w == 0.0


def test_medium_representation_and_sim_device_come_from_the_config() -> None:
    """`[sim] representation` picks how the matrix is stored; `[sim] device` where it is computed: cpu is
    numpy, auto is numpy without a GPU, cuda without one is a clear error naming the key."""
    with build_bench(BenchConfig().with_changes(**SMALL)) as bench:
        assert bench.table.medium.representation == "band_limited" and bench.table.compute == "numpy"
    config = BenchConfig().with_changes(**SMALL, sim={"device": "auto", "representation": "dense"})
    with build_bench(config) as bench:
        assert bench.table.medium.representation == "dense"
        assert bench.table.compute == ("torch:cuda" if torch_cuda_available() else "numpy")
    if not torch_cuda_available():
        with pytest.raises(BenchConfigError, match=r"sim\.device"):
            build_bench(BenchConfig().with_changes(**SMALL, sim={"device": "cuda"}))


def torch_cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()
