"""A full disk mid-run (a real ENOSPC from a tiny tmpfs): clean stop, laser off, file valid, resumable."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from capture_helpers import fill

from speckle_lab.acquisition.datafile import CaptureReader
from speckle_lab.acquisition.plan import CapturePlan
from speckle_lab.acquisition.scheduler import CaptureError, CaptureProgress
from speckle_lab.lab.bench import Bench
from speckle_lab.lab.capture_service import make_run, resume_file

PLAN = {"targets": "blobs", "target_rows": 16, "target_cols": 16, "block_frames": 64, "dark_frames": 2}


def test_full_disk_stops_cleanly_and_resumes_after_space_is_freed(small_bench: Bench, tiny_fs: Path) -> None:
    path = tiny_fs / "night.h5"
    filler: list[Path] = []

    def fill_after_first_block(progress: CaptureProgress) -> None:
        if progress.rows_done >= 64 and not filler:
            filler.append(fill(tiny_fs))

    plan = CapturePlan.model_validate({**PLAN, "n_frames": 600})
    result = make_run(plan, small_bench, path, on_progress=fill_after_first_block).run()
    assert result.status == "failed"
    assert "No space left" in result.message and f"speckle-lab capture --resume {path}" in result.message
    assert not small_bench.laser.emission
    with CaptureReader(path) as reader:
        committed = reader.n_frames
        assert 64 <= committed < 600
        assert np.array_equal(reader.frames().target_index, np.arange(committed))
    filler[0].unlink()
    resumed = resume_file(path)
    assert resumed.ok, resumed.message
    with CaptureReader(path) as reader:
        assert reader.n_frames == 600 and np.array_equal(reader.frames().target_index, np.arange(600))


def test_preflight_refuses_a_run_larger_than_the_disk(small_bench: Bench, tiny_fs: Path) -> None:
    plan = CapturePlan.model_validate({**PLAN, "n_frames": 5000})
    with pytest.raises(CaptureError, match="does NOT fit"):
        make_run(plan, small_bench, tiny_fs / "big.h5").run()
    assert not (tiny_fs / "big.h5").exists()
