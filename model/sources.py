"""Where frames come from: captured files through the acquisition reader, or arrays in memory.

The trainer sees only the small `FrameSource` interface, so tests and the GUI can hand it arrays, and
several files are concatenated into one index space. A file that is still being captured (SWMR) is read
as it is when it is opened: its frame count is taken once, so the split stays valid while it grows.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

from speckle_lab.model.data_screen import warn_if_unlearnable
from speckle_lab.model.errors import ModelInputError

if TYPE_CHECKING:
    from speckle_lab.acquisition.datafile import CaptureReader


@runtime_checkable
class FrameSource(Protocol):
    """Random access to (speckle, target) rows by contiguous range."""

    @property
    def n_frames(self) -> int: ...

    @property
    def speckle_shape(self) -> tuple[int, int]: ...

    @property
    def target_shape(self) -> tuple[int, int]: ...

    def read(self, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
        """Rows [start, stop): speckle (B, H, W) of the camera's dtype, target (B, h, w) float32 in [0, 1]."""
        ...

    def describe(self) -> list[dict]:
        """One {'name', 'n_frames'[, 'run_id']} per file or array, recorded with a run to recognise its data."""
        ...


def _frame_sides(shape: Sequence[int]) -> tuple[int, int]:
    """(height, width) of a frame shape, as a tuple whatever sequence held it."""
    height, width = shape
    return height, width


def _check_range(n: int, start: int, stop: int) -> None:
    if not 0 <= start <= stop <= n:
        raise IndexError(f"rows [{start}, {stop}) outside the {n} frames available")


def check_finite(name: str, start: int, speckle: np.ndarray, target: np.ndarray) -> None:
    """Refuse rows whose target or (float) speckle holds NaN or infinity, naming the data and the first such
    row: one NaN makes every loss after it NaN, and the net learns nothing while training looks fine."""
    for what, array, expected in (("target", target, "values in [0, 1]"), ("speckle", speckle, "camera counts")):
        if array.dtype.kind != "f" or len(array) == 0:
            continue  # integer camera counts are always finite
        finite = np.isfinite(array).reshape(len(array), -1).all(axis=1)
        if not finite.all():
            row = start + int(np.flatnonzero(~finite)[0])
            raise ModelInputError(f"{name}: row {row}: the {what} holds NaN or infinite values; expected {expected}")


class ArraySource:
    """Frames already in memory (tests, the GUI's live buffer)."""

    def __init__(self, speckle: np.ndarray, target: np.ndarray, name: str = "arrays") -> None:
        if speckle.ndim != 3 or target.ndim != 3 or len(speckle) != len(target):
            raise ModelInputError(
                f"expected speckle (N, H, W) and target (N, h, w), got {speckle.shape} and {target.shape}"
            )
        self._speckle, self._target, self._name = speckle, target.astype(np.float32, copy=False), name

    @property
    def n_frames(self) -> int:
        return len(self._speckle)

    @property
    def speckle_shape(self) -> tuple[int, int]:
        return _frame_sides(self._speckle.shape[1:])

    @property
    def target_shape(self) -> tuple[int, int]:
        return _frame_sides(self._target.shape[1:])

    def read(self, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
        _check_range(self.n_frames, start, stop)
        speckle, target = self._speckle[start:stop], self._target[start:stop]
        check_finite(self._name, start, speckle, target)
        return speckle, target

    def describe(self) -> list[dict]:
        return [{"name": self._name, "n_frames": self.n_frames}]


class CaptureSource:
    """One captured file through the acquisition reader, frozen at the frames present when it was opened."""

    def __init__(self, reader: CaptureReader, name: str) -> None:
        self._reader = reader
        reader.refresh()
        self._n = int(reader.n_frames)
        self._name = name
        self._run_id = str(getattr(reader, "run_id", "") or "")

    @property
    def n_frames(self) -> int:
        return self._n

    @property
    def speckle_shape(self) -> tuple[int, int]:
        return _frame_sides(self._reader.speckle_shape)

    @property
    def target_shape(self) -> tuple[int, int]:
        return _frame_sides(self._reader.target_shape)

    def read(self, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
        _check_range(self._n, start, stop)
        rows = self._reader.frames(start, stop)
        speckle, target = np.asarray(rows.speckle), np.asarray(rows.target, dtype=np.float32)
        check_finite(self._name, start, speckle, target)
        return speckle, target

    def describe(self) -> list[dict]:
        record = {"name": self._name, "n_frames": self._n}
        return [{**record, "run_id": self._run_id}] if self._run_id else [record]


class ConcatSource:
    """Several sources of the same shapes as one index space, in the order given."""

    def __init__(self, sources: Sequence[FrameSource]) -> None:
        if not sources:
            raise ModelInputError("no data: give at least one file or array source")
        shapes = {(tuple(s.speckle_shape), tuple(s.target_shape)) for s in sources}
        if len(shapes) > 1:
            raise ModelInputError(f"sources differ in (speckle, target) shapes: {sorted(shapes)}")
        self._sources = list(sources)
        self._starts = np.cumsum([0] + [s.n_frames for s in sources])

    @property
    def n_frames(self) -> int:
        return int(self._starts[-1])

    @property
    def speckle_shape(self) -> tuple[int, int]:
        return _frame_sides(self._sources[0].speckle_shape)

    @property
    def target_shape(self) -> tuple[int, int]:
        return _frame_sides(self._sources[0].target_shape)

    def read(self, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
        _check_range(self.n_frames, start, stop)
        speckles, targets = [], []
        for i, source in enumerate(self._sources):
            lo, hi = max(start, self._starts[i]), min(stop, self._starts[i + 1])
            if lo < hi:
                s, t = source.read(int(lo - self._starts[i]), int(hi - self._starts[i]))
                speckles.append(s)
                targets.append(t)
        if len(speckles) == 1:
            return speckles[0], targets[0]
        if not speckles:
            return self._sources[0].read(0, 0)
        return np.concatenate(speckles), np.concatenate(targets)

    def describe(self) -> list[dict]:
        return [d for s in self._sources for d in s.describe()]


def same_data(recorded: list[dict], current: list[dict]) -> bool:
    """The same files (by capture run id, else by name) in the same order, none shorter than recorded.

    A file may have grown since (a capture still running): the recorded split covers the frames it had.
    """

    def key(d: dict) -> str:
        return d.get("run_id") or d["name"]

    return len(recorded) == len(current) and all(
        key(r) == key(c) and c["n_frames"] >= r["n_frames"] for r, c in zip(recorded, current, strict=True)
    )


def contiguous_chunks(indices: np.ndarray, chunk_frames: int) -> list[tuple[int, int, np.ndarray]]:
    """Group sorted indices by file block of chunk_frames rows: (first row, stop row, the indices) per block."""
    indices = np.asarray(indices, dtype=np.int64)
    if len(indices) == 0:
        return []
    blocks = indices // chunk_frames
    cuts = np.flatnonzero(np.diff(blocks)) + 1
    return [(int(g[0]), int(g[-1]) + 1, g) for g in np.split(indices, cuts)]


@contextlib.contextmanager
def open_captures(paths: Sequence[str | Path]) -> Iterator[ConcatSource]:
    """Open captured HDF5 files (possibly still growing) as one source; closes them on exit."""
    from speckle_lab.acquisition.datafile import (
        CaptureReader,  # the one reader of the file format; imported when needed
    )

    _refuse_repeats(paths)
    with contextlib.ExitStack() as stack:
        sources = []
        for path in paths:
            reader = stack.enter_context(CaptureReader(Path(path)))
            warn_if_unlearnable(reader, Path(path).name)
            sources.append(CaptureSource(reader, Path(path).name))
        yield ConcatSource(sources)


def _refuse_repeats(paths: Sequence[str | Path]) -> None:
    """The same file twice (by name or through another path to it) would count its frames twice and leak
    test frames into training; HDF5 refuses the second open with a raw "duplicate key" besides."""
    seen: dict[tuple[int, int] | str, str] = {}
    for path in paths:
        try:
            st = Path(path).stat()
            key: tuple[int, int] | str = (st.st_dev, st.st_ino)
        except OSError:
            key = os.path.abspath(path)  # the reader says what is wrong with it (no resolve: it raises on loops)
        if key in seen:
            also = "" if seen[key] == str(path) else f" (also as {seen[key]})"
            raise ModelInputError(f"{path}: given twice{also}; give each data file once")
        seen[key] = str(path)


def as_source(data: FrameSource | Sequence[FrameSource]) -> FrameSource:
    if isinstance(data, FrameSource):
        return data
    return ConcatSource(list(data))
