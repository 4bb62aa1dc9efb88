"""Training that turns non-finite stops at the first NaN or infinite loss, in one line naming the epoch and the
batch, and keeps the last finite epoch's checkpoints untouched (before: 22+ epochs of NaN loss and a best.pt
written from them). Data holding NaN or infinity is refused naming the file and row; data a net cannot learn
from (all-black targets, speckle without light) is warned about, naming the file."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch
from model_helpers import synthetic, tiny_config

from speckle_lab.acquisition.datafile import CaptureReader, CaptureWriter
from speckle_lab.acquisition.datafile.testing import EXAMPLE_FIELDS, example_metadata, synthetic_rows
from speckle_lab.model.checkpoint import load_checkpoint, save_checkpoint
from speckle_lab.model.data_screen import unlearnable_reasons
from speckle_lab.model.distributed import DistEnv
from speckle_lab.model.errors import ModelInputError, TrainingDiverged
from speckle_lab.model.sources import ArraySource, open_captures
from speckle_lab.model.trainer import (
    BEST_CHECKPOINT,
    LAST_CHECKPOINT,
    METRICS_CSV,
    NonFiniteGuard,
    NonFiniteLoss,
    train,
)


def test_a_run_that_turns_non_finite_stops_at_the_first_bad_batch_and_keeps_its_last_finite_checkpoint(
    tmp_path: Path,
) -> None:
    data = synthetic(96)
    train(tiny_config(epochs=1), data, tmp_path, show_progress=False)
    saved = {name: (tmp_path / name).read_bytes() for name in (LAST_CHECKPOINT, BEST_CHECKPOINT, METRICS_CSV)}
    # Spoil Adam's second moments (negative: its square root is NaN): the first step of the next epoch makes
    # every weight NaN, so batch 1's loss is finite and batch 2's is the first that is not.
    state = load_checkpoint(tmp_path / LAST_CHECKPOINT)
    for moments in state["optimizer"]["state"].values():
        moments["exp_avg_sq"].fill_(-1.0)
    save_checkpoint(tmp_path / LAST_CHECKPOINT, state)
    spoiled = (tmp_path / LAST_CHECKPOINT).read_bytes()

    with pytest.raises(TrainingDiverged) as stopped:
        train(tiny_config(epochs=3), data, tmp_path, resume=True, show_progress=False)
    assert (stopped.value.epoch, stopped.value.batch) == (2, 2)
    message = str(stopped.value)
    assert "\n" not in message and str(tmp_path) in message and "epoch 2, batch 2" in message
    assert "kept the checkpoints of epoch 1" in message
    assert (tmp_path / LAST_CHECKPOINT).read_bytes() == spoiled  # nothing of epoch 2 written
    assert (tmp_path / BEST_CHECKPOINT).read_bytes() == saved[BEST_CHECKPOINT]
    assert (tmp_path / METRICS_CSV).read_bytes() == saved[METRICS_CSV]


def test_the_deferred_guard_finds_the_first_bad_batch_without_reading_each_loss() -> None:
    """The mode used on CUDA and under data parallelism: noted on the device, raised at the epoch's end."""
    guard = NonFiniteGuard(torch.device("cpu"), DistEnv(0, 2))
    assert not guard.each_batch
    for batch, value in enumerate([0.5, math.nan, math.inf, 0.3], start=1):
        guard.check(torch.tensor(value), batch)  # never raises mid-epoch
    with pytest.raises(NonFiniteLoss) as stopped:
        guard.check_epoch(math.nan)
    assert stopped.value.batch == 2
    finite = NonFiniteGuard(torch.device("cpu"), DistEnv(0, 2))
    finite.check(torch.tensor(0.5), 1)
    finite.check_epoch(0.5)  # a finite epoch passes


@pytest.mark.parametrize("column", ["target", "speckle"])
def test_non_finite_rows_are_refused_naming_the_data_and_the_row(column: str) -> None:
    data = synthetic(40)
    speckle, target = data.read(0, 40)
    speckle = speckle.astype(np.float32)
    (target if column == "target" else speckle)[17, 3, 4] = np.nan
    source = ArraySource(speckle, target, name="edited.h5")
    with pytest.raises(ModelInputError, match=f"edited.h5: row 17: the {column} holds NaN or infinite values"):
        source.read(10, 30)


def _write(path: Path, rows, dark: np.ndarray) -> None:
    writer = CaptureWriter.create(
        path, speckle_shape=(64, 64), speckle_dtype=np.uint16, target_shape=(32, 32),
        frame_fields=EXAMPLE_FIELDS, metadata=example_metadata(len(rows.speckle)),
    )  # fmt: skip
    with writer:
        writer.append_dark(dark, 1.7e9, "start")
        writer.append_frames(rows)
        writer.set_status("complete")


def test_all_black_targets_and_dark_speckle_are_named(tmp_path: Path, caplog) -> None:
    rows = synthetic_rows(0, 32)
    dark = np.full((2, 64, 64), 100, np.uint16)
    dark[1] += 2  # dark noise of 1 DN
    _write(tmp_path / "good.h5", rows, np.zeros((2, 64, 64), np.uint16))
    rows.target[:] = 0.0
    rows.speckle[:] = 100 + (np.arange(64 * 64).reshape(64, 64) % 3 == 0)  # dark level, no light
    _write(tmp_path / "dark.h5", rows, dark)

    with CaptureReader(tmp_path / "good.h5") as reader:
        assert unlearnable_reasons(reader, "good.h5") == []
    with CaptureReader(tmp_path / "dark.h5") as reader:
        reasons = unlearnable_reasons(reader, "dark.h5")
    assert len(reasons) == 2 and all(reason.startswith("dark.h5: ") for reason in reasons)
    assert "targets sampled from its 32 frames are all zero" in reasons[0]
    assert "the speckle is dark" in reasons[1] and "within the noise of the dark frames" in reasons[1]
    with caplog.at_level("WARNING"), open_captures([tmp_path / "dark.h5"]):
        pass  # training and evaluation open data through here: the warnings are logged, one line each
    assert [record.getMessage() for record in caplog.records if record.levelname == "WARNING"] == reasons


def test_a_step_that_spoils_the_net_is_caught_at_validation_before_anything_is_saved(tmp_path: Path) -> None:
    """One batch per epoch: its loss is finite, the step it takes (lr 1e20) is not; the validation loss says so
    and nothing is written (before, NaN validation Dice counted as an improvement and wrote best.pt)."""
    with pytest.raises(TrainingDiverged, match="epoch 1, the validation loss is nan") as stopped:
        train(tiny_config(epochs=2, lr=1e20, batch_size=64), synthetic(40), tmp_path, show_progress=False)
    assert stopped.value.batch is None and "no checkpoint was written" in str(stopped.value)
    assert not list(tmp_path.glob("*.pt"))
