"""Checkpoints load with weights_only=True; anything else is refused with one clear line."""

from __future__ import annotations

import pickle
import shutil
from pathlib import Path

import pytest
import torch
from model_helpers import tiny_config

from speckle_lab.model.checkpoint import CheckpointError, load_checkpoint
from speckle_lab.model.evaluate import load_trained
from speckle_lab.model.sources import ArraySource
from speckle_lab.model.trainer import train


class Arbitrary:
    """Stands for any pickled object: unpickling it could run code, so it must never load."""

    def __init__(self) -> None:
        self.payload = [1, 2, 3]


def refused(path: Path, match: str) -> str:
    with pytest.raises(CheckpointError, match=match) as info:
        load_checkpoint(path)
    message = str(info.value)
    assert str(path) in message and "\n" not in message
    return message


def test_a_real_checkpoint_loads(trained_run: Path) -> None:
    ck = load_checkpoint(trained_run / "last.pt")
    assert ck["epoch"] == 2 and ck["kind"] == "training" and ck["software_version"]
    assert set(ck["rng"]) == {"torch", "cuda", "numpy", "data"}
    assert load_trained(trained_run, "cpu").config == tiny_config(epochs=2)


def test_pickled_objects_are_refused(tmp_path: Path) -> None:
    plain = tmp_path / "plain.pt"
    plain.write_bytes(pickle.dumps(Arbitrary()))
    refused(plain, "unreadable, expected a speckle-lab checkpoint")
    archived = tmp_path / "archived.pt"
    torch.save({"format": "speckle-lab.unet-checkpoint", "model": Arbitrary()}, archived)
    refused(archived, "unreadable")


def test_foreign_checkpoints_are_refused(tmp_path: Path) -> None:
    foreign = tmp_path / "resnet.pt"
    torch.save({"state_dict": torch.nn.Linear(2, 2).state_dict(), "epoch": 3}, foreign)
    assert "found a dict with keys ['epoch', 'state_dict']" in refused(foreign, "not a speckle-lab checkpoint")
    bare = tmp_path / "tensor.pt"
    torch.save(torch.zeros(3), bare)
    refused(bare, "found Tensor")
    newer = tmp_path / "newer.pt"
    torch.save({"format": "speckle-lab.unet-checkpoint", "format_version": 99}, newer)
    refused(newer, "format version 99")
    partial = tmp_path / "partial.pt"
    torch.save({"format": "speckle-lab.unet-checkpoint", "format_version": 1, "epoch": 1}, partial)
    refused(partial, "missing config, arch, model")
    refused(tmp_path / "absent.pt", "no such file")


def test_truncated_checkpoints_are_refused(trained_run: Path, tmp_path: Path) -> None:
    data = (trained_run / "best.pt").read_bytes()
    for cut in (len(data) // 2, len(data) - 30, 10):
        truncated = tmp_path / "best.pt"
        truncated.write_bytes(data[:cut])
        refused(truncated, "unreadable")


def test_training_and_loading_refuse_bad_files(blobs: ArraySource, trained_run: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    shutil.copytree(trained_run, run)
    (run / "last.pt").write_bytes((run / "last.pt").read_bytes()[:1000])
    with pytest.raises(CheckpointError, match=r"last\.pt"):
        train(None, blobs, run, resume=True, show_progress=False)
    torch.save({"weights": torch.ones(2)}, run / "best.pt")
    with pytest.raises(CheckpointError, match=r"best\.pt: not a speckle-lab checkpoint"):
        load_trained(run, "cpu")
    with pytest.raises(CheckpointError, match="no such file"):
        train(tiny_config(), blobs, tmp_path / "empty", resume=True, show_progress=False)
