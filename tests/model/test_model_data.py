"""Split, normalisation, and the in-memory and streamed batch paths."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from model_helpers import synthetic, tiny_config

from speckle_lab.model.data import MemoryFrames, StreamedBatches, fits_in_memory, prepare_data
from speckle_lab.model.normalisation import Normalisation, fit_normalisation
from speckle_lab.model.sources import ArraySource, ConcatSource
from speckle_lab.model.split import Split, make_split


def test_split_is_seeded_disjoint_and_complete() -> None:
    a, b = make_split(100, 0.1, 0.2, seed=3), make_split(100, 0.1, 0.2, seed=3)
    for name in ("train", "val", "test"):
        np.testing.assert_array_equal(a.subset(name), b.subset(name))
    assert (len(a.train), len(a.val), len(a.test)) == (70, 10, 20)
    assert sorted(np.concatenate([a.train, a.val, a.test]).tolist()) == list(range(100))
    assert not np.array_equal(make_split(100, 0.1, 0.2, seed=4).test, a.test)
    assert Split.from_dict(a.to_dict()) == a == b != make_split(100, 0.1, 0.2, seed=4)
    with pytest.raises(ValueError, match="too few"):
        make_split(2, 0.4, 0.4, seed=0)


def test_dataset_normalisation_uses_training_frames_only() -> None:
    source = synthetic(40)
    train = np.arange(0, 40, 3)
    norm = fit_normalisation(source, train, "dataset", chunk_frames=7)
    pixels = source.read(0, 40)[0][train].astype(np.float64)
    assert norm.mean == pytest.approx(pixels.mean())
    assert norm.std == pytest.approx(pixels.std())
    x = norm.apply(torch.from_numpy(pixels))
    assert float(x.mean()) == pytest.approx(0, abs=1e-4)
    assert Normalisation.from_dict(norm.to_dict()) == norm


def test_per_frame_normalisation() -> None:
    frames = torch.rand(3, 1, 8, 8) * torch.tensor([1.0, 10.0, 100.0]).view(3, 1, 1, 1)
    x = Normalisation("per_frame").apply(frames)
    torch.testing.assert_close(x.mean(dim=(1, 2, 3)), torch.zeros(3), atol=1e-5, rtol=0)
    torch.testing.assert_close(x.std(dim=(1, 2, 3), correction=0), torch.ones(3))


def test_concatenated_sources_read_across_the_boundary() -> None:
    a, b = synthetic(10, seed=0), synthetic(6, seed=5)
    both = ConcatSource([a, b])
    speckle, target = both.read(8, 12)
    np.testing.assert_array_equal(speckle, np.concatenate([a.read(8, 10)[0], b.read(0, 2)[0]]))
    np.testing.assert_array_equal(target[2:], b.read(0, 2)[1])
    assert both.describe() == [{"name": "blobs-0", "n_frames": 10}, {"name": "blobs-5", "n_frames": 6}]
    with pytest.raises(ValueError, match="differ"):
        ConcatSource([a, synthetic(4, target_shape=(12, 12))])
    with pytest.raises(IndexError):
        both.read(10, 17)


def test_streamed_batches_visit_every_frame_once_in_full_batches() -> None:
    source = synthetic(50)
    indices = np.arange(3, 47)
    norm = Normalisation("dataset", 1000.0, 500.0)
    batches = list(StreamedBatches(source, indices, norm, 8, 7, 2, torch.Generator().manual_seed(0)))
    assert [len(x) for x, _ in batches] == [8] * 5 + [4]
    seen_targets = torch.cat([y for _, y in batches])[:, 0].numpy()
    expected = source.read(3, 47)[1]
    order = [int(np.flatnonzero((expected == t).all(axis=(1, 2)))[0]) for t in seen_targets]
    assert sorted(order) == list(range(44)) and order != sorted(order)
    sequential = list(StreamedBatches(source, indices, norm, 8, 7, 2, None))
    torch.testing.assert_close(torch.cat([y for _, y in sequential])[:, 0], torch.from_numpy(expected))


def test_memory_and_streamed_batches_hold_the_same_frames() -> None:
    source = synthetic(30)
    norm = Normalisation("dataset", 900.0, 400.0)
    indices = np.array([1, 4, 5, 20, 29])
    memory = MemoryFrames(source, 30, norm, 8, torch.device("cpu"))
    ((mx, my),) = memory.batches(indices, 16)
    ((sx, sy),) = StreamedBatches(source, indices, norm, 16, 8, 1, None)
    torch.testing.assert_close(mx, sx)
    torch.testing.assert_close(my, sy)


def test_memory_budget_decides_streaming() -> None:
    source = ArraySource(np.zeros((100, 64, 64), np.uint16), np.zeros((100, 16, 16), np.float32))
    per_frame_mb = 4 * (64 * 64 + 16 * 16) / 2**20
    assert fits_in_memory(source, 100, tiny_config())
    assert not fits_in_memory(source, 100, tiny_config(memory_budget_mb=per_frame_mb * 99))
    assert not fits_in_memory(source, 100, tiny_config(max_frames_in_memory=99))
    assert not fits_in_memory(source, 100, tiny_config(data_mode="stream"))
    assert fits_in_memory(source, 100, tiny_config(data_mode="memory", max_frames_in_memory=1))
    prepared = prepare_data(synthetic(40), tiny_config(data_mode="stream"))
    assert not prepared.frames.in_memory
    assert prepared.split.n_frames == 40
