"""How the application writes sizes, durations and the resume command for people: one way each, so the
command line, `inspect`, the preflight and the panel say the same thing."""

from __future__ import annotations

from pathlib import Path


def format_bytes(n: float) -> str:
    """1536 -> '1.5 KiB': binary units up to TiB."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} B"


def format_duration(seconds: float) -> str:
    """3725 -> '1 h 02 min'; 75 -> '1 min 15 s'."""
    seconds = round(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min {secs:02d} s"


def resume_command(path: Path | str) -> str:
    """The command that continues an interrupted capture file."""
    return f"speckle-lab capture --resume {path}"


def output_exists_message(out: Path | str) -> str:
    """What a new capture says when its output file is there already."""
    return (
        f"{out}: already exists; choose another --out, replace it with --overwrite, or continue it with --resume {out}"
    )
