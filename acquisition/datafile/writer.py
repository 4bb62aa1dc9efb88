"""The capture writer: appends blocks of rows to a SWMR HDF5 file so that a crash at any moment leaves a
file that opens and holds every committed row, and a resume continues from the first missing one.

Commit protocol, per block: resize and write every dataset of the block, flush (the data reaches the OS),
then write the `committed` counter and flush again. A reader trusts min(len(dataset), committed), so it never
sees a row whose data is not written, whatever moment the writer dies at. Every `fsync_interval_s` the data is
also fsync'ed before the counters are written and `synced` follows `committed`: after a power cut (the
machine's boot id changed) a resume trusts only `synced` rows, since the page cache may have lost the rest.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Self

import h5py
import numpy as np

from speckle_lab.acquisition.datafile.checks import (
    checked_image,
    checked_target,
    checked_vector,
    frame_shape,
    pearson,
    truncate_utf8,
)
from speckle_lab.acquisition.datafile.errors import CaptureFileError
from speckle_lab.acquisition.datafile.layout import (
    DARK,
    DARK_PHASES,
    EVENT_DTYPE,
    EVENT_KIND_BYTES,
    EVENT_LOG_LEVELS,
    EVENT_MESSAGE_BYTES,
    EVENTS,
    FRAMES,
    REFERENCE,
    STATUS,
    STATUS_DTYPE,
    STATUS_LOG_LEVELS,
    STATUSES,
    WRITER_CHUNK_CACHE_BYTES,
    EventKind,
    check_format,
    check_frame_fields,
    create_layout,
    read_frame_fields,
    table_columns,
)
from speckle_lab.acquisition.datafile.lock import FileInUseError, WriterLock, other_openers, writer_active
from speckle_lab.acquisition.datafile.metadata import (
    boot_id,
    hostname,
    mark_writer,
    read_metadata,
    write_metadata,
    writer_identity,
)
from speckle_lab.acquisition.datafile.nexus import write_end_time
from speckle_lab.acquisition.datafile.reader import missing_file, open_capture
from speckle_lab.acquisition.datafile.records import FrameRows, RunMetadata
from speckle_lab.acquisition.datafile.space import (
    EVENT_HEADROOM_BYTES,
    SpaceReserve,
    keep_lingering,
    retry_lingering,
)
from speckle_lab.acquisition.datafile.table import AppendTable, table_lengths
from speckle_lab.acquisition.h5clear import SuperblockError, clear_status_flags
from speckle_lab.acquisition.killpoints import kill_point

logger = logging.getLogger(__name__)

LIBVER = ("v110", "v114")  # SWMR needs the 1.10 format; capping at 1.14 keeps files readable by HDF5 1.10-1.14
DEFAULT_FSYNC_INTERVAL_S = 5.0


class CaptureFileExistsError(CaptureFileError, FileExistsError):
    """Refusing to overwrite an existing capture (it may hold a night of data)."""


class CaptureWriter:
    """Writes one capture file. Create with `create` or `open_for_resume`; use as a context manager."""

    def __init__(self, f: h5py.File, lock: WriterLock, fsync_interval_s: float) -> None:
        self._file = f
        self._lock = lock
        self.path = Path(f.filename)
        self.fsync_interval_s = fsync_interval_s
        entry = f["entry"]
        self._tables = {group: AppendTable(f[group], columns) for group, columns in table_columns(entry).items()}
        self._frames, self._dark = self._tables[FRAMES], self._tables[DARK]
        self._reference, self._events = self._tables[REFERENCE], self._tables[EVENTS]
        self.metadata: RunMetadata = read_metadata(f)
        self.n_planned = self.metadata.n_planned
        speckle, target = f[f"{FRAMES}/speckle"], f[f"{FRAMES}/target"]
        self.speckle_shape: tuple[int, int] = speckle.shape[1:]
        self.speckle_dtype: np.dtype = speckle.dtype
        self.target_shape: tuple[int, int] = target.shape[1:]
        self.frame_fields: dict[str, np.dtype] = {
            name: f[f"{FRAMES}/{name}"].dtype for name in read_frame_fields(entry)
        }
        self._status = f[STATUS]
        self._fd = f.id.get_vfd_handle()
        self._space = SpaceReserve(self._fd, self.path)
        self._last_sync_s = time.monotonic()
        self._first_reference: np.ndarray | None = None
        self._closed = False

    # -- opening ------------------------------------------------------------------------------------
    @classmethod
    def create(
        cls,
        path: str | os.PathLike[str],
        *,
        speckle_shape: tuple[int, int],
        speckle_dtype: np.dtype | type,
        target_shape: tuple[int, int],
        frame_fields: Mapping[str, np.dtype | type],
        metadata: RunMetadata,
        overwrite: bool = False,
        fsync_interval_s: float = DEFAULT_FSYNC_INTERVAL_S,
    ) -> CaptureWriter:
        """A new, empty capture with every object created and SWMR on. Never replaces an existing file
        unless `overwrite` (and never one a live process is writing)."""
        path = Path(path)
        _check_not_lingering(path)
        speckle_shape = frame_shape("speckle_shape", speckle_shape)
        target_shape = frame_shape("target_shape", target_shape)
        speckle_dtype = np.dtype(speckle_dtype)
        if speckle_dtype.kind not in "iu":
            raise ValueError(f"speckle_dtype must be the camera's integer dtype, not {speckle_dtype}")
        fields = check_frame_fields(frame_fields)
        if metadata.n_planned < 0:
            raise ValueError(f"metadata.n_planned must be >= 0, not {metadata.n_planned}")
        if path.is_dir():
            raise CaptureFileError(f"{path}: is a directory; give a file name for the capture")
        lock, created = _claim_new(path, overwrite)  # held before anything is created or truncated
        try:
            f = h5py.File(path, "w", libver=LIBVER, rdcc_nbytes=WRITER_CHUNK_CACHE_BYTES)
        except BaseException:
            _give_up_new(path, lock, created)
            raise
        try:
            kill_point("capture:created")
            create_layout(
                f,
                speckle_shape=speckle_shape,
                speckle_dtype=speckle_dtype,
                target_shape=target_shape,
                frame_fields=fields,
            )
            write_metadata(f, metadata)
            f.flush()
            kill_point("capture:layout")
        except BaseException:
            f.close()
            _give_up_new(path, lock, created)
            raise
        try:
            f.swmr_mode = True
            writer = cls(f, lock, fsync_interval_s)
        except BaseException:
            f.close()
            lock.release()
            raise
        kill_point("capture:swmr")
        return writer

    @classmethod
    def claim_for_resume(cls, path: str | os.PathLike[str]) -> WriterLock:
        """First step of a resume: take the writer lock (refused while another process writes the file), then
        clear the crash flags a killed writer left, so the file can be read (its plan, its rows) and reopened.
        Pass the lock to `open_for_resume`; release it if the resume goes no further."""
        path = Path(path)
        _check_not_lingering(path)
        missing = missing_file(path)
        if missing is not None:
            raise CaptureFileError(missing)
        if path.is_dir():
            raise CaptureFileError(f"{path}: is a directory, not a capture file")
        lock = _take_lock(path, "cannot resume it")
        try:
            kill_point("resume:locked")
            try:
                clear_status_flags(path)
            except SuperblockError as error:
                if "version" in str(error) or "signature" in str(error):
                    with open_capture(path):  # a foreign file: the reader says what it is
                        pass
                raise CaptureFileError(f"{path}: cannot resume: {error}") from None
            kill_point("resume:flags_cleared")
        except BaseException:
            lock.release()
            raise
        return lock

    @classmethod
    def open_for_resume(
        cls,
        path: str | os.PathLike[str],
        *,
        lock: WriterLock | None = None,
        fsync_interval_s: float = DEFAULT_FSYNC_INTERVAL_S,
    ) -> CaptureWriter:
        """Reopen a capture left by a crash or a stop: clear the crash flags, drop every row that is not
        trustworthy (beyond `committed`, or beyond `synced` if the machine restarted since), mark it
        running, log a "resumed" event and restart SWMR. Appending continues at `n_committed`. `lock`: the
        one `claim_for_resume` returned (taken here when not given); the writer owns it from here."""
        path = Path(path)
        if lock is None:
            lock = cls.claim_for_resume(path)
        try:
            with open_capture(path) as f:
                host, boot = writer_identity(f)
            try:
                f = h5py.File(path, "r+", libver=LIBVER, rdcc_nbytes=WRITER_CHUNK_CACHE_BYTES)
            except OSError as error:
                if "unable to lock file" not in str(error):
                    raise
                raise CaptureFileError(
                    f"{path}: another process has it open for reading{_named(other_openers(path))}; every HDF5 "
                    "reader holds a file lock, with swmr=True or without (a viewer, a script, a notebook): close "
                    "it there and resume again"
                ) from None
        except BaseException:
            lock.release()
            raise
        kill_point("resume:opened")
        try:
            check_format(f, path)
            same_boot = bool(boot) and boot == boot_id() and host == hostname()
            tables = {group: AppendTable(f[group], columns) for group, columns in table_columns(f["entry"]).items()}
            kept, dropped = {}, {}
            for group, table in tables.items():
                keep = min(table.n_committed if same_boot else table.n_synced, *table_lengths(table))
                dropped[group] = max(table_lengths(table)) - keep
                kept[group] = keep
                table.truncate(keep)
            previous = f[STATUS][()].decode(errors="replace")
            f[STATUS][()] = np.array(b"running", dtype=STATUS_DTYPE)
            mark_writer(f)
            f.flush()
            kill_point("resume:truncated")
            f.swmr_mode = True
            writer = cls(f, lock, fsync_interval_s)
        except BaseException:
            f.close()
            lock.release()
            raise
        basis = "committed" if same_boot else "fsync'ed (the machine restarted since the last write)"
        writer.log_event(
            EventKind.RESUMED,
            f"resumed at row {kept[FRAMES]} of {writer.n_planned} (status was {previous}; kept the {basis} rows, "
            f"dropped {dropped[FRAMES]} uncommitted frame rows)",
            row=kept[FRAMES],
        )
        kill_point("resume:swmr")
        return writer

    # -- state --------------------------------------------------------------------------------------
    @property
    def n_committed(self) -> int:
        """Frame rows committed: the next row to append is plan row `n_committed`."""
        return self._frames.n_committed

    @property
    def n_dark(self) -> int:
        return self._dark.n_committed

    @property
    def n_references(self) -> int:
        return self._reference.n_committed

    @property
    def status(self) -> str:
        return self._status[()].decode()

    # -- appending ----------------------------------------------------------------------------------
    def append_frames(self, rows: FrameRows) -> None:
        """Append the next block of plan rows and commit it."""
        self._check_open()
        n = len(rows.speckle)
        start = self._frames.n_written
        if start + n > self.n_planned:
            raise ValueError(
                f"{self.path}: appending {n} rows at row {start} would exceed the plan's {self.n_planned} rows"
            )
        arrays = {
            "speckle": checked_image("speckle", rows.speckle, n, self.speckle_shape, self.speckle_dtype),
            "target": checked_target(rows.target, n, self.target_shape),
            "target_index": checked_vector("target_index", rows.target_index, n, np.int64),
            "timestamp": checked_vector("timestamp_s", rows.timestamp_s, n, np.float64),
            "frame_id": checked_vector("frame_id", rows.frame_id, n, np.int64),
        }
        given, declared = set(rows.fields), set(self.frame_fields)
        if given != declared:
            raise ValueError(
                f"FrameRows.fields has {sorted(given)}; the file declares {sorted(declared)}"
                f" (missing {sorted(declared - given)}, unexpected {sorted(given - declared)})"
            )
        for name, dtype in self.frame_fields.items():
            arrays[name] = checked_vector(f"fields[{name!r}]", rows.fields[name], n, dtype)
        if n:
            self._append(self._frames, arrays, n)

    def append_dark(self, speckle: np.ndarray, timestamps_s: np.ndarray | float, phase: str) -> None:
        """Append dark frames (laser off), taken at the start or the end of the run."""
        self._check_open()
        if phase not in DARK_PHASES:
            raise ValueError(f"dark phase must be one of {DARK_PHASES}, not {phase!r}")
        speckle = np.asarray(speckle)
        if speckle.ndim == 2:
            speckle = speckle[None]
        n = len(speckle)
        timestamps = np.broadcast_to(np.asarray(timestamps_s, dtype=np.float64), (n,))
        arrays = {
            "speckle": checked_image("dark speckle", speckle, n, self.speckle_shape, self.speckle_dtype),
            "timestamp": checked_vector("timestamps_s", timestamps, n, np.float64),
            "phase": np.full(n, DARK_PHASES.index(phase), np.uint8),
        }
        if n:
            self._append(self._dark, arrays, n)

    def append_reference(self, speckle: np.ndarray, timestamp_s: float, after_row: int) -> float:
        """Append one frame of the fixed reference pattern; returns its Pearson correlation with the first
        reference frame of the file (1.0 for the first), the drift of the bench."""
        self._check_open()
        image = checked_image("reference speckle", np.asarray(speckle)[None], 1, self.speckle_shape, self.speckle_dtype)
        first = self._first_reference_frame()
        correlation = 1.0 if first is None else pearson(first, image[0])
        arrays = {
            "speckle": image,
            "timestamp": np.array([timestamp_s], np.float64),
            "after_row": np.array([after_row], np.int64),
            "correlation": np.array([correlation], np.float64),
        }
        self._append(self._reference, arrays, 1)
        if first is None:
            self._first_reference = image[0]
        return correlation

    def _first_reference_frame(self) -> np.ndarray | None:
        if self._first_reference is None and self._reference.n_written:
            self._first_reference = self._reference.columns["speckle"][0]
        return self._first_reference

    def log_event(self, kind: str, message: str, row: int = -1, time_s: float | None = None) -> None:
        """Record something that happened (a retry, a timeout, a gap, a fault); committed at once. `time_s`
        (seconds since the epoch) when it happened earlier than now (a laser transition made on another thread)."""
        self._check_open()
        kind_bytes = kind.encode()
        if not kind_bytes or len(kind_bytes) > EVENT_KIND_BYTES:
            raise ValueError(f"event kind must be 1 to {EVENT_KIND_BYTES} bytes, not {kind!r}")
        record = np.zeros(1, EVENT_DTYPE)
        when_s = time.time() if time_s is None else time_s
        record[0] = (when_s, row, kind_bytes, truncate_utf8(message, EVENT_MESSAGE_BYTES))
        logger.log(EVENT_LOG_LEVELS.get(kind, logging.WARNING), "%s: %s at row %d: %s", self.path, kind, row, message)
        self._append(self._events, {"log": record}, 1)

    def set_status(self, status: str) -> None:
        self._check_open()
        if status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, not {status!r}")
        with self._io_errors():
            self._status[()] = np.array(status.encode(), dtype=STATUS_DTYPE)
            write_end_time(self._file, status)
            self._file.flush()
        logger.log(STATUS_LOG_LEVELS[status], "%s: status %s", self.path, status)

    # -- commit -------------------------------------------------------------------------------------
    def _append(self, table: AppendTable, arrays: Mapping[str, np.ndarray], n: int) -> None:
        # A full disk stops us here, before HDF5 writes anything; data blocks leave room for a last event.
        headroom = 0 if table is self._events else EVENT_HEADROOM_BYTES
        self._space.ensure(table.bytes_for(n), headroom)
        with self._io_errors():
            table.append(arrays, n)
            self._commit()

    @contextlib.contextmanager
    def _io_errors(self) -> Iterator[None]:
        """HDF5 reports a failed write as RuntimeError with the errno in its text: make it the OSError it is."""
        try:
            yield
        except (RuntimeError, OSError) as error:
            found = re.search(r"errno = (\d+)", str(error))
            if (isinstance(error, OSError) and error.errno) or not found:
                raise
            code = int(found.group(1))
            raise OSError(code, os.strerror(code), str(self.path)) from error

    def _commit(self, durable: bool = False) -> None:
        """Data first, counters after: a crash between the two flushes loses the block, never corrupts it."""
        self._file.flush()
        now = time.monotonic()
        synced = durable or now - self._last_sync_s >= self.fsync_interval_s
        if synced:
            os.fsync(self._fd)
            self._last_sync_s = now
        for table in self._tables.values():
            table.write_counters(synced)
        self._file.flush()

    def flush(self) -> None:
        """Commit everything written so far and fsync it."""
        self._check_open()
        with self._io_errors():
            self._commit(durable=True)
            os.fsync(self._fd)

    def close(self) -> None:
        """Commit durably and close; sets no status by itself. Safe to call twice. If HDF5 cannot close the
        file (a write error), it is kept aside and closed again before this process next opens the path."""
        if self._closed:
            return
        self._closed = True
        failure: BaseException | None = None
        try:
            with self._io_errors():
                self._commit(durable=True)
                os.fsync(self._fd)
        except Exception as error:
            failure = error
        self._space.release()
        try:
            with self._io_errors():
                self._file.close()
        except Exception as error:
            keep_lingering(self._file, self.path)
            failure = failure or error
        finally:
            self._lock.release()
        if failure is not None:
            raise failure

    def _check_open(self) -> None:
        if self._closed:
            raise ValueError(f"{self.path}: the writer is closed")

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"CaptureWriter({str(self.path)!r}, {self.n_committed}/{self.n_planned} rows)"


# -- helpers -----------------------------------------------------------------------------------------
def _take_lock(path: Path, what: str) -> WriterLock:
    """The writer lock of an existing file, or a one-line CaptureFileError saying who holds it / why not."""
    try:
        return WriterLock(path)
    except FileInUseError:
        raise CaptureFileError(f"{path}: another process is writing this capture; {what} until it stops") from None
    except OSError as error:
        raise CaptureFileError(f"{path}: {what}: {error.strerror or error}") from None


def _claim_new(path: Path, overwrite: bool) -> tuple[WriterLock, bool]:
    """The writer lock of the file a new capture goes into, taken before HDF5 creates or truncates it, so of
    two processes racing for one path exactly one writes and the other is refused in one line. Returns the
    lock and whether this call created the (still empty) file."""
    try:
        return WriterLock(path, create=True), True
    except FileExistsError:
        pass
    except FileInUseError:  # another process opened the file we just made and locked it first
        raise CaptureFileError(f"{path}: another process is writing this capture; choose another path") from None
    except OSError as error:
        raise CaptureFileError(f"{path}: cannot create it: {error.strerror or error}") from None
    if not overwrite:
        if writer_active(path):
            raise CaptureFileError(f"{path}: another process is writing this capture; choose another path")
        raise CaptureFileExistsError(
            f"{path}: refusing to overwrite an existing file; choose another path, resume it, "
            "or replace it with --overwrite"
        )
    return _take_lock(path, "cannot overwrite it"), False


def _give_up_new(path: Path, lock: WriterLock, created: bool) -> None:
    """A new capture that failed before it was usable: remove the file if this call created it (an empty or
    half-made file would block the next attempt without --overwrite), then drop the lock."""
    try:
        if created:
            with contextlib.suppress(OSError):
                path.unlink()
    finally:
        lock.release()


def _named(openers: list[tuple[int, str]]) -> str:
    if not openers:
        return ""
    shown = ", ".join(f"pid {pid} ({name})" for pid, name in openers[:3])
    return f": {shown}{', ...' if len(openers) > 3 else ''}"


def _check_not_lingering(path: Path) -> None:
    problem = retry_lingering(path)
    if problem is not None:
        raise CaptureFileError(
            f"{path}: an earlier writer in this process could not close it ({problem}); free disk space and "
            "retry, or restart the program"
        )
