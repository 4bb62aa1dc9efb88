"""Disk space for the next block, reserved before HDF5 writes it.

When a write inside HDF5 fails (a full disk), the library keeps dirty metadata it can no longer flush: the
file cannot be closed, stays half-open in the process, and reopening it there (a resume after freeing space)
shares that broken state. So the writer reserves the blocks it is about to write with fallocate(KEEP_SIZE)
(the file's size does not change; the file system just holds the space) and a full disk becomes a clean
OSError(ENOSPC) raised before anything is written. Where fallocate is unavailable, free space is checked
with statvfs instead (best effort: another process can still take the space in between).

Also here: lingering files, those whose close failed anyway, kept so a later open of the same path in this
process retries their close first instead of sharing their broken state.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import os
import sys
from pathlib import Path

import h5py
import h5py.h5i

FALLOC_FL_KEEP_SIZE = 0x01
FALLOC_FL_PUNCH_HOLE = 0x02
RESERVE_AHEAD_BYTES = 64 << 20  # reserve in steps of at least this much, or
RESERVE_AHEAD_BLOCKS = 4  # this many blocks: one fallocate per many blocks
METADATA_MARGIN_BYTES = 256 << 10  # chunk-index and object-header growth of a block, generously
EVENT_HEADROOM_BYTES = 512 << 10  # kept free by data blocks so a "write_error" event and the status still fit

_fallocate = None
if sys.platform == "linux":
    try:
        _libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        _fallocate = _libc.fallocate
        _fallocate.argtypes = (ctypes.c_int, ctypes.c_int, ctypes.c_int64, ctypes.c_int64)
        _fallocate.restype = ctypes.c_int
    except (OSError, AttributeError):
        _fallocate = None


def _call_fallocate(fd: int, mode: int, offset: int, length: int) -> None:
    if _fallocate is None:  # callers check first; should one not, it is reported as the fallback's error
        raise OSError(errno.ENOSYS, "fallocate is not available")
    if _fallocate(fd, mode, offset, length) != 0:
        code = ctypes.get_errno()
        raise OSError(code, os.strerror(code))


class SpaceReserve:
    """Keeps `need` bytes beyond the end of the file allocated before each block is written."""

    def __init__(self, fd: int, path: Path) -> None:
        self._fd = fd
        self._path = path
        self._reserved_to = 0
        self._use_fallocate = _fallocate is not None

    def ensure(self, need_bytes: int, headroom_bytes: int = 0) -> None:
        """Raise OSError(ENOSPC) unless `need_bytes` more can be written to the file with `headroom_bytes`
        still reserved after them."""
        size = os.fstat(self._fd).st_size
        total = need_bytes + headroom_bytes
        if size + total <= self._reserved_to:
            return
        if self._use_fallocate:
            for ahead in (max(RESERVE_AHEAD_BYTES, RESERVE_AHEAD_BLOCKS * total), total):
                try:
                    _call_fallocate(self._fd, FALLOC_FL_KEEP_SIZE, size, ahead)
                except OSError as error:
                    if error.errno in (errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL):
                        self._use_fallocate = False
                        break
                    if error.errno not in (errno.ENOSPC, errno.EDQUOT):
                        raise OSError(error.errno, error.strerror, str(self._path)) from None
                    continue
                self._reserved_to = size + ahead
                return
            if self._use_fallocate:
                raise self._full(need_bytes)
        stats = os.statvfs(self._path)
        if stats.f_bavail * stats.f_frsize < total:
            raise self._full(need_bytes)

    def _full(self, need_bytes: int) -> OSError:
        return OSError(
            errno.ENOSPC,
            f"No space left on device (the next block needs {need_bytes / 2**20:.1f} MiB)",
            str(self._path),
        )

    def release(self) -> None:
        """Give back what was reserved beyond the end of the file (at close)."""
        if not self._use_fallocate or not self._reserved_to:
            return
        size = os.fstat(self._fd).st_size
        if self._reserved_to > size:
            with contextlib.suppress(OSError):  # only space; a later close gives it back
                _call_fallocate(self._fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, size, self._reserved_to - size)
        self._reserved_to = 0


_lingering: dict[str, h5py.File] = {}


def keep_lingering(f: h5py.File, path: Path) -> None:
    _lingering[os.path.realpath(path)] = f  # realpath: never raises, also on a symbolic-link loop


def retry_lingering(path: Path) -> str | None:
    """Finish closing a file of `path` whose close failed earlier in this process (a full disk since freed):
    None once HDF5 holds nothing of it, else why not."""
    key = os.path.realpath(path)
    f = _lingering.get(key)
    if f is None:
        return None
    error = _release_all(key)
    if error is None:
        del _lingering[key]
    return error


def _release_all(key: str) -> str | None:
    """Drop every HDF5 identifier of the file `key` (objects first, the file last)."""
    for kind in (h5py.h5f.OBJ_ALL & ~h5py.h5f.OBJ_FILE, h5py.h5f.OBJ_FILE):
        for identifier in h5py.h5f.get_obj_ids(h5py.h5f.OBJ_ALL, kind):
            try:
                if os.path.realpath(h5py.h5f.get_name(identifier).decode()) != key:
                    continue
                while identifier.valid:
                    h5py.h5i.dec_ref(identifier)
            except Exception as error:
                return str(error).splitlines()[0] if str(error) else type(error).__name__
    return None
