"""Training straight from capture files written by the acquisition writer, one of them still growing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from model_helpers import synthetic, tiny_config

from speckle_lab.acquisition.datafile import CaptureWriter, FrameRows, RunMetadata
from speckle_lab.model.evaluate import evaluate, load_trained
from speckle_lab.model.sources import ArraySource
from speckle_lab.model.trainer import train


def capture(path: Path, source: ArraySource, n_planned: int) -> CaptureWriter:
    metadata = RunMetadata(plan={}, bench={}, devices=[], medium=None, target_stats={}, n_planned=n_planned)
    return CaptureWriter.create(
        path,
        speckle_shape=source.speckle_shape,
        speckle_dtype=np.uint16,
        target_shape=source.target_shape,
        frame_fields={},
        metadata=metadata,
    )


def append(writer: CaptureWriter, source: ArraySource, start: int, stop: int) -> None:
    speckle, target = source.read(start, stop)
    n = stop - start
    writer.append_frames(FrameRows(speckle, target, np.arange(start, stop), np.zeros(n), np.arange(start, stop)))


def test_train_on_two_files_one_still_being_captured(tmp_path: Path) -> None:
    growing, done = synthetic(160, seed=0), synthetic(80, seed=3)
    with capture(tmp_path / "done.h5", done, 80) as writer:
        append(writer, done, 0, 80)
    live = capture(tmp_path / "live.h5", growing, 160)
    try:
        append(live, growing, 0, 100)
        files = [tmp_path / "live.h5", tmp_path / "done.h5"]
        first = train(tiny_config(epochs=1), files, tmp_path / "run", show_progress=False)
        assert first.epochs_completed == 1 and first.in_memory

        trained = load_trained(tmp_path / "run", "cpu")
        assert [d["n_frames"] for d in trained.data] == [100, 80]  # the frames that were there
        assert trained.split.n_frames == 180

        append(live, growing, 100, 160)  # the capture goes on; resuming keeps the recorded split
        again = train(None, [str(f) for f in files], tmp_path / "run", resume=True, show_progress=False)
        assert again.epochs_completed == 1  # already finished its one epoch
        longer = train(tiny_config(epochs=2), files, tmp_path / "run", resume=True, show_progress=False)
        assert longer.epochs_completed == 2
        assert load_trained(tmp_path / "run", "cpu", "last.pt").split == trained.split

        report = evaluate(tmp_path / "run", files, device="cpu")
        assert (report["subset"], report["n_frames"]) == ("test split", len(trained.split.test))
        assert [d["n_frames"] for d in report["data"]] == [160, 80]
        other = evaluate(tmp_path / "run", tmp_path / "done.h5", device="cpu")
        assert (other["subset"], other["n_frames"]) == ("all frames", 80)
    finally:
        live.close()
