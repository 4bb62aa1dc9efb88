"""The one error a caller of the data-file layer has to handle for a file that is not what it should be."""

from __future__ import annotations


class CaptureFileError(ValueError):
    """A capture file that is missing, not HDF5, not ours, damaged, too new, or in use: one clear line that
    names the file and says what is wrong or expected."""
