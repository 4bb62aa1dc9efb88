"""Crash safety across processes: a SWMR reader in another process sees the file grow; a writer killed with
SIGKILL at any moment leaves a file that opens, holds exactly the committed rows, and resumes to a file with
every planned row once, in order."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import h5py
import numpy as np
import pytest

from speckle_lab.acquisition.datafile import CaptureFileError, CaptureReader, CaptureWriter
from speckle_lab.acquisition.datafile.testing import EXAMPLE_FIELDS, assert_rows_equal, example_metadata, synthetic_rows
from speckle_lab.acquisition.h5clear import read_superblock

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}


def create(path: Path, n_planned: int) -> CaptureWriter:
    return CaptureWriter.create(
        path,
        speckle_shape=(64, 64),
        speckle_dtype=np.uint16,
        target_shape=(32, 32),
        frame_fields=EXAMPLE_FIELDS,
        metadata=example_metadata(n_planned),
    )


def check_every_row(path: Path, n: int) -> None:
    with CaptureReader(path) as reader:
        assert reader.n_frames == n
        for start in range(0, n, 1000):
            stop = min(n, start + 1000)
            assert_rows_equal(reader.frames(start, stop), synthetic_rows(start, stop - start))


READER_SCRIPT = """
import json, sys, time
import numpy as np
from speckle_lab.acquisition.datafile import CaptureReader
from speckle_lab.acquisition.datafile.testing import synthetic_rows
seen, bad = [], 0
deadline = time.monotonic() + 60
with CaptureReader(sys.argv[1]) as reader:
    print("open", flush=True)
    while time.monotonic() < deadline:
        reader.refresh()
        n = reader.n_frames
        if not seen or n != seen[-1]:
            seen.append(n)
            if n:  # the newest committed rows must hold their data, even in a chunk still being filled
                lo = max(0, n - 7)
                if not np.array_equal(reader.speckle(slice(lo, n)), synthetic_rows(lo, n - lo).speckle):
                    bad += 1
        if reader.status != "running" and n == reader.n_planned:
            break
        time.sleep(0.005)
print(json.dumps({"seen": seen, "bad": bad, "status": reader.status}), flush=True)
"""


def test_swmr_reader_in_another_process_sees_the_file_grow(tmp_path: Path) -> None:
    path = tmp_path / "growing.h5"
    n_planned, block = 1500, 50
    writer = create(path, n_planned)
    reader = subprocess.Popen(
        [sys.executable, "-c", READER_SCRIPT, str(path)], stdout=subprocess.PIPE, text=True, env=ENV, cwd=ROOT
    )
    try:
        assert reader.stdout.readline().strip() == "open"
        with writer:
            for start in range(0, n_planned, block):
                writer.append_frames(synthetic_rows(start, block))
                time.sleep(0.01)
            writer.set_status("complete")
        out, _ = reader.communicate(timeout=60)
    finally:
        reader.kill()
    result = json.loads(out.strip().splitlines()[-1])
    seen = result["seen"]
    assert seen == sorted(seen) and seen[-1] == n_planned
    assert len(seen) >= 5, seen  # it watched the file grow, not just the end result
    assert all(n % block == 0 for n in seen)  # whole blocks only: committed rows, never a half-written block
    assert result["bad"] == 0 and result["status"] == "complete"


def start_writer(path: Path, n_planned: int, block: int, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "speckle_lab.acquisition.datafile.testing",
            str(path),
            str(n_planned),
            str(block),
            *extra,
        ],
        stdout=subprocess.PIPE,
        text=True,
        env=ENV,
        cwd=ROOT,
    )


def kill_after(writer: subprocess.Popen[str], rows: int, delay_s: float) -> int:
    """SIGKILL the writer `delay_s` after it reports >= `rows` committed; the last count it reported."""
    reported = -1
    for line in writer.stdout:
        if line.startswith("committed"):
            reported = int(line.split()[1])
            if reported >= rows:
                break
    time.sleep(delay_s)
    writer.send_signal(signal.SIGKILL)
    writer.wait(timeout=30)
    assert writer.returncode == -signal.SIGKILL, "the writer finished before it was killed"
    return reported


@pytest.mark.parametrize(
    ("rows", "delay_s"),
    [(0, 0.0), (0, 0.002), (150, 0.0), (600, 0.003), (1500, 0.007)],
    ids=["after-create", "first-blocks", "early", "mid", "late"],
)
def test_kill_9_mid_append_then_resume(tmp_path: Path, rows: int, delay_s: float) -> None:
    path = tmp_path / "killed.h5"
    n_planned = 6000
    reported = kill_after(start_writer(path, n_planned, 50), rows, delay_s)

    with CaptureReader(path) as reader:  # opens as it is, before any repair
        committed = reader.n_frames
        assert committed >= reported and committed % 50 == 0 and committed < n_planned
        assert reader.status == "running" and not reader.writer_active
        assert reader.summary()["interrupted"]
        assert_rows_equal(reader.frames(), synthetic_rows(0, committed))

    assert read_superblock(path).flags != 0  # the crash left the "open for write" flags set
    with pytest.raises(OSError, match="already open for write"):
        h5py.File(path, "r")

    writer = CaptureWriter.open_for_resume(path)
    with writer:
        assert writer.n_committed == committed  # same boot: every committed row is kept
        assert writer.status == "running"
        for start in range(committed, n_planned, 700):
            writer.append_frames(synthetic_rows(start, min(700, n_planned - start)))
        writer.set_status("complete")

    check_every_row(path, n_planned)
    with CaptureReader(path) as reader:
        assert reader.status == "complete"
        assert [e["kind"] for e in reader.events()][-1] == "resumed"
        assert f"resumed at row {committed}" in reader.events()[-1]["message"]
        with h5py.File(path, "r") as f:  # flags cleared by the clean close
            for name in ("speckle", "target", "frame_id", *EXAMPLE_FIELDS):
                assert f[f"entry/frames/{name}"].shape[0] == n_planned


def test_killed_three_times_still_ends_with_every_row_once(tmp_path: Path) -> None:
    path = tmp_path / "night.h5"
    n_planned = 3000
    kill_after(start_writer(path, n_planned, 40), 200, 0.001)
    for rows, delay_s in ((1000, 0.0), (1800, 0.004)):
        kill_after(start_writer(path, n_planned, 40, "resume"), rows, delay_s)
    finisher = start_writer(path, n_planned, 40, "resume")
    out, _ = finisher.communicate(timeout=60)
    assert finisher.returncode == 0 and out.strip().endswith("done")
    check_every_row(path, n_planned)
    with CaptureReader(path) as reader:
        assert reader.status == "complete"
        assert [e["kind"] for e in reader.events()].count("resumed") == 3
        phases = list(reader.dark()[2])
        assert phases == ["start"] * 2 + ["end"] * 2  # start darks once, end darks once


def test_after_a_machine_restart_resume_keeps_only_fsynced_rows(tmp_path: Path) -> None:
    """Rows committed but not yet fsync'ed may not be on disk after a power cut: a resume on another boot
    drops them; on the same boot it keeps them."""
    path = tmp_path / "power.h5"
    with create(path, 500) as writer:
        writer.fsync_interval_s = 0.0
        writer.append_frames(synthetic_rows(0, 100))  # fsync'ed before its commit
        writer.fsync_interval_s = 3600.0
        writer.append_frames(synthetic_rows(100, 100))
    with h5py.File(path, "r+") as f:  # a clean close syncs everything: put `synced` back where the crash left it
        f["entry/frames/synced"][()] = 100

    with CaptureWriter.open_for_resume(path) as writer:  # same boot
        assert writer.n_committed == 200
    with h5py.File(path, "r+") as f:
        f["entry/frames/synced"][()] = 100
        f["entry/provenance/writer_boot_id"][()] = b"another-boot"
    with CaptureWriter.open_for_resume(path) as writer:
        assert writer.n_committed == 100
        writer.append_frames(synthetic_rows(100, 400))
        writer.set_status("complete")
    check_every_row(path, 500)
    with CaptureReader(path) as reader:
        assert "machine restarted" in reader.events()[-1]["message"]


def test_resume_refuses_a_file_that_is_still_being_written(tmp_path: Path) -> None:
    path = tmp_path / "live.h5"
    writer = start_writer(path, 10**6, 10, "create", "0.05")
    try:
        assert writer.stdout.readline().startswith("committed")
        with pytest.raises(CaptureFileError, match="another process is writing"):
            CaptureWriter.open_for_resume(path)
        with CaptureReader(path) as reader:
            assert reader.writer_active and reader.status == "running"
            assert not reader.summary()["interrupted"]
    finally:
        writer.kill()
        writer.wait()
    with CaptureReader(path) as reader:
        assert not reader.writer_active
