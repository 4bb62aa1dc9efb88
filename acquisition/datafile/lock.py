"""A lock that says "a live process is writing this capture file", so a resume never clears the crash flags
of a file that is in fact still being written, and `inspect` can tell a running capture from a dead one.

HDF5 drops its own file lock once SWMR writing starts, so we hold a separate one: an open-file-description
(OFD) record lock on one byte far beyond any data (HDF5 uses flock(), which does not interact with record
locks). OFD locks belong to our file descriptor, so they are not lost when the same process opens and closes
the file elsewhere (as POSIX record locks would be), and the kernel drops them when the process dies.
"""

from __future__ import annotations

import errno
import os
import struct
import sys
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows: no guard, every probe says "not locked"
    fcntl = None  # type: ignore[assignment]

_LOCK_OFFSET = 1 << 62
_OFD_SETLK = getattr(fcntl, "F_OFD_SETLK", None) if sys.platform == "linux" else None
_OFD_GETLK = getattr(fcntl, "F_OFD_GETLK", None) if sys.platform == "linux" else None
_FLOCK = "hhqqi4x"  # struct flock on Linux 64-bit: l_type, l_whence, l_start, l_len, l_pid


def _flock(lock_type: int) -> bytes:
    return struct.pack(_FLOCK, lock_type, os.SEEK_SET, _LOCK_OFFSET, 1, 0)


class WriterLock:
    """Held by the one process that writes a capture file; released by `release()` or by the process dying."""

    def __init__(self, path: Path, *, create: bool = False) -> None:
        """Lock the existing file at `path`; with `create`, make it first (empty, never truncating: the lock
        must be held before anything in the file is touched) and raise FileExistsError if it exists."""
        flags = os.O_RDWR | (os.O_CREAT | os.O_EXCL if create else 0)
        self._fd: int | None = os.open(path, flags, 0o666)
        try:
            self._lock()
        except BaseException:
            os.close(self._fd)
            self._fd = None
            raise

    def _lock(self) -> None:
        assert self._fd is not None, "only __init__ locks, with the descriptor it has just opened"
        if fcntl is None:
            return
        try:
            if _OFD_SETLK is not None:
                fcntl.fcntl(self._fd, _OFD_SETLK, _flock(fcntl.F_WRLCK))
            else:
                fcntl.lockf(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, _LOCK_OFFSET)
        except OSError as error:
            if error.errno in (errno.EAGAIN, errno.EACCES):
                raise FileInUseError() from error
            raise

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor drops the lock
            self._fd = None


class FileInUseError(OSError):
    """Another live process holds the writer lock."""


def writer_active(path: Path) -> bool:
    """True while a live process holds the writer lock of `path` (never takes the lock itself)."""
    if fcntl is None:
        return False
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        if _OFD_GETLK is not None:
            answer = fcntl.fcntl(fd, _OFD_GETLK, _flock(fcntl.F_WRLCK))
            return struct.unpack(_FLOCK, answer)[0] != fcntl.F_UNLCK
        try:  # no lock test without taking it: take a shared lock and give it back at once
            fcntl.lockf(fd, fcntl.LOCK_SH | fcntl.LOCK_NB, 1, _LOCK_OFFSET)
        except OSError:
            return True
        fcntl.lockf(fd, fcntl.LOCK_UN, 1, _LOCK_OFFSET)
        return False
    finally:
        os.close(fd)


def other_openers(path: Path) -> list[tuple[int, str]]:
    """The other processes that have `path` open, as (pid, command name), so a refusal can say who holds the
    file; best effort: Linux's /proc, and only the processes this user may look into (else an empty list)."""
    try:
        target = os.stat(path)
    except OSError:
        return []
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        if proc.name == str(os.getpid()):
            continue
        try:
            for fd in (proc / "fd").iterdir():
                try:
                    st = os.stat(fd)
                except OSError:
                    continue
                if (st.st_dev, st.st_ino) == (target.st_dev, target.st_ino):
                    found.append((int(proc.name), (proc / "comm").read_text().strip()))
                    break
        except OSError:
            continue
    return found
