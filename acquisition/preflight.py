"""Before a night's run: how long it takes, how big the file gets, and whether the disk holds it."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from acquisition.plan import CapturePlan
from acquisition.text import format_bytes, format_duration

# Per-row bookkeeping besides pixels: target index, timestamp, frame id, fields, chunk index overhead.
_ROW_OVERHEAD_BYTES = 96
_SAFETY_MARGIN = 1.05


@dataclass(frozen=True)
class Preflight:
    rows: int
    duration_s: float
    file_bytes: int
    free_bytes: int

    @property
    def ok(self) -> bool:
        return self.file_bytes * _SAFETY_MARGIN <= self.free_bytes

    @property
    def message(self) -> str:
        verdict = "fits" if self.ok else "does NOT fit"
        return (
            f"{self.rows} rows, about {format_duration(self.duration_s)}, file {format_bytes(self.file_bytes)}, "
            f"{format_bytes(self.free_bytes)} free: {verdict}"
        )


def preflight(
    plan: CapturePlan,
    path: Path,
    speckle_shape: tuple[int, int],
    speckle_itemsize: int,
    seconds_per_frame: float,
    rows_done: int = 0,
) -> Preflight:
    rows = plan.n_frames - rows_done
    row_bytes = speckle_shape[0] * speckle_shape[1] * speckle_itemsize + plan.target_rows * plan.target_cols * 4
    extra_frames = 2 * plan.dark_frames + plan.n_frames // plan.reference_every + 1
    file_bytes = rows * (row_bytes + _ROW_OVERHEAD_BYTES) + extra_frames * row_bytes
    folder = Path(path).resolve().parent
    free = shutil.disk_usage(folder if folder.exists() else Path.cwd()).free
    frames = rows + extra_frames
    return Preflight(rows, frames * seconds_per_frame, int(file_bytes), int(free))
