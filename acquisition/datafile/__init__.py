"""The HDF5 capture file: writer (crash-safe, SWMR, resumable), reader (works on a growing file) and the
`inspect` summary. The layout is documented in docs/data-format.md; only this package writes or reads it."""

from speckle_lab.acquisition.datafile.errors import CaptureFileError
from speckle_lab.acquisition.datafile.layout import FORMAT, STATUSES
from speckle_lab.acquisition.datafile.reader import CaptureReader
from speckle_lab.acquisition.datafile.records import FrameRows, RunMetadata
from speckle_lab.acquisition.datafile.summary import format_summary
from speckle_lab.acquisition.datafile.writer import CaptureFileExistsError, CaptureWriter

__all__ = [
    "FORMAT",
    "STATUSES",
    "CaptureFileError",
    "CaptureFileExistsError",
    "CaptureReader",
    "CaptureWriter",
    "FrameRows",
    "RunMetadata",
    "format_summary",
]
