"""Clear the file-consistency flags of an HDF5 superblock, as `h5clear -s` does, without the HDF5 tools.

A process that dies while it has an HDF5 file open for writing (kill -9, power cut) leaves the "open for
write" and "open for SWMR write" flags set in the superblock; HDF5 then refuses to open the file for writing
again ("file is already open for write (may use <h5clear file> ...)"). Only superblock versions 2 and 3 carry
those flags in a checksummed byte, which is the layout our files use (libver="latest"):

    signature (8) | version (1) | size of offsets (1) | size of lengths (1) | consistency flags (1)
    | base address | superblock extension address | end-of-file address | root group object header address
    | checksum (4): Jenkins lookup3 `hashlittle` of all preceding bytes, initval 0

Only call this on a file that no process is writing: clearing the flags under a live writer corrupts it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

SIGNATURE = b"\x89HDF\r\n\x1a\n"
_MASK = 0xFFFFFFFF


def _rot(x: int, k: int) -> int:
    return ((x << k) | (x >> (32 - k))) & _MASK


def lookup3(data: bytes, initval: int = 0) -> int:
    """Bob Jenkins' lookup3 `hashlittle` (byte-wise, as HDF5's H5_checksum_lookup3): the metadata checksum."""
    length = len(data)
    a = b = c = (0xDEADBEEF + length + initval) & _MASK
    pos = 0
    while length > 12:
        a = (a + int.from_bytes(data[pos : pos + 4], "little")) & _MASK
        b = (b + int.from_bytes(data[pos + 4 : pos + 8], "little")) & _MASK
        c = (c + int.from_bytes(data[pos + 8 : pos + 12], "little")) & _MASK
        # mix(a, b, c)
        a = (a - c) & _MASK ^ _rot(c, 4)
        c = (c + b) & _MASK
        b = (b - a) & _MASK ^ _rot(a, 6)
        a = (a + c) & _MASK
        c = (c - b) & _MASK ^ _rot(b, 8)
        b = (b + a) & _MASK
        a = (a - c) & _MASK ^ _rot(c, 16)
        c = (c + b) & _MASK
        b = (b - a) & _MASK ^ _rot(a, 19)
        a = (a + c) & _MASK
        c = (c - b) & _MASK ^ _rot(b, 4)
        b = (b + a) & _MASK
        pos += 12
        length -= 12
    if length == 0:
        return c
    tail = data[pos:].ljust(12, b"\0")  # the missing bytes add nothing, as in the C switch
    a = (a + int.from_bytes(tail[0:4], "little")) & _MASK
    b = (b + int.from_bytes(tail[4:8], "little")) & _MASK
    c = (c + int.from_bytes(tail[8:12], "little")) & _MASK
    # final(a, b, c)
    c = (c ^ b) - _rot(b, 14) & _MASK
    a = (a ^ c) - _rot(c, 11) & _MASK
    b = (b ^ a) - _rot(a, 25) & _MASK
    c = (c ^ b) - _rot(b, 16) & _MASK
    a = (a ^ c) - _rot(c, 4) & _MASK
    b = (b ^ a) - _rot(a, 14) & _MASK
    c = (c ^ b) - _rot(b, 24) & _MASK
    return c


@dataclass(frozen=True)
class Superblock:
    """The fields of a version 2 or 3 superblock that crash recovery needs."""

    offset: int  # where the superblock starts (0, or after a user block of 512, 1024, ... bytes)
    version: int
    size_of_offsets: int
    flags: int  # bit 0: open for write, bit 2: open for SWMR write
    base_address: int
    end_of_file_address: int
    stored_checksum: int
    computed_checksum: int
    raw: bytes  # the superblock bytes, checksum included

    @property
    def checksum_ok(self) -> bool:
        return self.stored_checksum == self.computed_checksum

    @property
    def flags_offset(self) -> int:
        return self.offset + 11

    @property
    def stored_eof(self) -> int:
        """File size the superblock claims (HDF5 calls a shorter file "truncated")."""
        return self.base_address + self.end_of_file_address


class SuperblockError(ValueError):
    """The file has no superblock this module can read and rewrite."""


def _find_signature(handle, size: int) -> int:
    offset = 0
    while offset + len(SIGNATURE) <= size:
        handle.seek(offset)
        if handle.read(len(SIGNATURE)) == SIGNATURE:
            return offset
        offset = 512 if offset == 0 else offset * 2
    raise SuperblockError("no HDF5 signature found")


def read_superblock(path: str | os.PathLike[str]) -> Superblock:
    """Parse the superblock of `path`; SuperblockError if it is not a version 2/3 HDF5 superblock."""
    with open(path, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        offset = _find_signature(handle, size)
        handle.seek(offset)
        head = handle.read(12)
        if len(head) < 12:
            raise SuperblockError("superblock truncated")
        version, size_of_offsets, flags = head[8], head[9], head[11]
        if version not in (2, 3):
            raise SuperblockError(f"superblock version {version}; only versions 2 and 3 carry consistency flags")
        if size_of_offsets not in (2, 4, 8):
            raise SuperblockError(f"invalid size of offsets {size_of_offsets}")
        body = handle.read(4 * size_of_offsets + 4)
        if len(body) < 4 * size_of_offsets + 4:
            raise SuperblockError("superblock truncated")
    raw = head + body
    addresses = [
        int.from_bytes(raw[12 + i * size_of_offsets : 12 + (i + 1) * size_of_offsets], "little") for i in range(4)
    ]
    return Superblock(
        offset=offset,
        version=version,
        size_of_offsets=size_of_offsets,
        flags=flags,
        base_address=addresses[0],
        end_of_file_address=addresses[2],
        stored_checksum=int.from_bytes(raw[-4:], "little"),
        computed_checksum=lookup3(raw[:-4]),
        raw=raw,
    )


def clear_status_flags(path: str | os.PathLike[str]) -> bool:
    """Reset the consistency flags of `path` to 0 (like `h5clear -s`); True if they were set.

    A file shorter than the end-of-file address in its superblock is refused, never padded: the writer's
    flushes keep the file as long as that address, so a shorter file is a partial copy (or a damaged disk)
    and its missing bytes may hold committed rows; zero-filling them would pass zeros off as data.
    Raises SuperblockError for a superblock it cannot handle, a bad checksum or a truncated file.
    """
    block = read_superblock(path)
    if not block.checksum_ok:
        raise SuperblockError(
            f"superblock checksum mismatch (stored {block.stored_checksum:#010x}, "
            f"computed {block.computed_checksum:#010x})"
        )
    path = Path(path)
    with open(path, "r+b") as handle:
        size = os.fstat(handle.fileno()).st_size
        if size < block.stored_eof and block.flags & 1 and not block.flags & 4:
            raise SuperblockError(
                f"its writer died while creating it, before any row ({size} of {block.stored_eof} bytes written)"
            )
        if size < block.stored_eof:
            raise SuperblockError(
                f"truncated file (a partial copy?): {size} bytes, its superblock says {block.stored_eof}"
            )
        if block.flags:
            patched = bytearray(block.raw[:-4])
            patched[11] = 0
            handle.seek(block.offset)
            handle.write(bytes(patched) + lookup3(bytes(patched)).to_bytes(4, "little"))
            handle.flush()
            os.fsync(handle.fileno())
    return block.flags != 0
