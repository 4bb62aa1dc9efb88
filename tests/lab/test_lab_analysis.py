"""`speckle-lab analyze` end to end on tiny captured sets and a tiny trained run (which it must not change),
and the scaling study on a tiny design: its report and its JSON with the schema of docs/analysis.md."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path

import pytest

from speckle_lab.acquisition.plan import CapturePlan
from speckle_lab.lab.bench import build_bench
from speckle_lab.lab.bench_config import BenchConfig
from speckle_lab.lab.capture_service import make_run
from speckle_lab.lab.cli import main
from speckle_lab.lab.study.scaling import SCALING_JSON, TARGET_SETS, run_scaling, scaling_design
from speckle_lab.model.config import TrainConfig
from speckle_lab.model.trainer import train

SMALL = {
    "dmd": {"mirror_rows": 64, "mirror_cols": 64, "macropixel_mirrors": 2, "side_macropixels": 24},
    "camera": {"rows": 32, "cols": 32},
    "medium": {"grain_px": 1.0},
}
TINY_TRAIN = {
    "epochs": 1,
    "batch_size": 16,
    "lr": 3e-3,
    "device": "cpu",
    "patience_epochs": None,
    "model": {"depth": 3, "base_width": 4, "kernel_size": 3},
}


@pytest.fixture(autouse=True)
def one_torch_thread():
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def captured(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("data")
    paths = {}
    with build_bench(BenchConfig().with_changes(**SMALL)) as bench:
        for name, targets, n in (("digits", "mnist", 96), ("blobs", "blobs:size=16", 40)):
            paths[name] = folder / f"{name}.h5"
            plan = CapturePlan(targets=targets, n_frames=n, target_rows=8, target_cols=8, block_frames=48)
            assert make_run(plan, bench, paths[name]).run().ok
    return paths


def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


def test_analyze_writes_its_report_and_never_changes_the_run(captured: dict[str, Path], tmp_path: Path, capsys):
    run_dir = tmp_path / "run"
    config = TrainConfig.model_validate({**TINY_TRAIN, "val_fraction": 0.15, "test_fraction": 0.15})
    train(config, [str(captured["digits"])], run_dir, show_progress=False)
    before = _digest(run_dir)
    out = tmp_path / "analysis"
    assert main(["analyze", str(run_dir), str(captured["digits"]), str(captured["blobs"]), "--out", str(out)]) == 0
    assert "report:" in capsys.readouterr().out
    assert _digest(run_dir) == before
    result = json.loads((out / "analysis.json").read_text())
    levels = ["enc0", "enc1", "enc2", "dec0", "dec1"]
    assert result["levels"] == levels and set(result["d_repr"]) == set(levels)
    assert result["in_distribution"]["n_test"] == 14 and result["ood_sets"]["blobs"]["n_frames"] == 40
    probes = result["probes"]
    assert len(probes["id_pcc"]) == 5 and len(probes["ood"]["blobs"]["pcc"]) == 5
    assert max(probes["ood"]["blobs"]["retained_pct"]) == pytest.approx(100.0)
    assert result["d_data"]["targets"] > 1 and result["label_sharpness"] > 0
    assert set(result["d_repr_le_d_data"]) == {"targets", "speckle"}
    report = (out / "report.md").read_text()
    assert "## Linear probes per level" in report and (out / "probe_curves.png").stat().st_size > 1000


def test_analyze_a_physics_first_net(captured: dict[str, Path], tmp_path: Path, capsys) -> None:
    """The levels are the net's own: the dense stage's estimate first, then the refining U-Net's."""
    run_dir = tmp_path / "run"
    physics = {**TINY_TRAIN["model"], "kind": "physics", "depth": 2}
    config = TrainConfig.model_validate({**TINY_TRAIN, "model": physics, "val_fraction": 0.15, "test_fraction": 0.15})
    train(config, [str(captured["digits"])], run_dir, show_progress=False)
    out = tmp_path / "analysis"
    assert main(["analyze", str(run_dir), str(captured["digits"]), str(captured["blobs"]), "--out", str(out)]) == 0
    capsys.readouterr()
    result = json.loads((out / "analysis.json").read_text())
    assert result["levels"] == ["linear", "enc0", "enc1", "dec0"]
    assert len(result["probes"]["ood"]["blobs"]["pcc"]) == 4 and (out / "probe_curves.png").stat().st_size > 1000


def test_analyze_refuses_data_the_run_was_not_trained_on(captured: dict[str, Path], tmp_path: Path, capsys):
    run_dir = tmp_path / "run"
    train(TrainConfig.model_validate(TINY_TRAIN), [str(captured["digits"])], run_dir, show_progress=False)
    assert main(["analyze", str(run_dir), str(captured["blobs"]), "--out", str(tmp_path / "a")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "blobs.h5" in err and "trained on" in err
    assert main(["analyze", str(tmp_path / "nowhere"), str(captured["digits"]), "--out", str(tmp_path / "a")]) == 2
    assert "best.pt" in capsys.readouterr().err


def test_the_scaling_study_on_a_tiny_design_writes_report_and_documented_json(tmp_path: Path) -> None:
    keys = ("binary_coarse", "blobs", "digits")
    sets = tuple(s for s in TARGET_SETS if s.key in keys)
    design = dataclasses.replace(
        scaling_design(quick=True),
        bench_changes=SMALL,
        target_size=8,
        n_frames=64,
        n_ood_frames=30,
        repeats=2,
        train=TrainConfig.model_validate(TINY_TRAIN),
        sets=sets,
    )
    results = run_scaling(design, tmp_path, log=lambda _: None)
    stored = json.loads((tmp_path / SCALING_JSON).read_text())
    assert stored == json.loads(json.dumps(results))
    assert stored["schema"] == "speckle-lab.scaling/1" and set(stored["sets"]) == set(keys)
    assert {"design", "sets", "ood_set", "nets", "summary", "notes", "seconds"} <= set(stored)
    for facts in stored["sets"].values():
        assert {"n_frames", "n_distinct_targets", "d_data", "d_data_speckle", "label_sharpness"} <= set(facts)
        assert facts["n_frames"] == 64
    assert len(stored["nets"]) == 6 and {n["repeat"] for n in stored["nets"]} == {0, 1}
    for net in stored["nets"]:
        assert 0 <= net["one_minus_pcc"] <= 2 and net["mse"] >= 0 and len(net["probe_ood_pcc"]) == 5
    fit = stored["summary"]["fits"]["one_minus_pcc"]
    assert len(fit["per_repeat"]) == 2 and fit["slope"]["n"] == 2 and fit["on_means"]["n_points"] == 3
    assert {"slope", "intercept", "r2"} <= set(stored["summary"]["fits"]["mse"])
    assert isinstance(stored["summary"]["d_repr_le_d_data_speckle_all"], bool)
    report = (tmp_path / "report.md").read_text()
    assert "## Fit log(error)" in report and (tmp_path / "scaling.png").exists()
    assert len(list((tmp_path / "analysis").iterdir())) == 6
