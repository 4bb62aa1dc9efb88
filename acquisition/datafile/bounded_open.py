"""Open a file in SWMR read mode with a bounded number of metadata read attempts, so no command hangs on it.

In SWMR read mode HDF5 retries a metadata read whose checksum fails (the writer may be half-way through
updating it) up to its default number of attempts, with a growing pause between them: on a damaged file
that is minutes per object (a 50 % copy of a crashed file kept `inspect` busy for over 14 minutes). A live
writer's torn metadata heals within a few attempts, so `METADATA_READ_ATTEMPTS` keeps a growing file
readable while a damaged one fails in milliseconds.

h5py does not wrap `H5Pset_metadata_read_attempts`; it is called through ctypes on the HDF5 library h5py
itself loaded. Where that library cannot be found, the plain h5py open is used (HDF5's default attempts).
"""

from __future__ import annotations

import ctypes
import glob
import os
from functools import cache
from pathlib import Path

import h5py
from h5py._hl.files import make_fapl  # the property list h5py.File builds; only the attempts are added

METADATA_READ_ATTEMPTS = 20


@cache
def _set_attempts() -> object | None:
    """`H5Pset_metadata_read_attempts` from the libhdf5 h5py uses, or None."""
    package = os.path.dirname(h5py.__file__)
    candidates = glob.glob(os.path.join(package, os.pardir, "h5py.libs", "libhdf5-*.so*"))
    candidates += glob.glob(os.path.join(package, ".dylibs", "libhdf5*.dylib"))
    for path in candidates or ["libhdf5.so"]:
        try:
            function = ctypes.CDLL(path).H5Pset_metadata_read_attempts
        except (OSError, AttributeError):
            continue
        function.argtypes = [ctypes.c_int64, ctypes.c_uint]
        function.restype = ctypes.c_int
        return function
    return None


def open_swmr_read(path: Path, rdcc_nbytes: int) -> h5py.File:
    """`h5py.File(path, "r", swmr=True, rdcc_nbytes=...)`, with metadata read attempts bounded."""
    set_attempts = _set_attempts()
    if set_attempts is None:
        return h5py.File(path, "r", swmr=True, rdcc_nbytes=rdcc_nbytes)
    fapl = make_fapl(None, None, None, rdcc_nbytes, None)
    if set_attempts(fapl.id, METADATA_READ_ATTEMPTS) < 0:  # type: ignore[operator]
        return h5py.File(path, "r", swmr=True, rdcc_nbytes=rdcc_nbytes)
    fid = h5py.h5f.open(os.fsencode(path), h5py.h5f.ACC_RDONLY | h5py.h5f.ACC_SWMR_READ, fapl=fapl)
    return h5py.File(fid)
