"""Before a night's run: how long it takes, how big the file gets, and whether the disk holds it.

The size is what the writer will really take, not the pixels alone: HDF5 allocates whole chunks (a plan of
a few frames still takes a whole image chunk per dataset), and the writer keeps room for each block's
chunk-index growth and for a last event after a full disk (acquisition.datafile.space). A folder that does
not exist or cannot be written is reported as such, not as free space.
"""

from __future__ import annotations

import math
import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from speckle_lab.acquisition.datafile.layout import EVENT_DTYPE, FEW_FRAMES_CHUNK, VECTOR_CHUNK_ROWS, image_chunks
from speckle_lab.acquisition.datafile.space import EVENT_HEADROOM_BYTES, METADATA_MARGIN_BYTES
from speckle_lab.acquisition.plan import CapturePlan
from speckle_lab.acquisition.text import format_bytes, format_duration

#: An empty capture file's own structure (superblock, groups, metadata, counters): measured about 42 KiB.
_EMPTY_FILE_BYTES = 64 << 10
#: The frame table's own vectors (target_index, timestamp, frame_id), the dark and reference vectors.
_FRAME_VECTOR_ITEMSIZES = (8, 8, 8)
_DARK_VECTOR_ITEMSIZES = (8, 1)  # timestamp, phase
_REFERENCE_VECTOR_ITEMSIZES = (8, 8, 8)  # timestamp, after_row, correlation
#: Without the scheduler's fields: 16 of 8 bytes, more than it declares.
_DEFAULT_FIELD_ITEMSIZES = (8,) * 16


@dataclass(frozen=True)
class Preflight:
    rows: int
    duration_s: float
    file_bytes: int  # how much the file grows: all of it for a new capture, the rest for a resume
    free_bytes: int
    problem: str = ""  # the output folder is missing or not writable: nothing else matters

    @property
    def ok(self) -> bool:
        return not self.problem and self.file_bytes <= self.free_bytes

    @property
    def message(self) -> str:
        if self.problem:
            return self.problem
        verdict = "fits" if self.ok else "does NOT fit"
        return (
            f"{self.rows} rows, about {format_duration(self.duration_s)}, file {format_bytes(self.file_bytes)}, "
            f"{format_bytes(self.free_bytes)} free: {verdict}"
        )


def _chunked_bytes(n_rows: int, row_shape: tuple[int, int], itemsize: int, max_frames: int | None = None) -> int:
    """Disk taken by `n_rows` images in the writer's chunking: whole chunks, partial ones included."""
    if n_rows <= 0:
        return 0
    chunk_rows, chunk_h, chunk_w = image_chunks(row_shape, itemsize, max_frames)
    height, width = row_shape
    per_chunk_row_group = chunk_rows * math.ceil(height / chunk_h) * chunk_h * math.ceil(width / chunk_w) * chunk_w
    return math.ceil(n_rows / chunk_rows) * per_chunk_row_group * itemsize


def _vector_bytes(n_rows: int, itemsizes: tuple[int, ...]) -> int:
    return sum(itemsizes) * math.ceil(n_rows / VECTOR_CHUNK_ROWS) * VECTOR_CHUNK_ROWS if n_rows > 0 else 0


def estimate_file_bytes(
    plan: CapturePlan,
    speckle_shape: tuple[int, int],
    speckle_itemsize: int,
    rows: int,
    frame_fields: Mapping[str, np.dtype] | None = None,
) -> int:
    """The size of a capture file of this plan holding `rows` frame rows (with all its darks and references),
    in the writer's chunking; `frame_fields`: the per-row fields the scheduler declares."""
    darks = 2 * plan.dark_frames
    references = plan.n_frames // plan.reference_every + 1
    fields = (
        _DEFAULT_FIELD_ITEMSIZES if frame_fields is None else tuple(np.dtype(d).itemsize for d in frame_fields.values())
    )
    return (
        _EMPTY_FILE_BYTES
        + _chunked_bytes(rows, speckle_shape, speckle_itemsize)
        + _chunked_bytes(rows, plan.target_shape, 4)
        + _vector_bytes(rows, _FRAME_VECTOR_ITEMSIZES + fields)
        + _chunked_bytes(darks, speckle_shape, speckle_itemsize, FEW_FRAMES_CHUNK)
        + _chunked_bytes(references, speckle_shape, speckle_itemsize, FEW_FRAMES_CHUNK)
        + _vector_bytes(darks, _DARK_VECTOR_ITEMSIZES)
        + _vector_bytes(references, _REFERENCE_VECTOR_ITEMSIZES)
        + 64 * EVENT_DTYPE.itemsize  # the first chunk of the event log
    )


def folder_problem(path: Path) -> str:
    """Why `path` cannot be written into its folder, or "" when it can."""
    folder = Path(os.path.realpath(path)).parent  # realpath: a symbolic-link loop is no exception here
    if not folder.is_dir():
        return f"{path}: the folder {folder} does not exist; create it first"
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"{path}: the folder {folder} is not writable (permission denied)"
    try:
        blocks = os.statvfs(folder).f_blocks
    except (OSError, AttributeError):  # no statvfs (Windows): the free-space check still follows
        blocks = None
    if blocks == 0:
        return (
            f"{path}: the folder {folder} is on a virtual file system with no storage (like /proc or /sys); "
            "choose a folder on a disk"
        )
    return ""


def preflight(
    plan: CapturePlan,
    path: Path,
    speckle_shape: tuple[int, int],
    speckle_itemsize: int,
    seconds_per_frame: float,
    rows_done: int = 0,
    frame_fields: Mapping[str, np.dtype] | None = None,
) -> Preflight:
    rows = plan.n_frames - rows_done
    extra_frames = 2 * plan.dark_frames + plan.n_frames // plan.reference_every + 1
    total = estimate_file_bytes(plan, speckle_shape, speckle_itemsize, plan.n_frames, frame_fields)
    done = estimate_file_bytes(plan, speckle_shape, speckle_itemsize, rows_done, frame_fields) if rows_done else 0
    # the writer reserves each block's index growth and keeps room for a last event after a full disk
    need = total - done + METADATA_MARGIN_BYTES + EVENT_HEADROOM_BYTES
    problem = folder_problem(path)
    folder = Path(path).resolve().parent
    free = 0 if problem else shutil.disk_usage(folder).free
    return Preflight(rows, (rows + extra_frames) * seconds_per_frame, int(need), int(free), problem)
