"""Batches for training and evaluation: in memory when the frames fit the budget, streamed in chunks otherwise.

In memory, the normalised frames are one float32 tensor and a batch is an index_select: nothing between
the tensors and the model, so the pipeline costs next to nothing. Streamed, frames are read in file-order
chunks (sequential reads suit HDF5), several chunks are shuffled together, and the batches cross chunk
boundaries so every batch but the last is full. Both draw their order from the trainer's data generator
only, so a resumed run sees the same batches as an uninterrupted one.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import torch
from torch.utils.data import IterableDataset

from speckle_lab.model.config import TrainConfig
from speckle_lab.model.distributed import SINGLE, DistEnv, block, shard
from speckle_lab.model.errors import ModelInputError
from speckle_lab.model.normalisation import Normalisation, fit_normalisation
from speckle_lab.model.sources import FrameSource, contiguous_chunks
from speckle_lab.model.split import Split, make_split

Batch = tuple[torch.Tensor, torch.Tensor]


class FrameBatches(Protocol):
    in_memory: bool

    def batches(
        self, indices: np.ndarray, batch_size: int, generator: torch.Generator | None = None, env: DistEnv = SINGLE
    ) -> Iterable[Batch]:
        """(speckle (B, 1, H, W) normalised float32, target (B, 1, h, w)); shuffled when a generator is given.

        Under data-parallel training (`env`), this rank's share: with a generator (training) padded so that
        every rank yields the same number of batches, without one (validation) each frame exactly once.
        """
        ...


def frame_bytes(source: FrameSource) -> int:
    """Memory one frame takes once loaded: float32 speckle and target."""
    (H, W), (h, w) = source.speckle_shape, source.target_shape
    return 4 * (H * W + h * w)


def fits_in_memory(source: FrameSource, n_frames: int, config: TrainConfig) -> bool:
    if config.data_mode != "auto":
        return config.data_mode == "memory"
    if config.max_frames_in_memory is not None and n_frames > config.max_frames_in_memory:
        return False
    return n_frames * frame_bytes(source) <= config.memory_budget_mb * 2**20


class MemoryFrames:
    """All frames loaded once, normalised, as two tensors (on the training device when it is a GPU)."""

    in_memory = True

    def __init__(
        self, source: FrameSource, n_frames: int, normalisation: Normalisation, chunk_frames: int, device: torch.device
    ) -> None:
        n, (H, W), (h, w) = n_frames, source.speckle_shape, source.target_shape
        self.speckle = torch.empty((n, 1, H, W), dtype=torch.float32)
        self.target = torch.empty((n, 1, h, w), dtype=torch.float32)
        for start in range(0, n, chunk_frames):
            stop = min(n, start + chunk_frames)
            speckle, target = source.read(start, stop)
            self.speckle[start:stop, 0] = normalisation.apply(torch.from_numpy(np.asarray(speckle)))
            self.target[start:stop, 0] = torch.from_numpy(np.asarray(target, dtype=np.float32))
        self.speckle, self.target = self.speckle.to(device), self.target.to(device)

    def batches(
        self, indices: np.ndarray, batch_size: int, generator: torch.Generator | None = None, env: DistEnv = SINGLE
    ) -> Iterator[Batch]:
        rows = torch.from_numpy(np.asarray(indices, dtype=np.int64))
        if generator is not None:
            rows = rows[torch.randperm(len(rows), generator=generator)]
        rows = shard(rows, env, pad=generator is not None).to(self.speckle.device)
        for start in range(0, len(rows), batch_size):
            take = rows[start : start + batch_size]
            yield self.speckle.index_select(0, take), self.target.index_select(0, take)


@dataclass(frozen=True)
class _Group:
    """Chunks read and shuffled together: their file blocks, and the order of their concatenated rows."""

    chunks: tuple[tuple[int, int, np.ndarray], ...]
    perm: torch.Tensor | None
    n: int


_DONE = object()


class StreamedBatches(IterableDataset):
    """One pass over the given frames, read in chunks; shuffled across `shuffle_chunks` chunks at a time.

    The epoch's order is drawn up front (the chunk order, then each group's row order, from the one data
    generator), so every rank knows the whole order; a rank of a data-parallel job takes its contiguous block
    of it and reads only the chunks in that block. A worker thread reads ahead (`prefetch` groups: HDF5 read,
    normalisation, shuffle, pinning for CUDA) while the training step runs, so the step rarely waits for the
    file; memory stays bounded by (prefetch + 2) groups, whatever the size of the file.
    """

    def __init__(
        self,
        source: FrameSource,
        indices: np.ndarray,
        normalisation: Normalisation,
        batch_size: int,
        chunk_frames: int,
        shuffle_chunks: int,
        generator: torch.Generator | None,
        env: DistEnv = SINGLE,
        prefetch: int = 1,
        pin_memory: bool = False,
    ) -> None:
        super().__init__()
        self.source, self.normalisation, self.batch_size = source, normalisation, batch_size
        self.chunks = contiguous_chunks(indices, chunk_frames)
        self.shuffle_chunks, self.generator = shuffle_chunks, generator
        self.env, self.prefetch, self.pin_memory = env, prefetch, pin_memory

    def _plan(self) -> list[_Group]:
        order = list(range(len(self.chunks)))
        group = 1
        if self.generator is not None:
            order = torch.randperm(len(order), generator=self.generator).tolist()
            group = self.shuffle_chunks
        groups = []
        for g in range(0, len(order), group):
            chunks = tuple(self.chunks[i] for i in order[g : g + group])
            n = sum(len(rows) for _, _, rows in chunks)
            perm = torch.randperm(n, generator=self.generator) if self.generator is not None else None
            groups.append(_Group(chunks, perm, n))
        return groups

    def _segments(self, groups: list[_Group]) -> list[tuple[int, int, int]]:
        """(group, first, stop) row ranges of this rank's block of the epoch order, wrapping around when padded."""
        n = sum(g.n for g in groups)
        lo, hi = block(n, self.env, pad=self.generator is not None)
        starts = np.cumsum([0] + [g.n for g in groups])
        segments = []
        at = lo
        while at < hi and n:
            wrapped = at % n
            g = int(np.searchsorted(starts, wrapped, side="right") - 1)
            take = min(int(starts[g + 1]) - wrapped, hi - at)
            segments.append((g, wrapped - int(starts[g]), wrapped - int(starts[g]) + take))
            at += take
        return segments

    def _read(self, group: _Group, first: int, stop: int) -> Batch:
        xs, ys = [], []
        for lo, hi, rows in group.chunks:
            speckle, target = self.source.read(lo, hi)
            take = rows - lo
            xs.append(self.normalisation.apply(torch.from_numpy(np.ascontiguousarray(speckle[take]))))
            ys.append(torch.from_numpy(np.ascontiguousarray(target[take], dtype=np.float32)))
        x, y = torch.cat(xs), torch.cat(ys)
        if group.perm is not None:
            x, y = x[group.perm], y[group.perm]
        x, y = x[first:stop].unsqueeze(1), y[first:stop].unsqueeze(1)
        if self.pin_memory:
            x, y = x.pin_memory(), y.pin_memory()
        return x, y

    def _parts(self) -> Iterator[Batch]:
        groups = self._plan()
        segments = self._segments(groups)
        if self.prefetch < 1:
            for g, first, stop in segments:
                yield self._read(groups[g], first, stop)
            return
        ready: queue.Queue = queue.Queue(maxsize=self.prefetch)
        cancelled = threading.Event()

        def read_ahead() -> None:
            try:
                for g, first, stop in segments:
                    if cancelled.is_set():
                        return
                    ready.put(self._read(groups[g], first, stop))
                ready.put(_DONE)
            except BaseException as error:  # handed to the consumer, which raises it there
                ready.put(error)

        worker = threading.Thread(target=read_ahead, name="read-ahead", daemon=True)
        worker.start()
        try:
            while (item := ready.get()) is not _DONE:
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:  # stopped early or failed: let the reader finish its current read and leave
            cancelled.set()
            while worker.is_alive():
                with contextlib.suppress(queue.Empty):
                    ready.get(timeout=0.05)
            worker.join()

    def __iter__(self) -> Iterator[Batch]:
        carry: Batch | None = None
        for x, y in self._parts():
            if carry is not None:
                x, y = torch.cat([carry[0], x]), torch.cat([carry[1], y])
            full = len(x) - len(x) % self.batch_size
            for start in range(0, full, self.batch_size):
                yield x[start : start + self.batch_size], y[start : start + self.batch_size]
            carry = (x[full:], y[full:]) if full < len(x) else None
        if carry is not None and len(carry[0]):
            yield carry


class StreamFrames:
    """Frames left in the file(s); each pass reads them again."""

    in_memory = False

    def __init__(
        self,
        source: FrameSource,
        normalisation: Normalisation,
        chunk_frames: int,
        shuffle_chunks: int,
        prefetch: int = 1,
        pin_memory: bool = False,
    ) -> None:
        self.source, self.normalisation = source, normalisation
        self.chunk_frames, self.shuffle_chunks = chunk_frames, shuffle_chunks
        self.prefetch, self.pin_memory = prefetch, pin_memory

    def batches(
        self, indices: np.ndarray, batch_size: int, generator: torch.Generator | None = None, env: DistEnv = SINGLE
    ) -> StreamedBatches:
        return StreamedBatches(
            self.source,
            indices,
            self.normalisation,
            batch_size,
            self.chunk_frames,
            self.shuffle_chunks,
            generator,
            env,
            self.prefetch,
            self.pin_memory,
        )


@dataclass(frozen=True)
class PreparedData:
    source: FrameSource
    split: Split
    normalisation: Normalisation
    frames: FrameBatches


def prepare_data(
    source: FrameSource,
    config: TrainConfig,
    split: Split | None = None,
    normalisation: Normalisation | None = None,
    device: torch.device | str = "cpu",
) -> PreparedData:
    """Split (unless given, e.g. on resume), fit the normalisation on the training frames, load or stream."""
    if split is None:
        split = make_split(source.n_frames, config.val_fraction, config.test_fraction, config.seed)
    if split.n_frames > source.n_frames:
        raise ModelInputError(f"the split covers {split.n_frames} frames but the data has only {source.n_frames}")
    if normalisation is None:
        normalisation = fit_normalisation(source, split.train, config.normalisation, config.chunk_frames)
    if fits_in_memory(source, split.n_frames, config):
        frames: FrameBatches = MemoryFrames(
            source, split.n_frames, normalisation, config.chunk_frames, torch.device(device)
        )
    else:
        pin = config.pin_memory and torch.device(device).type == "cuda"
        frames = StreamFrames(
            source, normalisation, config.chunk_frames, config.shuffle_chunks, config.read_ahead_groups, pin
        )
    return PreparedData(source, split, normalisation, frames)
