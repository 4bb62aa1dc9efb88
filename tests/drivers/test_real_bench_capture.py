"""End to end with real drivers: a Cobolt driver on a pty-backed laser, a display DMD (offscreen Qt) and the
TLSimu GenTL camera, built from a bench file and run through the capture engine into a data file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fake_cobolt import FakeCobolt

from speckle_lab.acquisition.datafile import CaptureReader
from speckle_lab.acquisition.plan import CapturePlan
from speckle_lab.lab.bench import open_bench
from speckle_lab.lab.capture_service import make_run

cameras = pytest.importorskip("speckle_lab.drivers.cameras")


@pytest.fixture
def cobolt() -> Iterator[FakeCobolt]:
    with FakeCobolt() as device:
        yield device


def bench_file(tmp_path: Path, cobolt: FakeCobolt) -> Path:
    cti = cameras.find_tlsimu_cti()
    if cti is None:
        pytest.skip("the TLSimu GenTL producer (genicam==1.5.0) is not installed")
    path = tmp_path / "real_bench.toml"
    path.write_text(
        f"""
[bench]
name = "real drivers on test doubles"

[laser]
backend = "cobolt"
port = "{cobolt.port_name}"
device_max_power_w = 0.1
max_power_w = 0.05
power_w = 0.02
timeout_s = 0.5

[dmd]
backend = "display"
screen_index = 0
mirror_rows = 64
mirror_cols = 64
macropixel_mirrors = 2
side_macropixels = 24
max_pattern_rate_hz = 60.0

[camera]
backend = "genicam"
cti_path = "{cti}"
serial = "SN_InterfaceA_0"
rows = 32
cols = 32
bit_depth = 8
exposure_us = 40.0
fixed_exposure_us = 40.0
"""
    )
    return path


def test_cobolt_display_dmd_and_tlsimu_capture_into_a_data_file(
    tmp_path: Path, cobolt: FakeCobolt, qapp: object
) -> None:
    path = tmp_path / "real.h5"
    plan = CapturePlan(targets="digits", n_frames=12, target_rows=16, target_cols=16, dark_frames=2,
                       reference_every=6, laser_power_w=0.02, read_timeout_s=2.0)  # fmt: skip
    with open_bench(bench_file(tmp_path, cobolt)) as bench:
        assert not bench.dmd.triggered_sequences
        result = make_run(plan, bench, path).run()
        assert result.ok, result.message
        assert not bench.laser.emission
    assert "l1" in cobolt.received and cobolt.received[-1] != "l1" and not cobolt.emission
    with CaptureReader(path) as reader:
        rows = reader.frames()
        assert reader.n_frames == 12 and reader.status == "complete"
        assert rows.speckle.shape == (12, 32, 32) and rows.speckle.dtype == np.uint8
        assert np.all(np.diff(rows.frame_id) >= 1)
        laser_identity = reader.devices[0]
        assert "Cobolt" in laser_identity["vendor"] + laser_identity["model"] and laser_identity["serial"] == "20417"
        assert len(reader.references()[2]) == 2
        assert "step_mode" in [event["kind"] for event in reader.events()]  # the display DMD has no sequencer
