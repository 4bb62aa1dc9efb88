"""Data-parallel training on the CPU: 2 gloo processes under torchrun against one process, resume, who writes.

The 2-process runs start the trainer through `python -m torch.distributed.run` (torchrun), as a user would,
with tests/model/ddp_worker.py as the per-rank program.

Why the loss curves can be compared closely: the global batch is the same (config.batch_size is global;
each rank steps on half of it) and the interleaved shards make global step k's frames exactly the single
process's batch k. The net here has no batch norm, so the only difference left is floating-point: each
rank's mean loss over 8 frames, then DDP's mean of the two gradients, against one mean over 16 frames; in
float32 that differs by a few ulp per step (~1e-7 relative) and Adam carries it through ~40 steps. A
relative tolerance of 1e-4 on every epoch's losses and Dice is far below anything a real difference in
what was trained on would give (one epoch of training changes the loss by >10 %), and far above rounding.
With batch norm (the default net) each CPU rank normalises with its own half batch's statistics (torch has
no CPU SyncBatchNorm; on CUDA the trainer uses SyncBatchNorm), so curves then agree only statistically.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from model_helpers import tiny_config

from speckle_lab.model.checkpoint import load_checkpoint
from speckle_lab.model.config import ModelConfig, PhysicsConfig, TrainConfig
from speckle_lab.model.evaluate import load_trained
from speckle_lab.model.sources import ArraySource
from speckle_lab.model.trainer import train

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
WORKER = HERE / "ddp_worker.py"
CURVE_RTOL = 1e-4
LAUNCH_TIMEOUT_S = 240


def ddp_config(**changes) -> TrainConfig:
    """Tiny net without batch norm; 320 frames give 224 training frames = 14 global batches of 16 (no padding)."""
    no_bn = ModelConfig(depth=2, base_width=8, kernel_size=5, batch_norm=False)
    return tiny_config(**{"epochs": 3, "model": no_bn, "data_mode": "memory", **changes})


def torchrun(out: Path, config: TrainConfig, *extra: str) -> subprocess.CompletedProcess:
    """`python -m torch.distributed.run --nproc-per-node 2` of the worker, on one machine, no restarts."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(HERE)]),
        "OMP_NUM_THREADS": "1",
    }
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc-per-node",
        "2",
        "--max-restarts",
        "0",
        str(WORKER),
        str(out),
        "--config",
        config.model_dump_json(),
        *extra,
    ]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=LAUNCH_TIMEOUT_S)


def results(logs: Path) -> list[dict]:
    return [json.loads((logs / f"result-{rank}.json").read_text()) for rank in (0, 1)]


@pytest.fixture(scope="module")
def two_process_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One uninterrupted 3-epoch run on 2 gloo processes; returns its run folder."""
    logs = tmp_path_factory.mktemp("ddp")
    done = torchrun(logs / "run", ddp_config())
    assert done.returncode == 0, done.stderr[-3000:]
    return logs / "run"


def test_two_processes_follow_the_single_process_loss_curve(
    blobs: ArraySource, two_process_run: Path, tmp_path: Path
) -> None:
    single = train(ddp_config(), blobs, tmp_path, show_progress=False)
    rank0, rank1 = results(two_process_run.parent)
    assert rank0 == rank1, "every rank reports the same pooled metrics, stop reason and best epoch"
    assert rank0["world_size"] == 2 and rank0["epochs_completed"] == single.epochs_completed == 3
    keys = ("train_loss", "train_dice", "val_loss", "val_dice", "val_pcc", "val_ssim")
    for one, two in zip(single.history, rank0["history"], strict=True):
        for key in keys:
            assert two[key] == pytest.approx(one[key], rel=CURVE_RTOL), (one["epoch"], key)
    losses = [h["train_loss"] for h in single.history]
    assert losses[-1] < 0.9 * losses[0], "the curve being compared actually moves"


def test_only_rank_0_writes_and_each_checkpoint_once_per_epoch(two_process_run: Path) -> None:
    logs = two_process_run.parent
    assert not (logs / "saves-1.log").exists(), "rank 1 wrote a checkpoint"
    saves = [line.split() for line in (logs / "saves-0.log").read_text().splitlines()]
    last = [int(epoch) for _, name, epoch in saves if name == "last.pt"]
    assert last == [1, 2, 3]
    best = [int(epoch) for _, name, epoch in saves if name == "best.pt"]
    assert len(best) == len(set(best)) and best[0] == 1
    written = sorted(p.name for p in two_process_run.iterdir())
    assert written == ["best.pt", "config.json", "last.pt", "metrics.csv"]
    assert len((two_process_run / "metrics.csv").read_text().splitlines()) == 1 + 3


def test_resume_after_one_rank_is_killed_equals_the_uninterrupted_run(two_process_run: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    killed = torchrun(out, ddp_config(), "--kill-rank", "1", "--kill-epoch", "2")
    assert killed.returncode != 0, "torchrun reports the killed rank"
    assert load_trained(out, "cpu", checkpoint="last.pt").epoch == 1, "epoch 2 never finished, nothing of it saved"
    for leftover in tmp_path.glob("result-*.json"):
        leftover.unlink()
    resumed = torchrun(out, ddp_config(), "--resume")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert results(tmp_path)[0]["history"] == results(two_process_run.parent)[0]["history"]
    a = load_trained(two_process_run, "cpu", checkpoint="last.pt").model.state_dict()
    b = load_trained(out, "cpu", checkpoint="last.pt").model.state_dict()
    for key in a:
        assert torch.equal(a[key], b[key]), key


def test_the_global_batch_must_split_evenly_over_the_processes(tmp_path: Path) -> None:
    failed = torchrun(tmp_path / "run", ddp_config(batch_size=15))
    assert failed.returncode != 0
    assert "batch_size 15 is the global batch and must be divisible by the 2 processes" in failed.stderr
    assert not (tmp_path / "run" / "last.pt").exists()


def test_checkpoint_records_precision_and_world_size(two_process_run: Path) -> None:
    checkpoint = torch.load(two_process_run / "last.pt", map_location="cpu", weights_only=True)
    assert (checkpoint["precision"], checkpoint["pin_memory"], checkpoint["world_size"]) == ("fp32", False, 2)
    assert np.isfinite(checkpoint["history"][-1]["val_dice"])


def test_the_physics_first_net_trains_data_parallel_from_rank_0s_ridge(blobs: ArraySource, tmp_path: Path) -> None:
    """Rank 0 alone fits the ridge initialisation; DDP hands it to rank 1 as it wraps the net, so the 2-process
    run follows the single process from epoch 0 (the initialisation's validation) on."""
    config = ddp_config(epochs=1, model=PhysicsConfig(depth=2, base_width=8, kernel_size=5, batch_norm=False))
    done = torchrun(tmp_path / "run", config)
    assert done.returncode == 0, done.stderr[-3000:]
    single = train(config, blobs, tmp_path / "single", show_progress=False)
    rank0, rank1 = results(tmp_path)
    assert rank0 == rank1 and rank0["world_size"] == 2
    assert [h["epoch"] for h in rank0["history"]] == [h["epoch"] for h in single.history] == [0, 1]
    for one, two in zip(single.history, rank0["history"], strict=True):
        for key in ("val_loss", "val_pcc", "val_dice") + (("train_loss",) if one["epoch"] else ()):
            assert two[key] == pytest.approx(one[key], rel=CURVE_RTOL), (one["epoch"], key)
    trained = load_trained(tmp_path / "run", "cpu", checkpoint="last.pt")
    assert trained.kind == "physics" and load_checkpoint(tmp_path / "run" / "last.pt")["initialisation"]["frames"] > 0
