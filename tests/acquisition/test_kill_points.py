"""kill -9 at every phase boundary of a capture and of a resume (acquisition.killpoints), then recovery:
a resume that completes with every row, dark and reference exactly once, or, for a file with no committed
row, a one-line refusal that says how to restart, and a clean restart with --overwrite."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from capture_helpers import small_config, write_small_bench_toml

from speckle_lab.acquisition.datafile import CaptureFileError, CaptureReader, format_summary
from speckle_lab.acquisition.killpoints import CAPTURE_POINTS, ENV, RESUME_POINTS
from speckle_lab.acquisition.plan import plan_from_dict
from speckle_lab.acquisition.scheduler import CaptureError
from speckle_lab.lab.bench import build_bench
from speckle_lab.lab.capture_service import make_run, resume_file, run_plan

REPO = Path(__file__).resolve().parents[2]
N, BLOCK, EVERY, DARKS = 64, 16, 32, 4
ARGS = ["--targets", "blobs", "--n", str(N), "--target-size", "16", "--block", str(BLOCK)]
ARGS += ["--reference-every", str(EVERY), "--quiet"]
PLAN = {
    "targets": "blobs", "n_frames": N, "target_rows": 16, "target_cols": 16, "block_frames": BLOCK,
    "reference_every": EVERY, "dark_frames": DARKS,
}  # fmt: skip


def run_killed(command: list[str], point: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO), ENV: point}
    return subprocess.Popen(
        [sys.executable, "-m", "speckle_lab.lab.cli", *command], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
    )


def expected_targets(tmp_path: Path) -> np.ndarray:
    out = tmp_path / "reference.h5"
    with build_bench(small_config()) as bench:
        assert make_run(plan_from_dict(PLAN, "test"), bench, out).run().ok
    with CaptureReader(out) as reader:
        return reader.target(slice(None))


def recover(out: Path, bench: Path) -> str:
    """Resume; a file with no committed row: the refusal must say how to restart, and the restart works."""
    try:
        result = resume_file(out)
    except CaptureError as error:
        assert "already complete" in str(error), error
        return "complete already: resume refused (nothing to do)"
    except CaptureFileError as error:
        message = str(error)
        assert "\n" not in message and "--overwrite" in message, message
        result = run_plan(plan_from_dict(PLAN, "test"), out, bench, overwrite=True)
        assert result.ok, result.message
        return "refused (no row), restarted with --overwrite"
    assert result.ok, result.message
    return "resumed"


def check_complete(out: Path, targets: np.ndarray) -> None:
    with CaptureReader(out) as reader:
        assert reader.status == "complete" and reader.n_frames == N
        assert np.array_equal(reader.target(slice(None)), targets)  # every row exactly once, in order
        _, _, phase = reader.dark()
        assert (phase == "start").sum() == DARKS and (phase == "end").sum() == DARKS
        _, _, after_row, _ = reader.references()
        assert list(after_row) == [EVERY, N]


def test_kill_9_at_every_phase_boundary_of_a_capture_and_of_a_resume(tmp_path: Path) -> None:
    bench = write_small_bench_toml(tmp_path / "bench.toml")
    plan_file = tmp_path / "plan.toml"
    plan_file.write_text(f"dark_frames = {DARKS}\n")
    targets = expected_targets(tmp_path)
    source = tmp_path / "killed_first_block.h5"  # the file a resume is killed in, below
    table: list[tuple[str, str, str]] = []

    # every capture point at once (2 cores: they overlap in the fixed costs of starting Python)
    captures = {}
    for point in CAPTURE_POINTS:
        out = tmp_path / f"{point.replace(':', '_')}.h5"
        command = ["capture", *ARGS, "--plan", str(plan_file), "--bench", str(bench), "--out", str(out)]
        captures[point] = (out, run_killed(command, point))
    for point, (out, process) in captures.items():
        _, stderr = process.communicate(timeout=120)
        assert process.returncode == -signal.SIGKILL, f"{point}: not killed: {stderr.decode()}"
        if point == "capture:first_block":
            source.write_bytes(out.read_bytes())
        if point in ("capture:created", "capture:layout"):  # inspect says how to recover, no HDF5 jargon
            with pytest.raises(CaptureFileError, match="writer died while creating") as refused:
                CaptureReader(out)
            assert "speckle-lab capture --" in str(refused.value)
        if point == "capture:before_reference":  # inspect says what the kill cost
            with CaptureReader(out) as reader:
                assert reader.summary()["reference"]["missing_after_rows"] == [N]
                assert f"MISSING the reference frame after row {N}" in format_summary(reader.summary())
        table.append((point, "capture", recover(out, bench)))
        check_complete(out, targets)

    # a resume killed at every point: each starts from a copy of the file killed after its first block
    resumes = {}
    for point in RESUME_POINTS:
        out = tmp_path / f"{point.replace(':', '_')}.h5"
        out.write_bytes(source.read_bytes())
        resumes[point] = (out, run_killed(["capture", "--resume", str(out), "--quiet"], point))
    for point, (out, process) in resumes.items():
        _, stderr = process.communicate(timeout=120)
        assert process.returncode == -signal.SIGKILL, f"{point}: not killed: {stderr.decode()}"
        table.append((point, "resume", recover(out, bench)))
        check_complete(out, targets)

    print("\nkill point                 run      outcome")
    for point, run, outcome in table:
        print(f"{point:26} {run:8} {outcome}")


@pytest.mark.parametrize("fraction", [0.5, 0.99])
def test_a_truncated_copy_of_a_crashed_file_is_refused_never_padded(tmp_path: Path, fraction: float) -> None:
    bench = write_small_bench_toml(tmp_path / "bench.toml")
    out = tmp_path / "crashed.h5"
    process = run_killed(["capture", *ARGS, "--bench", str(bench), "--out", str(out)], "capture:before_reference")
    process.communicate(timeout=120)
    data = out.read_bytes()
    cut = tmp_path / "cut.h5"
    cut.write_bytes(data[: int(len(data) * fraction)])
    with pytest.raises(CaptureFileError, match="truncated"):
        CaptureReader(cut)
    with pytest.raises(CaptureFileError, match="truncated"):
        resume_file(cut)
    assert cut.stat().st_size == int(len(data) * fraction)  # not padded
