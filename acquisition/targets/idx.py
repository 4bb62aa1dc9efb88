"""The IDX format of MNIST (and Fashion-MNIST, EMNIST): a 4-byte magic (0, 0, type code, number of
dimensions), one big-endian uint32 per dimension, then the data, big-endian, C order. Gzipped or not."""

from __future__ import annotations

import gzip
import io
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
IMAGE_MAGIC = 0x00000803  # unsigned bytes, 3 dimensions [image, row, col]
_GZIP_MAGIC = b"\x1f\x8b"


class IdxFormatError(ValueError):
    """A file that is not a well-formed IDX file; the message names the file."""


@dataclass(frozen=True)
class IdxHeader:
    magic: int
    dtype: np.dtype
    dims: tuple[int, ...]

    @property
    def size_bytes(self) -> int:
        return int(np.prod(self.dims, dtype=np.int64)) * self.dtype.itemsize


def is_gzip(path: Path) -> bool:
    with open(path, "rb") as f:
        return f.read(2) == _GZIP_MAGIC


def _open(path: Path) -> io.BufferedIOBase:
    """The decompressed byte stream: gzip is recognised by its magic bytes, not by the file name."""
    return gzip.open(path, "rb") if is_gzip(path) else open(path, "rb")


def _read_header(stream: io.BufferedIOBase, path: Path) -> IdxHeader:
    head = stream.read(4)
    if len(head) < 4:
        raise IdxFormatError(f"{path} is too short to be an IDX file ({len(head)} bytes)")
    magic = struct.unpack(">I", head)[0]
    zero, type_code, ndim = magic >> 16, (magic >> 8) & 0xFF, magic & 0xFF
    if zero != 0 or type_code not in IDX_TYPES or ndim == 0:
        raise IdxFormatError(f"{path} is not an IDX file: magic 0x{magic:08x}")
    raw_dims = stream.read(4 * ndim)
    if len(raw_dims) < 4 * ndim:
        raise IdxFormatError(f"{path} ends inside its IDX header ({ndim} dimensions announced)")
    dims = struct.unpack(f">{ndim}I", raw_dims)
    return IdxHeader(magic, np.dtype(IDX_TYPES[type_code]), tuple(int(d) for d in dims))


def read_idx_header(path: str | Path) -> IdxHeader:
    """The header only (for gzip: only the first bytes are decompressed)."""
    path = Path(path)
    try:
        with _open(path) as stream:
            return _read_header(stream, path)
    except (OSError, EOFError) as error:
        raise IdxFormatError(f"{path} cannot be read as IDX: {error}") from error


def read_idx(path: str | Path, expect_magic: int | None = None) -> np.ndarray:
    """The whole array, in native byte order; `expect_magic` (e.g. `IMAGE_MAGIC`) refuses any other kind."""
    path = Path(path)
    try:
        with _open(path) as stream:
            header = _read_header(stream, path)
            _check_magic(header, path, expect_magic)
            data = stream.read(header.size_bytes)
    except (OSError, EOFError) as error:
        raise IdxFormatError(f"{path} cannot be read as IDX: {error}") from error
    if len(data) < header.size_bytes:
        raise IdxFormatError(
            f"{path} is truncated: dimensions {header.dims} need {header.size_bytes} data bytes, found {len(data)}"
        )
    array = np.frombuffer(data, dtype=header.dtype).reshape(header.dims)
    return array.astype(header.dtype.newbyteorder("="), copy=header.dtype.itemsize > 1)


def _check_magic(header: IdxHeader, path: Path, expect_magic: int | None) -> None:
    if expect_magic is not None and header.magic != expect_magic:
        raise IdxFormatError(
            f"{path} has IDX magic 0x{header.magic:08x}, expected 0x{expect_magic:08x}"
            + (" (unsigned bytes, 3 dimensions: an image file)" if expect_magic == IMAGE_MAGIC else "")
        )


def check_image_file(path: str | Path) -> IdxHeader:
    """Header of an IDX image file (magic 0x00000803), or `IdxFormatError`."""
    path = Path(path)
    header = read_idx_header(path)
    _check_magic(header, path, IMAGE_MAGIC)
    return header
