"""The capture engine on the simulated bench: every row once and in order, faults recorded, laser off."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest

from speckle_lab.acquisition.control import CaptureControl
from speckle_lab.acquisition.datafile import CaptureReader
from speckle_lab.acquisition.plan import CapturePlan
from speckle_lab.acquisition.scheduler import CaptureError, CaptureProgress
from speckle_lab.drivers import TriggerMode
from speckle_lab.lab.bench import Bench
from speckle_lab.lab.capture_service import make_run, resume_file

PLAN = {
    "targets": "blobs",
    "n_frames": 300,
    "target_rows": 16,
    "target_cols": 16,
    "block_frames": 64,
    "reference_every": 100,
    "dark_frames": 4,
    "read_timeout_s": 0.5,
}


def plan(**changes: object) -> CapturePlan:
    return CapturePlan.model_validate({**PLAN, **changes})


def pearson(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a.ravel().astype(float), b.ravel().astype(float))[0, 1])


def test_sequence_capture_writes_every_row_in_order_with_darks_and_references(small_bench: Bench, tmp_path: Path):
    path = tmp_path / "run.h5"
    seen: list[int] = []
    run = make_run(plan(), small_bench, path, on_progress=lambda p: seen.append(p.rows_done))
    result = run.run()
    assert result.ok, result.message
    assert not small_bench.laser.emission
    assert seen[-1] == 300 and seen == sorted(seen)
    with CaptureReader(path) as reader:
        assert reader.n_frames == 300 and reader.status == "complete"
        rows = reader.frames()
        assert np.array_equal(rows.target_index, np.arange(300))
        assert rows.speckle.shape == (300, 32, 32) and rows.speckle.dtype == np.uint16
        assert rows.target.shape == (300, 16, 16) and rows.target.min() >= 0 and rows.target.max() <= 1
        assert np.all(np.diff(rows.timestamp_s) >= 0)
        dark, _, phase = reader.dark()
        assert len(dark) == 8 and list(phase) == ["start"] * 4 + ["end"] * 4
        # Laser off: darks sit at the black level; frames carry light.
        assert abs(dark.mean() - 100) < 2 and rows.speckle.mean() > dark.mean() + 5
        reference, _, after_row, correlation = reader.references()
        assert reference.shape == (3, 32, 32)
        assert list(after_row) == [100, 200, 300]
        assert correlation[0] == 1.0 and min(correlation) > 0.95


def test_each_speckle_belongs_to_its_target(small_bench: Bench, tmp_path: Path):
    """Re-show a few captured rows' patterns one by one: each frame matches its own row, not its neighbour."""
    path = tmp_path / "run.h5"
    run = make_run(plan(n_frames=64, reference_every=64), small_bench, path)
    assert run.run().ok
    with CaptureReader(path) as reader:
        rows = reader.frames()
    block = run.rows.make(range(0, 64))
    camera, dmd, laser = small_bench.camera, small_bench.dmd, small_bench.laser
    laser.set_emission(True)
    camera.set_trigger_mode(TriggerMode.SOFTWARE)
    camera.start()
    for row in (0, 17, 63):
        dmd.show(block.patterns[row])
        camera.software_trigger()
        frame = camera.read(1.0).pixels
        assert pearson(frame, rows.speckle[row]) > 0.9
        assert pearson(frame, rows.speckle[(row + 1) % 64]) < 0.6
    laser.close()


def test_step_mode_gives_the_same_file_layout(small_bench: Bench, tmp_path: Path):
    path = tmp_path / "step.h5"
    result = make_run(plan(mode="step", n_frames=40, reference_every=20), small_bench, path).run()
    assert result.ok
    with CaptureReader(path) as reader:
        assert reader.n_frames == 40
        assert list(reader.references()[2]) == [20, 40]


def test_camera_timeouts_and_frame_gaps_are_retried_and_recorded(small_bench: Bench, tmp_path: Path):
    small_bench.camera.inject_faults(timeouts=2, frame_id_gaps=1)
    path = tmp_path / "faults.h5"
    result = make_run(plan(n_frames=200), small_bench, path).run()
    assert result.ok and result.retries == 3
    with CaptureReader(path) as reader:
        kinds = [event["kind"] for event in reader.events()]
        assert kinds.count("camera_timeout") == 2 and kinds.count("frame_gap") == 1 and kinds.count("retry") == 3
        ids = reader.frames().frame_id
        assert reader.n_frames == 200 and np.array_equal(reader.frames().target_index, np.arange(200))
        assert len(ids) == 200


def test_a_camera_that_keeps_failing_stops_the_run_cleanly(small_bench: Bench, tmp_path: Path):
    path = tmp_path / "dead.h5"
    run = make_run(plan(max_retries=2), small_bench, path)
    small_bench.camera.inject_faults(timeouts=100)
    started = time.monotonic()
    result = run.run()
    assert time.monotonic() - started < 10
    assert result.status == "failed"
    assert "failed 3 times" in result.message and f"speckle-lab capture --resume {path}" in result.message
    assert not small_bench.laser.emission
    with CaptureReader(path) as reader:
        assert reader.status == "failed" and reader.n_frames == 0


def test_a_laser_fault_mid_run_stops_with_the_laser_off(small_bench: Bench, tmp_path: Path):
    path = tmp_path / "laser.h5"

    def fault_after_first_block(progress: CaptureProgress) -> None:
        if progress.rows_done >= 64:
            small_bench.laser.inject_fault("overtemperature")

    result = make_run(plan(), small_bench, path, on_progress=fault_after_first_block).run()
    assert result.status == "failed" and "overtemperature" in result.message
    assert not small_bench.laser.emission
    with CaptureReader(path) as reader:
        assert reader.n_frames == 64
        assert "device_error" in [event["kind"] for event in reader.events()]


def test_pause_resume_and_abort_from_another_thread(small_bench: Bench, tmp_path: Path):
    path = tmp_path / "paused.h5"
    control = CaptureControl()
    progress: list[CaptureProgress] = []
    run = make_run(
        plan(n_frames=3000, block_frames=32),
        small_bench,
        path,
        control=control,
        on_progress=lambda p: progress.append(p.rows_done),
    )
    outcome = {}
    worker = threading.Thread(target=lambda: outcome.setdefault("result", run.run()))
    worker.start()
    while not progress:
        time.sleep(0.01)
    control.pause()
    time.sleep(0.3)
    paused_at = progress[-1]
    time.sleep(0.3)
    assert progress[-1] == paused_at and worker.is_alive()
    control.resume()
    while progress[-1] <= paused_at:
        time.sleep(0.01)
    control.abort("test abort")
    worker.join(10)
    result = outcome["result"]
    assert result.status == "aborted" and "test abort" in result.message
    assert not small_bench.laser.emission
    assert 0 < result.rows_committed < 3000
    with CaptureReader(path) as reader:
        assert reader.status == "aborted" and reader.n_frames == result.rows_committed


def test_resume_after_abort_completes_every_row_once(small_bench: Bench, tmp_path: Path):
    path = tmp_path / "resume.h5"
    control = CaptureControl()

    def abort_after_two_blocks(progress: CaptureProgress) -> None:
        if progress.rows_done >= 100:
            control.abort()

    result = make_run(plan(), small_bench, path, control=control, on_progress=abort_after_two_blocks).run()
    assert result.status == "aborted" and result.rows_committed == 100  # blocks end at 64 and at the reference
    resumed = resume_file(path)
    assert resumed.ok, resumed.message
    with CaptureReader(path) as reader:
        assert reader.n_frames == 300 and reader.status == "complete"
        assert np.array_equal(reader.frames().target_index, np.arange(300))
        assert "resumed" in [event["kind"] for event in reader.events()]


def test_preflight_refuses_a_run_the_disk_cannot_hold(small_bench: Bench, tmp_path: Path):
    run = make_run(plan(n_frames=10**10), small_bench, tmp_path / "huge.h5")
    with pytest.raises(CaptureError, match="does NOT fit"):
        run.run()
    assert not (tmp_path / "huge.h5").exists()


def test_target_offset_gives_disjoint_train_and_test_targets(small_bench: Bench) -> None:
    """One seed, two offsets: a train set and a test set that share no source image."""
    from speckle_lab.acquisition.rows import RowMaker

    geometry = small_bench.geometry
    train = RowMaker(plan(targets="lfw", n_frames=160, n_targets=80), geometry, geometry.mirror_shape)
    test = RowMaker(plan(targets="lfw", n_frames=40, n_targets=20, target_offset=80), geometry, geometry.mirror_shape)
    train_sources = set(train.make(range(160)).fields["source_index"].tolist())
    test_sources = set(test.make(range(40)).fields["source_index"].tolist())
    assert len(train_sources) == 80 and len(test_sources) == 20 and not train_sources & test_sources


@pytest.mark.parametrize("cached_targets", [0, 7, 4096])
def test_cycled_targets_are_the_same_whether_cached_or_prepared_again(
    small_bench: Bench, monkeypatch: pytest.MonkeyPatch, cached_targets: int
) -> None:
    """A list of 20 targets cycled over 50 rows: every row shows the target its list row names, whether the
    list fits the prepared-target cache, overflows it or there is none."""
    from speckle_lab.acquisition import rows as rows_module

    monkeypatch.setattr(rows_module, "_CACHED_TARGETS", cached_targets)
    geometry = small_bench.geometry
    maker = rows_module.RowMaker(plan(targets="mnist", n_frames=50, n_targets=20), geometry, geometry.mirror_shape)
    first, second = maker.make(range(0, 30)), maker.make(range(30, 50))
    index = np.concatenate([first.target_index, second.target_index])
    assert index.tolist() == [row % 20 for row in range(50)]
    expected = np.stack([maker.prepared(int(i)) for i in range(20)])
    fresh = rows_module.RowMaker(plan(targets="mnist", n_frames=50, n_targets=20), geometry, geometry.mirror_shape)
    assert np.array_equal(
        fresh.make(range(0, 50)).fields["source_index"],
        np.concatenate([first.fields["source_index"], second.fields["source_index"]]),
    )
    assert np.array_equal(maker._targets(index), expected[index])
