"""`speckle-lab capture`, `--queue` and `inspect` as an operator runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from capture_helpers import write_small_bench_toml

from speckle_lab.acquisition.datafile import CaptureReader
from speckle_lab.lab.cli import main

COMMON = ["--target-size", "16", "--block", "32", "--quiet"]


def test_capture_then_inspect_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bench = write_small_bench_toml(tmp_path / "bench.toml")
    out = tmp_path / "digits.h5"
    code = main(["capture", "--targets", "digits", "--n", "100", "--out", str(out), "--bench", str(bench), *COMMON])
    assert code == 0, capsys.readouterr().err
    assert "complete: 100 rows" in capsys.readouterr().out
    assert main(["inspect", str(out), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["status"] == "complete" and summary["frames"]["committed"] == 100
    assert summary["plan"]["targets"] == "digits" and summary["frame_ids"]["gaps"] == 0
    assert summary["target_stats"]["n_targets"] == 100


def test_capture_refuses_to_overwrite_and_to_resume_a_complete_file(tmp_path: Path, capsys) -> None:
    bench = write_small_bench_toml(tmp_path / "bench.toml")
    out = tmp_path / "a.h5"
    args = ["capture", "--targets", "blobs", "--n", "20", "--out", str(out), "--bench", str(bench), *COMMON]
    assert main(args) == 0
    assert main(args) == 2
    assert "already exists" in capsys.readouterr().err
    assert main(["capture", "--resume", str(out)]) == 2
    assert "already complete" in capsys.readouterr().err


def test_queue_runs_every_plan_and_reports_a_failed_one(tmp_path: Path, capsys) -> None:
    write_small_bench_toml(tmp_path / "bench.toml")
    (tmp_path / "queue.toml").write_text(
        """
[defaults]
bench = "bench.toml"
target_rows = 16
target_cols = 16
block_frames = 32

[[run]]
out = "faces.h5"
targets = "lfw"
n_frames = 40

[[run]]
out = "broken.h5"
targets = "mnist:/no/such/folder"
n_frames = 40

[[run]]
out = "digits.h5"
targets = "digits"
n_frames = 30
"""
    )
    assert main(["capture", "--queue", str(tmp_path / "queue.toml"), "--quiet"]) == 1
    captured = capsys.readouterr()
    assert "queue summary" in captured.out and "failed" in captured.out and "/no/such/folder" in captured.err
    for name, rows in (("faces.h5", 40), ("digits.h5", 30)):
        with CaptureReader(tmp_path / name) as reader:
            assert reader.n_frames == rows and reader.status == "complete"
    assert not (tmp_path / "broken.h5").exists()


def test_inspect_refuses_a_foreign_file_in_one_line(tmp_path: Path, capsys) -> None:
    foreign = tmp_path / "notes.h5"
    foreign.write_text("not hdf5")
    assert main(["inspect", str(foreign)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "notes.h5" in err
