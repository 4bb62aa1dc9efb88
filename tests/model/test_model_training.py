"""The trainer: it learns, it resumes to the same state, it stops early and on request, it logs."""

from __future__ import annotations

import csv
import threading
from pathlib import Path

import numpy as np
import pytest
import torch
from model_helpers import tiny_config

from speckle_lab.model.errors import ModelInputError
from speckle_lab.model.evaluate import evaluate, load_trained
from speckle_lab.model.metrics import pcc
from speckle_lab.model.progress import ProgressEvent
from speckle_lab.model.sources import ArraySource
from speckle_lab.model.trainer import train


def test_training_lowers_the_loss_and_beats_the_mean_image(blobs: ArraySource, tmp_path: Path) -> None:
    result = train(tiny_config(epochs=6), blobs, tmp_path, show_progress=False)
    losses = [h["train_loss"] for h in result.history]
    assert losses[-1] < 0.8 * losses[0]
    assert result.stop_reason == "completed" and result.epochs_completed == 6

    trained = load_trained(tmp_path, device="cpu")
    targets = blobs.read(0, blobs.n_frames)[1]
    test = torch.from_numpy(targets[trained.split.test])
    mean_image = torch.from_numpy(targets[trained.split.train].mean(axis=0)).expand_as(test)
    baseline_pcc = pcc(mean_image, test).mean().item()
    report = evaluate(tmp_path, blobs, device="cpu")
    assert report["subset"] == "test split" and report["n_frames"] == len(trained.split.test)
    assert report["metrics"]["pcc"]["mean"] > baseline_pcc + 0.2


@pytest.mark.parametrize("data_mode", ["memory", "stream"])
def test_stop_after_one_epoch_and_resume_equals_an_uninterrupted_run(
    blobs: ArraySource, tmp_path: Path, data_mode: str
) -> None:
    config = tiny_config(epochs=2, data_mode=data_mode, chunk_frames=40)
    straight = train(config, blobs, tmp_path / "straight", show_progress=False)

    stop = threading.Event()

    def stop_after_first_epoch(event: ProgressEvent) -> None:
        if event.kind == "epoch":
            stop.set()

    first = train(config, blobs, tmp_path / "resumed", progress=stop_after_first_epoch, stop=stop, show_progress=False)
    assert (first.stop_reason, first.epochs_completed) == ("stopped", 1)
    resumed = train(None, blobs, tmp_path / "resumed", resume=True, show_progress=False)
    assert resumed.epochs_completed == 2

    a = load_trained(tmp_path / "straight", "cpu", checkpoint="last.pt").model.state_dict()
    b = load_trained(tmp_path / "resumed", "cpu", checkpoint="last.pt").model.state_dict()
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key
    strip = [{k: v for k, v in h.items() if k != "seconds"} for h in straight.history]
    assert strip == [{k: v for k, v in h.items() if k != "seconds"} for h in resumed.history]


def test_early_stopping_on_the_selection_metric(blobs: ArraySource, tmp_path: Path) -> None:
    config = tiny_config(epochs=10, patience_epochs=2, min_improvement=1.0)  # nothing after epoch 1 counts
    result = train(config, blobs, tmp_path, show_progress=False)
    assert (result.stop_reason, result.epochs_completed, result.best_epoch) == ("early_stopping", 3, 1)
    assert load_trained(tmp_path, "cpu").epoch == 1
    again = train(None, blobs, tmp_path, resume=True, show_progress=False)
    assert (again.stop_reason, again.epochs_completed) == ("early_stopping", 3)


def test_stop_request_mid_epoch_keeps_the_last_whole_epoch(
    blobs: ArraySource, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("speckle_lab.model.progress.BATCH_EVENT_INTERVAL_S", 0.0)  # an event after every batch
    stop = threading.Event()
    events: list[ProgressEvent] = []

    def record(event: ProgressEvent) -> None:
        events.append(event)
        if event.kind == "epoch" and event.epoch == 2:
            stop.set()

    result = train(tiny_config(epochs=5), blobs, tmp_path, progress=record, stop=stop, show_progress=False)
    assert (result.stop_reason, result.epochs_completed) == ("stopped", 2)
    assert [e.epoch for e in events if e.kind == "epoch"] == [1, 2]
    epoch_events = [e for e in events if e.kind == "epoch"]
    assert {"dice", "pcc", "ssim", "loss", "cs"} <= set(epoch_events[0].val)
    assert events[-1].kind == "done" and events[-1].stop_reason == "stopped"
    batch_events = [e for e in events if e.kind == "batch" and e.epoch == 1]
    assert [e.batch for e in batch_events] == list(range(1, batch_events[0].n_batches + 1))
    assert all(np.isfinite(e.loss) and 0 <= e.dice <= 1 for e in batch_events)

    stop.clear()
    halfway = threading.Event()
    cut = train(None, blobs, tmp_path, resume=True, progress=lambda e: halfway.set(), stop=halfway, show_progress=False)
    assert (cut.stop_reason, cut.epochs_completed) == ("stopped", 2)
    assert load_trained(tmp_path, "cpu", checkpoint="last.pt").epoch == 2  # the unfinished epoch was dropped


def test_metrics_log_and_run_files(blobs: ArraySource, tmp_path: Path) -> None:
    train(tiny_config(epochs=2), blobs, tmp_path, show_progress=False)
    with (tmp_path / "metrics.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert [int(r["epoch"]) for r in rows] == [1, 2]
    assert {"train_loss", "val_loss", "val_dice", "val_pcc", "val_ssim", "lr", "seconds"} <= set(rows[0])
    assert float(rows[0]["lr"]) == pytest.approx(3e-3)
    assert {p.name for p in tmp_path.iterdir()} == {"best.pt", "last.pt", "metrics.csv", "config.json"}


def test_split_is_recorded_and_reproducible(blobs: ArraySource, tmp_path: Path) -> None:
    train(tiny_config(epochs=1), blobs, tmp_path / "a", show_progress=False)
    train(tiny_config(epochs=1), blobs, tmp_path / "b", show_progress=False)
    a, b = load_trained(tmp_path / "a", "cpu"), load_trained(tmp_path / "b", "cpu")
    assert a.split == b.split
    assert len(a.split.test) == round(0.15 * blobs.n_frames)
    assert a.normalisation == b.normalisation


def test_refuses_to_overwrite_or_resume_with_other_settings(blobs: ArraySource, tmp_path: Path) -> None:
    train(tiny_config(epochs=1), blobs, tmp_path, show_progress=False)
    with pytest.raises(ModelInputError, match="already holds a run"):
        train(tiny_config(epochs=1), blobs, tmp_path, show_progress=False)
    with pytest.raises(ValueError, match="different lr"):
        train(tiny_config(epochs=2, lr=1e-2), blobs, tmp_path, resume=True, show_progress=False)
    other = ArraySource(*blobs.read(0, 100), name="other")
    with pytest.raises(ValueError, match="was trained on"):
        train(None, other, tmp_path, resume=True, show_progress=False)
    longer = train(tiny_config(epochs=2), blobs, tmp_path, resume=True, show_progress=False)
    assert longer.epochs_completed == 2
