"""Logs: a file per capture and per training run (CLI and the GUI's training child), levels that mean
something, a rotating user log for the GUI, and no print() in library code."""

from __future__ import annotations

import ast
import logging
from pathlib import Path

import pytest

from speckle_lab.acquisition.plan import CapturePlan
from speckle_lab.lab.bench_config import BenchConfig, dumps_toml
from speckle_lab.lab.capture_service import run_plan
from speckle_lab.lab.cli import main
from speckle_lab.lab.logging_setup import (
    LIBRARY_LOGGERS,
    TRAINING_LOG,
    capture_log_path,
    log_file,
    rotating_user_log,
    stop_logging,
    user_log_dir,
)
from speckle_lab.lab.training_service import TrainingJob, TrainingProcess

ROOT = Path(__file__).resolve().parents[2]
SMALL = {
    "dmd": {"mirror_rows": 64, "mirror_cols": 64, "macropixel_mirrors": 2, "side_macropixels": 24},
    "camera": {"rows": 32, "cols": 32},
    "medium": {"grain_px": 1.0},
}
#: The crash tests' writer subprocess, whose stdout is its protocol (the command line lives in lab/commands).
PRINT_ALLOWED = {"acquisition/datafile/testing.py"}


@pytest.fixture(scope="module")
def captured(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("capture")
    bench = folder / "bench.toml"
    bench.write_text(dumps_toml(BenchConfig().with_changes(**SMALL)))
    plan = CapturePlan(targets="digits", n_frames=96, target_rows=16, target_cols=16, block_frames=48)
    assert run_plan(plan, folder / "digits.h5", bench).ok
    return folder / "digits.h5"


def test_a_capture_leaves_its_own_log_file(captured: Path) -> None:
    log = capture_log_path(captured).read_text()
    assert capture_log_path(captured) == captured.with_suffix(".log")
    assert f"INFO    speckle_lab.acquisition.datafile.writer: {captured}: status complete" in log
    assert "ERROR" not in log


def test_cli_training_log_is_not_empty(captured: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run_dir = tmp_path / "run"
    assert main(["train", str(captured), "--out", str(run_dir), "--epochs", "1", "--batch-size", "32"]) == 0
    capsys.readouterr()
    log = (run_dir / TRAINING_LOG).read_text()
    assert "speckle_lab.model.trainer: starting training in" in log
    assert "epoch 1/1: loss" in log and "val Dice" in log
    assert "training ended (completed) after epoch 1" in log
    assert not logging.getLogger("speckle_lab").handlers  # the run's file is detached afterwards


def test_gui_training_child_writes_its_log(captured: Path, tmp_path: Path) -> None:
    """The GUI's training runs in a child process whose stderr is training.log: it must not stay empty."""
    job = TrainingJob(
        data=(str(captured),),
        out_dir=str(tmp_path / "run"),
        config={"epochs": 1, "batch_size": 32},
        evaluate=False,
        samples=0,
        threads=1,
    )
    process = TrainingProcess(job)
    process.start()
    events = [event["event"] for event in process.events()]
    assert "done" in events, events
    log = process.log_path.read_text()
    assert "epoch 1/1: loss" in log and "training ended (completed)" in log


def test_log_file_takes_info_and_above_then_detaches(tmp_path: Path) -> None:
    before = {name: logging.getLogger(name).level for name in LIBRARY_LOGGERS}
    path = tmp_path / "run.log"
    with log_file(path):
        logging.getLogger("speckle_lab.acquisition.scheduler").debug("detail nobody needs")
        logging.getLogger("speckle_lab.model.trainer").info("epoch 1/1")
        logging.getLogger("speckle_lab.drivers.lasers.cobolt").warning("emission off after a failure")
    logging.getLogger("speckle_lab.model.trainer").error("after the run")
    text = path.read_text()
    assert "epoch 1/1" in text and "WARNING speckle_lab.drivers.lasers.cobolt: emission off" in text
    assert "detail nobody needs" not in text and "after the run" not in text
    assert {name: logging.getLogger(name).level for name in LIBRARY_LOGGERS} == before


def test_rotating_user_log_for_the_gui(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setattr("sys.platform", "linux")
    assert user_log_dir() == tmp_path / "state" / "speckle-lab" / "log"
    path, handler = rotating_user_log(tmp_path / "logs", max_bytes=2000, backups=2)
    try:
        for i in range(200):
            logging.getLogger("speckle_lab.gui.controller").warning("refused: plan %d needs a bench", i)
    finally:
        stop_logging(handler)
    assert path.exists() and (tmp_path / "logs" / "gui.log.1").exists() and (tmp_path / "logs" / "gui.log.2").exists()
    assert not (tmp_path / "logs" / "gui.log.3").exists()
    assert "refused: plan 199" in path.read_text()


def test_no_print_in_library_code() -> None:
    found = []
    for package in ("drivers", "sim", "acquisition", "model"):
        for source in sorted((ROOT / package).rglob("*.py")):
            relative = source.relative_to(ROOT).as_posix()
            if relative in PRINT_ALLOWED:
                continue
            for node in ast.walk(ast.parse(source.read_text(), relative)):
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "print":
                    found.append(f"{relative}:{node.lineno}")
    assert found == []
