"""Each rank's share of an epoch, in one process (no process group needed): disjoint, complete, equal in steps.

Also the command line: `speckle-lab train --nproc 2` on a captured file (streamed, so the streamed shards run
under DDP too), and `--device cuda` without CUDA.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
import torch
from model_helpers import synthetic
from test_model_capture_files import append, capture

from speckle_lab.model.data import MemoryFrames, StreamFrames
from speckle_lab.model.distributed import DistEnv, local_batch_size
from speckle_lab.model.normalisation import fit_normalisation
from speckle_lab.model.sources import ArraySource

ROOT = Path(__file__).resolve().parents[2]


def rows_seen(batches) -> list[np.ndarray]:
    """The frames of each batch, recovered from the targets (each synthetic target is unique)."""
    return [y.flatten(1).numpy() for _, y in batches]


def frame_ids(source: ArraySource, batches) -> list[int]:
    targets = source.read(0, source.n_frames)[1].reshape(source.n_frames, -1)
    lookup = {row.tobytes(): i for i, row in enumerate(targets)}
    return [lookup[r.astype(np.float32).tobytes()] for batch in rows_seen(batches) for r in batch]


@pytest.fixture(scope="module")
def frames(blobs: ArraySource) -> dict[str, object]:
    normalisation = fit_normalisation(blobs, np.arange(blobs.n_frames), "dataset", 64)
    return {
        "memory": MemoryFrames(blobs, blobs.n_frames, normalisation, 64, torch.device("cpu")),
        "stream": StreamFrames(blobs, normalisation, chunk_frames=24, shuffle_chunks=3),
    }


@pytest.mark.parametrize("mode", ["memory", "stream"])
@pytest.mark.parametrize("world", [2, 3])
def test_training_shards_are_disjoint_cover_the_epoch_and_take_equal_steps(
    blobs: ArraySource, frames: dict, mode: str, world: int
) -> None:
    indices = np.sort(np.random.default_rng(0).choice(blobs.n_frames, 229, replace=False))  # 229: not divisible
    batch = 4
    per_rank, steps = [], []
    for rank in range(world):
        generator = torch.Generator().manual_seed(5)  # every rank draws the same epoch order
        batches = list(frames[mode].batches(indices, batch, generator, DistEnv(rank, world, rank)))
        steps.append(len(batches))
        per_rank.append(frame_ids(blobs, batches))
    assert len(set(steps)) == 1, f"ranks take different numbers of steps: {steps}"
    assert len({len(ids) for ids in per_rank}) == 1
    seen = [i for ids in per_rank for i in ids]
    assert set(seen) == set(indices.tolist()), "every training frame is in some rank's share"
    assert len(seen) - len(set(seen)) == -len(indices) % world, "only the padding repeats frames"


@pytest.mark.parametrize("mode", ["memory", "stream"])
def test_validation_shards_take_every_frame_exactly_once(blobs: ArraySource, frames: dict, mode: str) -> None:
    indices = np.arange(5, 66)
    seen = [i for rank in range(3) for i in frame_ids(blobs, frames[mode].batches(indices, 7, None, DistEnv(rank, 3)))]
    assert sorted(seen) == indices.tolist()


def test_memory_shards_make_the_single_process_global_batches(blobs: ArraySource, frames: dict) -> None:
    indices = np.arange(0, 64)
    single = frame_ids(blobs, frames["memory"].batches(indices, 8, torch.Generator().manual_seed(2)))
    ranks = [
        rows_seen(frames["memory"].batches(indices, 4, torch.Generator().manual_seed(2), DistEnv(r, 2)))
        for r in range(2)
    ]
    for step in range(8):
        ids = [frame_ids(blobs, [(None, torch.from_numpy(ranks[r][step]))]) for r in range(2)]
        assert sorted(ids[0] + ids[1]) == sorted(single[8 * step : 8 * step + 8])


def test_the_global_batch_must_split_evenly() -> None:
    assert local_batch_size(32, DistEnv(0, 4)) == 8
    with pytest.raises(ValueError, match="batch_size 30 is the global batch and must be divisible by the 4"):
        local_batch_size(30, DistEnv(0, 4))


def cli(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "speckle_lab.lab.cli", "train", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=240, cwd=ROOT)


def test_nproc_trains_a_captured_file_on_two_processes_streamed(tmp_path: Path) -> None:
    source = synthetic(120)
    with capture(tmp_path / "data.h5", source, 120) as writer:
        append(writer, source, 0, 120)
    (tmp_path / "train.toml").write_text(
        'data_mode = "stream"\nchunk_frames = 16\nval_fraction = 0.2\ntest_fraction = 0.1\n'
        "[model]\ndepth = 2\nbase_width = 4\nkernel_size = 3\n"
    )
    args = [str(tmp_path / "data.h5"), "--out", str(tmp_path / "run"), "--config", str(tmp_path / "train.toml")]
    done = cli(*args, "--epochs", "2", "--batch-size", "8", "--device", "cpu", "--nproc", "2", "--json")
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout)  # one JSON document: rank 0 alone prints
    assert (report["world_size"], report["epochs_completed"], report["precision"]) == (2, 2, "fp32")
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == [
        "best.pt",
        "config.json",
        "last.pt",
        "metrics.csv",
        "training.log",
    ]


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message given when CUDA is absent")
def test_device_cuda_without_cuda_is_one_clear_line(tmp_path: Path) -> None:
    done = cli(str(tmp_path / "missing.h5"), "--out", str(tmp_path / "run"), "--device", "cuda")
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "--device cuda" in lines[0] and "sees no CUDA device" in lines[0]
    assert not (tmp_path / "run").exists()


def read_ahead_threads() -> int:
    return sum(t.name == "read-ahead" and t.is_alive() for t in threading.enumerate())


def test_read_ahead_gives_the_same_batches_as_reading_in_line(blobs: ArraySource, frames: dict) -> None:
    stream = frames["stream"]
    ahead = StreamFrames(blobs, stream.normalisation, 24, 3, prefetch=2)
    inline = StreamFrames(blobs, stream.normalisation, 24, 3, prefetch=0)
    rows = np.arange(3, 300, 2)
    a = list(ahead.batches(rows, 16, torch.Generator().manual_seed(9)))
    b = list(inline.batches(rows, 16, torch.Generator().manual_seed(9)))
    assert len(a) == len(b) == -(-len(rows) // 16)
    for (xa, ya), (xb, yb) in zip(a, b, strict=True):
        assert torch.equal(xa, xb) and torch.equal(ya, yb)


def test_an_epoch_left_early_stops_its_reader_and_a_read_error_reaches_the_trainer(
    blobs: ArraySource, frames: dict
) -> None:
    stream = frames["stream"]
    epoch = iter(stream.batches(np.arange(blobs.n_frames), 8, torch.Generator().manual_seed(0)))
    next(epoch)
    assert read_ahead_threads() == 1
    epoch.close()  # a stop request: the trainer drops the rest of the epoch
    assert read_ahead_threads() == 0

    class FailingSource(ArraySource):
        def read(self, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
            if start >= 48:
                raise OSError(f"rows [{start}, {stop}): HDF5 read failed")
            return super().read(start, stop)

    speckle, target = blobs.read(0, blobs.n_frames)
    failing = StreamFrames(FailingSource(speckle, target), stream.normalisation, 24, 1)
    with pytest.raises(OSError, match="HDF5 read failed"):
        list(failing.batches(np.arange(blobs.n_frames), 8))
    assert read_ahead_threads() == 0


def test_nproc_reruns_the_same_command_under_torchrun() -> None:
    from speckle_lab.lab.cli import build_parser
    from speckle_lab.lab.commands.train import torchrun_command

    given = ["a.h5", "b.h5", "--out", "runs/x", "--model", "physics", "--preset", "reference", "--batch-size", "64"]
    given += ["--patience", "3"]
    command = torchrun_command(build_parser().parse_args(["train", *given, "--nproc", "4", "--resume"]))
    assert command[1:7] == ["-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "4", "-m"]
    assert command[7:] == ["speckle_lab.lab.cli", "train", *given, "--resume"]
