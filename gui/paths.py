"""Where the panel proposes to put new data files and training runs, and fresh names for them."""

from __future__ import annotations

import time
from pathlib import Path


def default_data_dir() -> Path:
    return Path.home() / "speckle-lab" / "data"


def default_runs_dir() -> Path:
    return Path.home() / "speckle-lab" / "runs"


def fresh_name(folder: Path, stem: str, suffix: str = "") -> Path:
    """`folder/stem-YYYYmmdd-HHMMSS[suffix]`, with a counter if that exists already."""
    base = f"{stem}-{time.strftime('%Y%m%d-%H%M%S')}"
    path, n = folder / f"{base}{suffix}", 1
    while path.exists():
        n += 1
        path = folder / f"{base}-{n}{suffix}"
    return path
