"""`capture --queue` stopped by a signal exits as the exit-code table says (128 + the first signal, as a single
capture does; it exited 1 before, and 130 on a double SIGTERM), with the entry `aborted` and resumable, the
summary printed and no later entry started."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from capture_helpers import write_small_bench_toml

from speckle_lab.acquisition.datafile import CaptureFileError, CaptureReader
from speckle_lab.lab.exit_codes import signal_exit_code

N_FRAMES = 4000  # long enough to be mid-capture when the signal comes, on a loaded machine too


def _rows(path: Path) -> int:
    try:
        with CaptureReader(path) as reader:
            return reader.n_frames
    except (CaptureFileError, OSError):
        return -1


@pytest.mark.parametrize(
    ("signals", "expected"),
    [([signal.SIGTERM], 143), ([signal.SIGHUP], 129), ([signal.SIGTERM, signal.SIGTERM], 143)],
    ids=["SIGTERM", "SIGHUP", "double-SIGTERM"],
)
def test_a_signal_stops_the_queue_with_128_plus_the_first_signal(
    tmp_path: Path, signals: list[signal.Signals], expected: int
) -> None:
    bench = write_small_bench_toml(tmp_path / "bench.toml")
    queue = tmp_path / "night.toml"
    queue.write_text(
        f'[defaults]\nbench = "{bench}"\ntargets = "blobs"\nn_frames = {N_FRAMES}\ntarget_rows = 16\n'
        'target_cols = 16\nblock_frames = 16\n\n[[run]]\nout = "first.h5"\n\n[[run]]\nout = "second.h5"\n'
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "speckle_lab.lab.cli", "capture", "--queue", str(queue), "--quiet"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while _rows(tmp_path / "first.h5") < 16:  # mid-capture of the first entry
        assert process.poll() is None, process.communicate()[1]
        assert time.monotonic() < deadline, "the first entry committed no row"
        time.sleep(0.02)
    for signum in signals:
        process.send_signal(signum)
        time.sleep(0.02)
    stdout, stderr = process.communicate(timeout=60)

    assert expected == signal_exit_code(signals[0])
    assert process.returncode == expected, stderr
    assert "Traceback" not in stderr
    assert "queue summary:" in stdout and "aborted" in stdout
    with CaptureReader(tmp_path / "first.h5") as reader:
        assert reader.status == "aborted" and 0 < reader.n_frames < N_FRAMES
    assert not (tmp_path / "second.h5").exists()  # the queue stopped: no later entry started
