"""The capture-queue service: several plans on one bench, another bench only when a job names one."""

from __future__ import annotations

from pathlib import Path

import pytest
from capture_helpers import small_config

from speckle_lab.acquisition.control import CaptureControl
from speckle_lab.acquisition.datafile import CaptureReader
from speckle_lab.acquisition.plan import plan_from_dict
from speckle_lab.acquisition.scheduler import CaptureError, CaptureProgress
from speckle_lab.lab.bench_config import dumps_toml
from speckle_lab.lab.capture_queue import CaptureJob, CaptureQueue

PLAN = {"target_rows": 16, "target_cols": 16, "block_frames": 16, "n_frames": 24}


def _plan(targets: str, **changes: object):
    return plan_from_dict({**PLAN, "targets": targets, **changes}, "test plan")


def test_plans_share_one_bench_and_one_medium(tmp_path: Path) -> None:
    with CaptureQueue(small_config(), "small bench") as queue:
        tables = []
        for name in ("a", "b", "c"):
            result = queue.run(CaptureJob(name, tmp_path / f"{name}.h5", _plan("blobs", seed=len(tables))))
            assert result.ok, result.message
            tables.append(queue.bench.table)
        assert queue.benches_opened == 1
        assert tables[0] is tables[1] is tables[2]
    assert queue.bench is None  # closed on leaving
    for name in ("a", "b", "c"):
        with CaptureReader(tmp_path / f"{name}.h5") as reader:
            assert reader.status == "complete" and reader.n_frames == PLAN["n_frames"]


def test_a_job_naming_another_bench_gets_it_and_release_reopens_the_queue_bench(tmp_path: Path) -> None:
    other = tmp_path / "other.toml"
    other.write_text(dumps_toml(small_config(medium={"seed": 99})))
    queue = CaptureQueue(small_config(), "small bench")
    try:
        assert queue.run(CaptureJob("own", tmp_path / "own.h5", _plan("blobs"))).ok
        first = queue.bench
        assert queue.run(CaptureJob("other", tmp_path / "other.h5", _plan("blobs"), bench_path=other)).ok
        assert queue.bench is not first and queue.bench.config.medium.seed == 99
        bench = queue.release()
        assert bench.config == small_config() and queue.benches_opened == 3
        assert queue.bench is None  # the caller owns it now
        bench.close()
    finally:
        queue.close()


def test_an_existing_file_is_refused_unless_the_job_may_overwrite_it(tmp_path: Path) -> None:
    out = tmp_path / "x.h5"
    out.write_bytes(b"not a capture")
    with CaptureQueue(small_config(), "small bench") as queue:
        with pytest.raises(CaptureError, match="already exists"):
            queue.run(CaptureJob("x", out, _plan("blobs")))
        assert out.read_bytes() == b"not a capture"
        assert queue.run(CaptureJob("x", out, _plan("blobs"), overwrite=True)).ok


def test_a_resume_job_finishes_an_aborted_file_on_the_held_bench(tmp_path: Path) -> None:
    out = tmp_path / "r.h5"
    control = CaptureControl()

    def stop_early(progress: CaptureProgress) -> None:
        if progress.rows_done >= 16:
            control.abort("test stops early")

    with CaptureQueue(small_config(), "small bench") as queue:
        result = queue.run(CaptureJob("r", out, _plan("blobs", n_frames=48)), control=control, on_progress=stop_early)
        assert result.status == "aborted" and result.rows_committed < 48
        assert queue.run(CaptureJob("resume r", out)).ok
        assert queue.benches_opened == 1  # the file's stored bench is the one held
    with CaptureReader(out) as reader:
        assert reader.status == "complete" and reader.n_frames == 48


def test_a_run_that_fails_on_the_devices_leaves_the_next_job_fresh_devices(tmp_path: Path) -> None:
    with CaptureQueue(small_config(), "small bench") as queue:

        def fault(progress: CaptureProgress) -> None:
            if progress.rows_done >= 16 and queue.bench is not None:
                queue.bench.laser.inject_fault("overtemperature")

        job = CaptureJob("f", tmp_path / "f.h5", _plan("blobs", n_frames=48))
        result = queue.run(job, on_progress=fault)
        assert result.status == "failed" and "overtemperature" in result.message
        assert queue.bench is None  # closed, laser off
        assert queue.run(CaptureJob("g", tmp_path / "g.h5", _plan("blobs"))).ok
        assert queue.benches_opened == 2
