"""Helpers shared by the capture tests (a module of its own: conftest files cannot be imported by name)."""

from __future__ import annotations

import errno
from pathlib import Path

from speckle_lab.lab.bench_config import BenchConfig, dumps_toml

SMALL_BENCH = {
    "dmd": {"mirror_rows": 64, "mirror_cols": 64, "macropixel_mirrors": 2, "side_macropixels": 24},
    "camera": {"rows": 32, "cols": 32},
    "medium": {"grain_px": 1.0},
}


def small_config(**changes: dict) -> BenchConfig:
    sections = {key: dict(value) for key, value in SMALL_BENCH.items()}
    for key, value in changes.items():
        sections.setdefault(key, {}).update(value)
    return BenchConfig().with_changes(**sections)


def write_small_bench_toml(path: Path) -> Path:
    path.write_text(dumps_toml(small_config()))
    return path


def fill(folder: Path) -> Path:
    """Another process fills the disk: write until ENOSPC."""
    filler = folder / "filler.bin"
    with filler.open("wb") as stream:
        try:
            while True:
                stream.write(b"\0" * 65536)
                stream.flush()
        except OSError as error:
            assert error.errno == errno.ENOSPC
    return filler
