"""Crash safety of a real `speckle-lab capture` process: kill -9 at several points, resume, every row once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from capture_helpers import small_config, write_small_bench_toml

from speckle_lab.acquisition.datafile import CaptureFileError, CaptureReader
from speckle_lab.acquisition.plan import plan_from_dict
from speckle_lab.acquisition.rows import RowMaker
from speckle_lab.lab.bench import dmd_geometry
from speckle_lab.lab.capture_service import resume_file

N_FRAMES = 2000


def start_capture(tmp_path: Path, out: Path) -> subprocess.Popen:
    bench = write_small_bench_toml(tmp_path / "bench.toml")
    command = [
        sys.executable, "-m", "speckle_lab.lab.cli", "capture", "--targets", "blobs", "--n", str(N_FRAMES),
        "--out", str(out),
        "--bench", str(bench), "--target-size", "16", "--block", "16", "--reference-every", "500", "--quiet",
    ]  # fmt: skip
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def committed_rows(path: Path) -> int:
    try:
        with CaptureReader(path) as reader:
            return reader.n_frames
    except (CaptureFileError, OSError):
        return -1


@pytest.mark.parametrize("kill_at_rows", [0, 48, 700])
def test_kill_9_then_resume_gives_every_row_exactly_once(tmp_path: Path, kill_at_rows: int) -> None:
    out = tmp_path / "night.h5"
    process = start_capture(tmp_path, out)
    deadline = time.monotonic() + 60
    try:
        while committed_rows(out) < kill_at_rows or not out.exists():
            assert process.poll() is None, process.stderr.read().decode()
            assert time.monotonic() < deadline, "the capture made no progress"
            time.sleep(0.005)
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
    with CaptureReader(out) as reader:
        survived = reader.n_frames
        assert survived >= kill_at_rows and survived < N_FRAMES
    result = resume_file(out)
    assert result.ok, result.message
    with CaptureReader(out) as reader:
        rows = reader.frames()
        assert reader.n_frames == N_FRAMES and reader.status == "complete"
        assert np.array_equal(rows.target_index, np.arange(N_FRAMES))
        assert "resumed" in [event["kind"] for event in reader.events()]
        plan = plan_from_dict(reader.plan)
    # The rows written before and after the crash are the plan's targets: regenerate them and compare.
    geometry = dmd_geometry(small_config())
    expected = RowMaker(plan, geometry, geometry.mirror_shape).make(range(N_FRAMES))
    assert np.array_equal(rows.target, expected.targets)
