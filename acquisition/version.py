"""The application's version, as installed: the one answer for data files, checkpoints and `--version`."""

from __future__ import annotations

from importlib import metadata

DISTRIBUTION = "speckle-lab"


def software_version() -> str:
    """The installed speckle-lab version; "unknown" when it runs from a source tree that is not installed."""
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return "unknown"
