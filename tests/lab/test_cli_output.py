"""What the command line prints where: `-v` / `--log-level` choose how much of the library's log reaches stderr
(before or after the command); `--json` makes stdout one JSON document and nothing else (progress bars, logs
and notes stay on stderr), for `capture` (one file or a queue), `train` (tests/lab/test_lab_train_cli.py) and
`targets` (tests/lab/test_targets_command.py), as for `inspect` and `evaluate`."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from speckle_lab.lab.bench_config import BenchConfig, dumps_toml
from speckle_lab.lab.cli import main
from speckle_lab.lab.commands.json_output import finite_or_null

SMALL = {
    "dmd": {"mirror_rows": 64, "mirror_cols": 64, "macropixel_mirrors": 2, "side_macropixels": 24},
    "camera": {"rows": 32, "cols": 32},
    "medium": {"grain_px": 1.0},
}


@pytest.fixture
def bench(tmp_path: Path) -> Path:
    path = tmp_path / "bench.toml"
    path.write_text(dumps_toml(BenchConfig().with_changes(**SMALL)))
    return path


def _capture(bench: Path, out: Path, *extra: str) -> list[str]:
    return ["capture", "--targets", "blobs", "--n", "32", "--target-size", "16", "--bench", str(bench),
            "--out", str(out), *extra]  # fmt: skip


def test_log_level_options_choose_what_reaches_stderr(bench: Path, tmp_path: Path, capsys) -> None:
    handlers = list(logging.getLogger("speckle_lab").handlers)
    assert main(_capture(bench, tmp_path / "quiet.h5", "--quiet")) == 0
    default = capsys.readouterr()
    assert "INFO" not in default.err and default.out.startswith("complete: 32 rows")

    assert main(["-v", *_capture(bench, tmp_path / "before.h5", "--quiet")]) == 0
    before = capsys.readouterr().err
    assert "speckle-lab: INFO: " in before and "laser_off" in before  # the run's steps, one line each

    assert main([*_capture(bench, tmp_path / "after.h5", "--quiet"), "--log-level", "info"]) == 0
    assert "laser_off" in capsys.readouterr().err  # the same option after the command

    assert main(["--log-level", "ERROR", *_capture(bench, tmp_path / "error.h5", "--quiet", "-v")]) == 0
    assert "INFO" not in capsys.readouterr().err  # --log-level overrides -v
    assert logging.getLogger("speckle_lab").handlers == handlers  # nothing left attached after a command

    assert main(["--log-level", "chatty", "inspect", str(tmp_path / "quiet.h5")]) == 2
    assert "invalid choice: 'CHATTY'" in capsys.readouterr().err


def test_capture_json_is_one_document_on_stdout(bench: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "run.h5"
    assert main(["-v", *_capture(bench, out, "--json")]) == 0  # progress bar and INFO records: stderr
    captured = capsys.readouterr()
    document = json.loads(captured.out)
    assert document["status"] == "complete" and document["rows_committed"] == document["rows_planned"] == 32
    assert document["path"] == str(out) and document["laser_alarm"] is None
    assert "laser_off" in captured.err


def test_queue_json_lists_every_entry(bench: Path, tmp_path: Path, capsys) -> None:
    queue = tmp_path / "night.toml"
    queue.write_text(
        f'[defaults]\nbench = "{bench}"\ntargets = "blobs"\nn_frames = 16\ntarget_rows = 16\ntarget_cols = 16\n\n'
        f'[[run]]\nout = "{tmp_path / "a.h5"}"\n\n[[run]]\nout = "{tmp_path / "b.h5"}"\ntarget_rows = 99\n'
    )
    assert main(["capture", "--queue", str(queue), "--json", "--quiet"]) == 1  # the second entry cannot run
    captured = capsys.readouterr()
    document = json.loads(captured.out)
    assert [entry["status"] for entry in document["entries"]] == ["complete", "failed"]
    assert document["entries_planned"] == 2 and "b.h5" in captured.err  # the failure is said on stderr too


def test_json_has_no_nan() -> None:
    document = {"dice": float("nan"), "list": [1.0, float("inf")], "nested": {"ok": 0.5}}
    assert finite_or_null(document) == {"dice": None, "list": [1.0, None], "nested": {"ok": 0.5}}


def test_a_capture_at_zero_power_warns_that_every_frame_will_be_dark(bench: Path, tmp_path: Path, capsys) -> None:
    """Not refused (a dry run of DMD, camera and file with the laser off is a lab procedure), but said."""
    assert main(_capture(bench, tmp_path / "dry.h5", "--quiet", "--power-w", "0")) == 0
    warnings = [line for line in capsys.readouterr().err.splitlines() if "WARNING" in line]
    assert len(warnings) == 1 and "laser_power_w is 0" in warnings[0] and "every frame will be dark" in warnings[0]
