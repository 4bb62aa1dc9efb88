"""The capture reader that `inspect`, the trainer and the GUI use. It opens files in SWMR read mode, so it
works on a file another process is still writing (call `refresh()` to see new rows) and on one whose writer
died; it only ever shows committed rows. Anything that is not a readable capture file is a CaptureFileError.
"""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Self

import h5py
import numpy as np

from speckle_lab.acquisition.datafile.bounded_open import open_swmr_read
from speckle_lab.acquisition.datafile.errors import CaptureFileError
from speckle_lab.acquisition.datafile.layout import (
    COMMITTED,
    DARK,
    DARK_PHASES,
    EVENTS,
    FRAMES,
    PROVENANCE,
    REFERENCE,
    STATUS,
    check_format,
    read_frame_fields,
    table_columns,
)
from speckle_lab.acquisition.datafile.lock import writer_active
from speckle_lab.acquisition.datafile.metadata import read_metadata
from speckle_lab.acquisition.datafile.records import FrameRows, RunMetadata
from speckle_lab.acquisition.datafile.space import retry_lingering
from speckle_lab.acquisition.datafile.summary import build_summary
from speckle_lab.acquisition.datafile.table import damaged_counter
from speckle_lab.acquisition.h5clear import SuperblockError, read_superblock
from speckle_lab.acquisition.text import resume_command

READER_CHUNK_CACHE_BYTES = 16 << 20


def _one_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__


def missing_file(path: Path) -> str | None:
    """Why `path` names no file (no such file, a dangling or looping symbolic link), or None if it does."""
    try:
        os.stat(path)
    except OSError as error:
        if error.errno == errno.ELOOP:
            return f"{path}: a loop of symbolic links, not a file; point it at the capture file"
        if os.path.islink(path):
            return f"{path}: a symbolic link to {os.readlink(path)}, which does not exist"
        return f"{path}: no such file"
    return None


def _open_hdf5(path: Path) -> h5py.File:
    """Open `path` read-only, SWMR if it can; CaptureFileError for every way that fails."""
    missing = missing_file(path)
    if missing is not None:
        raise CaptureFileError(missing)
    problem = retry_lingering(path)
    if problem is not None:
        raise CaptureFileError(f"{path}: a writer in this process failed and still holds it: {problem}")
    if path.is_dir():
        raise CaptureFileError(f"{path}: is a directory, not a capture file")
    if not os.access(path, os.R_OK):
        raise CaptureFileError(f"{path}: permission denied")
    if path.stat().st_size == 0:
        raise CaptureFileError(f"{path}: empty file, not an HDF5 capture file")
    if not h5py.is_hdf5(path):
        with open(path, "rb") as handle:
            head = handle.read(16)
        raise CaptureFileError(f"{path}: not an HDF5 file (it starts with {head!r})")
    _check_not_truncated(path)
    try:
        return open_swmr_read(path, READER_CHUNK_CACHE_BYTES)
    except (OSError, RuntimeError, ValueError) as swmr_error:
        message = _one_line(swmr_error)
    if "already open for write" in message or "not already open for SWMR writing" in message:
        if writer_active(path):
            raise CaptureFileError(f"{path}: is being created or reopened by another process right now; try again")
        raise CaptureFileError(
            f"{path}: its writer died while creating or reopening it (crash flags set, not in SWMR mode); "
            f"recover it with: {resume_command(path)}"
        )
    try:  # a foreign file in an older format cannot be opened in SWMR mode: open it plainly to say what it is
        return h5py.File(path, "r")
    except (OSError, RuntimeError, ValueError) as error:
        if "truncated" in _one_line(error) or "truncated" in message:
            raise CaptureFileError(f"{path}: truncated HDF5 file (a partial copy?): {_one_line(error)}") from None
        raise CaptureFileError(f"{path}: damaged or unreadable HDF5 file: {_one_line(error)}") from None


def _check_not_truncated(path: Path) -> None:
    """HDF5 skips its own end-of-file check in SWMR read mode and then reads zeros past the end of a partial
    copy (or retries metadata reads for minutes). Every file, closed cleanly or left by a crashed writer, must
    be at least as long as its superblock says: the writer's flushes keep the file that long, so a shorter
    one is a partial copy. Checked before HDF5 opens it, so no command hangs on it."""
    try:
        block = read_superblock(path)
    except (SuperblockError, OSError):
        return  # not a version 2/3 superblock: HDF5's own checks apply
    size = path.stat().st_size
    if size >= block.stored_eof or writer_active(path):
        return  # a live writer extends the file to that length in the same flush: not a partial copy
    if block.flags & 1 and not block.flags & 4:
        raise CaptureFileError(
            f"{path}: its writer died while creating it, before any row ({size} of {block.stored_eof} bytes "
            f"written); start it again: speckle-lab capture --out {path} --overwrite (with its plan options)"
        )
    raise CaptureFileError(
        f"{path}: truncated HDF5 file (a partial copy?): {size} bytes, its superblock says {block.stored_eof}"
    )


@contextlib.contextmanager
def open_capture(path: str | os.PathLike[str]) -> Iterator[h5py.File]:
    """An open, validated capture file (SWMR read), closed on exit."""
    path = Path(path)
    f = _open_hdf5(path)
    try:
        try:
            check_format(f, path)
        except (OSError, KeyError, RuntimeError) as error:  # metadata HDF5 cannot read: a damaged file
            raise CaptureFileError(f"{path}: damaged capture file: {_one_line(error)}") from None
        yield f
    finally:
        f.close()


class CaptureReader:
    """Read-only view of a capture file; shows committed rows only. Use as a context manager."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._stack = contextlib.ExitStack()
        self._file = self._stack.enter_context(open_capture(self.path))
        try:
            self._load()
        except CaptureFileError:
            self.close()
            raise
        except (OSError, KeyError, ValueError, RuntimeError) as error:
            self.close()
            raise CaptureFileError(f"{self.path}: damaged capture file: {_one_line(error)}") from None

    def _load(self) -> None:
        f = self._file
        entry = f["entry"]
        self._swmr = bool(f.swmr_mode)
        self.metadata: RunMetadata = read_metadata(f)
        self.frame_fields: tuple[str, ...] = tuple(read_frame_fields(entry))
        # One handle per dataset, kept for the reader's life: HDF5 fails reads ("can't insert duplicate key")
        # through a second handle of a dataset that another handle has refreshed.
        self._handles: dict[str, h5py.Dataset] = {STATUS: f[STATUS]}
        self._tables: dict[str, tuple[h5py.Dataset, list[h5py.Dataset]]] = {}
        for group, columns in table_columns(entry).items():
            for name in (COMMITTED, *columns):
                self._handles[f"{group}/{name}"] = f[f"{group}/{name}"]
            self._tables[group] = (
                self._handles[f"{group}/{COMMITTED}"],
                [self._handles[f"{group}/{name}"] for name in columns],
            )
        self._counts: dict[str, int] = {}
        speckle, target = self._dataset(FRAMES, "speckle"), self._dataset(FRAMES, "target")
        self.speckle_shape: tuple[int, int] = speckle.shape[1:]
        self.speckle_dtype: np.dtype = speckle.dtype
        self.target_shape: tuple[int, int] = target.shape[1:]
        self.speckle_chunks: tuple[int, ...] | None = speckle.chunks
        self.refresh()

    # -- counts -------------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Re-read the committed counts (and status) of a file that is still being written."""
        for group, (committed, datasets) in self._tables.items():
            if self._swmr:
                committed.refresh()  # the counter first: the data it vouches for was written before it
                for dataset in datasets:
                    dataset.refresh()
            count = int(committed[()])
            if count < 0:  # counters only grow from 0: a negative one is damage, not "no rows"
                raise CaptureFileError(damaged_counter(self.path, committed.name, count))
            self._counts[group] = min(count, *(d.shape[0] for d in datasets))
        status = self._handles[STATUS]
        if self._swmr:
            status.refresh()
        self.status: str = status[()].decode(errors="replace").rstrip("\0")

    @property
    def n_frames(self) -> int:
        return self._counts[FRAMES]

    @property
    def n_dark(self) -> int:
        return self._counts[DARK]

    @property
    def n_references(self) -> int:
        return self._counts[REFERENCE]

    @property
    def n_planned(self) -> int:
        return self.metadata.n_planned

    @property
    def writer_active(self) -> bool:
        """Whether a live process is writing the file now (status "running" without one: the writer died)."""
        return writer_active(self.path)

    def frame_field_dtypes(self) -> dict[str, np.dtype]:
        return {name: self._dataset(FRAMES, name).dtype for name in self.frame_fields}

    # -- frames -------------------------------------------------------------------------------------
    def _dataset(self, group: str, name: str) -> h5py.Dataset:
        try:
            return self._handles[f"{group}/{name}"]
        except KeyError:
            raise KeyError(f"{self.path}: no dataset {group}/{name}") from None

    def frames(self, start: int = 0, stop: int | None = None) -> FrameRows:
        """Committed rows start..stop (Python slice semantics, negative indices count from the end)."""
        start, stop, _ = slice(start, stop).indices(self.n_frames)
        stop = max(start, stop)

        def column(name: str) -> np.ndarray:
            return self._dataset(FRAMES, name)[start:stop]

        return FrameRows(
            speckle=column("speckle"),
            target=column("target"),
            target_index=column("target_index"),
            timestamp_s=column("timestamp"),
            frame_id=column("frame_id"),
            fields={name: column(name) for name in self.frame_fields},
        )

    def speckle(self, index: int | slice | Sequence[int] | np.ndarray) -> np.ndarray:
        return self._rows("speckle", index)

    def target(self, index: int | slice | Sequence[int] | np.ndarray) -> np.ndarray:
        return self._rows("target", index)

    def column(self, name: str, index: int | slice | Sequence[int] | np.ndarray = slice(None)) -> np.ndarray:
        """Any per-frame dataset (target_index, timestamp, frame_id or a declared field) by name."""
        return self._rows(name, index)

    def _rows(self, name: str, index: int | slice | Sequence[int] | np.ndarray) -> np.ndarray:
        dataset, n = self._dataset(FRAMES, name), self.n_frames
        if isinstance(index, slice):
            start, stop, step = index.indices(n)
            if step == 1:
                return dataset[start : max(start, stop)]
            index = np.arange(start, stop, step)
        elif np.ndim(index) == 0:
            row = int(np.asarray(index))  # an int or a 0-d array
            if not -n <= row < n:
                raise IndexError(f"row {row} out of range: {self.path} has {n} committed rows")
            return dataset[row % n]
        rows = np.asarray(index, dtype=np.int64)
        if rows.size and (rows.min() < -n or rows.max() >= n):
            raise IndexError(f"rows out of range: {self.path} has {n} committed rows")
        rows = rows % n if n else rows
        unique, inverse = np.unique(rows, return_inverse=True)  # h5py wants increasing indices
        return dataset[unique][inverse] if unique.size else dataset[0:0]

    # -- dark, reference, events --------------------------------------------------------------------
    def dark(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(speckle (D, H, W), timestamps_s (D,), phase (D,) as "start" / "end")."""
        n = self.n_dark
        codes = self._dataset(DARK, "phase")[:n]
        names = np.array(DARK_PHASES)[np.minimum(codes, len(DARK_PHASES) - 1)] if n else np.array([], "<U5")
        return self._dataset(DARK, "speckle")[:n], self._dataset(DARK, "timestamp")[:n], names

    def references(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(speckle (R, H, W), timestamps_s (R,), after_row (R,), correlation with the first (R,))."""
        n = self.n_references
        return tuple(
            self._dataset(REFERENCE, name)[:n] for name in ("speckle", "timestamp", "after_row", "correlation")
        )

    def reference_correlation(self) -> np.ndarray:
        return self._dataset(REFERENCE, "correlation")[: self.n_references]

    def events(self) -> list[dict[str, Any]]:
        """Every committed event as {"time_s", "row", "kind", "message"}, oldest first."""
        records = self._dataset(EVENTS, "log")[: self._counts[EVENTS]]
        return [
            {
                "time_s": float(record["time_s"]),
                "row": int(record["row"]),
                "kind": record["kind"].decode("utf-8", "replace"),
                "message": record["message"].decode("utf-8", "replace"),
            }
            for record in records
        ]

    # -- metadata -----------------------------------------------------------------------------------
    @property
    def plan(self) -> dict[str, Any]:
        return self.metadata.plan

    @property
    def bench(self) -> dict[str, Any]:
        return self.metadata.bench

    @property
    def devices(self) -> list[dict[str, Any]]:
        return self.metadata.devices

    @property
    def medium(self) -> dict[str, Any] | None:
        return self.metadata.medium

    @property
    def target_stats(self) -> dict[str, Any]:
        return self.metadata.target_stats

    @property
    def run_id(self) -> str:
        return self.metadata.run_id

    @property
    def software_version(self) -> str:
        return self.metadata.software_version

    def provenance(self) -> dict[str, Any]:
        """Run id, software and library versions, host, creation time, the host and boot that wrote last."""
        values: dict[str, Any] = {}
        for name, dataset in self._file[PROVENANCE].items():
            value = dataset[()]
            values[name] = value.decode(errors="replace") if isinstance(value, bytes) else value.item()
        return values

    def summary(self) -> dict[str, Any]:
        """Everything `speckle-lab inspect --json` prints."""
        return build_summary(self)

    # -- lifetime -----------------------------------------------------------------------------------
    def close(self) -> None:
        self._stack.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"CaptureReader({str(self.path)!r}, {self.n_frames}/{self.n_planned} rows, {self.status})"
