"""`speckle-lab train` and `evaluate` on a small captured file, and their one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from speckle_lab.acquisition.plan import CapturePlan
from speckle_lab.lab.bench import build_bench
from speckle_lab.lab.bench_config import BenchConfig
from speckle_lab.lab.capture_service import make_run
from speckle_lab.lab.cli import main

SMALL = {
    "dmd": {"mirror_rows": 64, "mirror_cols": 64, "macropixel_mirrors": 2, "side_macropixels": 24},
    "camera": {"rows": 32, "cols": 32},
    "medium": {"grain_px": 1.0},
}


@pytest.fixture(scope="module")
def data_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("data") / "digits.h5"
    plan = CapturePlan(targets="digits", n_frames=96, target_rows=16, target_cols=16, block_frames=48)
    with build_bench(BenchConfig().with_changes(**SMALL)) as bench:
        assert make_run(plan, bench, path).run().ok
    return path


def test_train_resume_and_evaluate(data_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run_dir = tmp_path / "run"
    assert main(["train", str(data_file), "--out", str(run_dir), "--epochs", "1", "--batch-size", "16", "--json"]) == 0
    first = json.loads(capsys.readouterr().out)  # stdout: the document alone (progress and logs on stderr)
    assert first["epochs_completed"] == 1 and (run_dir / "metrics.csv").exists()
    config = (run_dir / "config.json").read_text()
    (run_dir / "config.json").write_text(config[: len(config) // 2])  # a truncated copy must not block a resume
    for refused, words in (
        (["--lr", "0.5"], "different lr"),  # only epochs, patience and device may change
        (["--batch-size", "8"], "different batch_size"),
    ):
        assert main(["train", str(data_file), "--out", str(run_dir), "--resume", *refused]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and words in err and str(run_dir) in err
    assert main(["train", str(data_file), str(data_file), "--out", str(run_dir), "--resume"]) == 2  # twice
    assert f"{data_file}: given twice; give each data file once" in capsys.readouterr().err
    assert main(["train", str(data_file), "--out", str(run_dir), "--epochs", "2", "--resume"]) == 0
    assert capsys.readouterr().out.startswith(f"{run_dir}: unet, 2 epochs (")  # the text summary without --json
    assert json.loads((run_dir / "config.json").read_text())["epochs"] == 2  # rewritten whole
    assert not list(run_dir.glob("*.tmp")) and not list(run_dir.glob(".*.tmp"))
    assert main(["evaluate", str(run_dir), str(data_file), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert set(result["metrics"]) >= {"pcc", "ssim", "cs"} and result["subset"].startswith("test")
    assert all(Path(path).exists() for path in result["figures"])


def test_train_refuses_an_existing_run_and_evaluate_a_foreign_checkpoint(data_file: Path, tmp_path: Path, capsys):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "last.pt").write_bytes(b"not a checkpoint")
    assert main(["train", str(data_file), "--out", str(run_dir), "--epochs", "1"]) == 2
    assert "already holds a run" in capsys.readouterr().err
    (run_dir / "best.pt").write_bytes(b"garbage")
    assert main(["evaluate", str(run_dir), str(data_file)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "best.pt" in err


def test_train_a_model_kind_and_a_preset(data_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    physics = tmp_path / "physics"
    assert main(["train", str(data_file), "--out", str(physics), "--model", "physics", "--epochs", "1", "--json"]) == 0
    done = json.loads(capsys.readouterr().out)
    assert (done["model_kind"], done["selection_metric"], done["epochs_completed"]) == ("physics", "pcc", 1)
    assert done["best_epoch"] in (0, 1)  # 0: the ridge initialisation stayed the best on validation
    assert main(["evaluate", str(physics), str(data_file), "--json"]) == 0
    assert 0 < json.loads(capsys.readouterr().out)["metrics"]["pcc"]["mean"] <= 1
    reference = tmp_path / "reference"
    command = ["train", str(data_file), "--out", str(reference), "--preset", "reference", "--epochs", "1", "--json"]
    assert main(command) == 0
    done = json.loads(capsys.readouterr().out)
    assert (done["model_kind"], done["selection_metric"]) == ("unet", "dice")
    config = json.loads((reference / "config.json").read_text())
    assert (config["lr"], config["epochs"], config["model"]["kernel_size"]) == (1e-4, 1, 7)  # --epochs over the preset
    assert main(["train", str(data_file), "--out", str(tmp_path / "x"), "--model", "resnet"]) == 2
    assert "invalid choice: 'resnet'" in capsys.readouterr().err
