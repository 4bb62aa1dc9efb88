"""The preflight's size estimate is honest (never below the file the writer makes, and not wildly above),
and an output folder that is missing or read-only is reported as such, not as free space."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from speckle_lab.acquisition.plan import plan_from_dict
from speckle_lab.acquisition.preflight import folder_problem
from speckle_lab.lab.bench import Bench
from speckle_lab.lab.capture_service import make_run


@pytest.mark.parametrize("n_frames, dark_frames, target", [(1, 0, 8), (8, 4, 16), (100, 16, 24), (700, 16, 16)])
def test_the_size_estimate_covers_the_file_the_writer_makes(
    tmp_path: Path, small_bench: Bench, n_frames: int, dark_frames: int, target: int
) -> None:
    plan = plan_from_dict(
        {"targets": "blobs", "n_frames": n_frames, "dark_frames": dark_frames, "target_rows": target,
         "target_cols": target, "block_frames": 64, "reference_every": 100}, "test"
    )  # fmt: skip
    out = tmp_path / "run.h5"
    run = make_run(plan, small_bench, out)
    estimate = run.preflight().file_bytes
    assert run.run().ok
    size = out.stat().st_size
    # the writer also needs its per-block margin and the last-event headroom free while it writes: included
    assert size <= estimate, (size, estimate)
    assert estimate <= 2 * size + (2 << 20), (size, estimate)  # honest, not a blanket over-estimate


def test_a_missing_or_read_only_folder_is_named_as_such(tmp_path: Path, small_bench: Bench) -> None:
    plan = plan_from_dict({"targets": "blobs", "n_frames": 4, "target_rows": 16, "target_cols": 16}, "test")
    check = make_run(plan, small_bench, tmp_path / "nofolder" / "run.h5").preflight()
    assert not check.ok and "does not exist" in check.message and "free" not in check.message
    if os.geteuid() != 0:  # root writes anywhere: a read-only folder cannot refuse it
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o555)
        assert "not writable" in folder_problem(locked / "run.h5")


def test_a_plan_the_preflight_accepts_fits_the_disk(small_bench: Bench, tiny_fs: Path) -> None:
    """On a real 4 MiB filesystem: whatever the preflight accepts completes (no full disk at the first
    block, as the pixels-only estimate allowed), and it does not refuse everything either."""
    verdicts = {}
    for n_frames in (256, 700, 1100, 1500, 2000):
        plan = plan_from_dict(
            {"targets": "blobs", "n_frames": n_frames, "target_rows": 16, "target_cols": 16, "block_frames": 128},
            "test",
        )
        out = tiny_fs / f"run{n_frames}.h5"
        run = make_run(plan, small_bench, out)
        verdicts[n_frames] = run.preflight().ok
        if verdicts[n_frames]:
            result = run.run()
            assert result.ok, (n_frames, result.message)
            out.unlink()
    assert any(verdicts.values()) and not all(verdicts.values()), verdicts
