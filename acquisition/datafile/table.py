"""One appendable group of the data file: its datasets grow together, and its counters say how many rows
a reader may trust (see the commit protocol in `writer`)."""

from __future__ import annotations

import math
from collections.abc import Mapping

import h5py
import numpy as np

from speckle_lab.acquisition.datafile.errors import CaptureFileError
from speckle_lab.acquisition.datafile.layout import COMMITTED, SYNCED
from speckle_lab.acquisition.datafile.space import METADATA_MARGIN_BYTES


class AppendTable:
    """One appendable group: its datasets grow together and its counters say how many rows to trust."""

    def __init__(self, group: h5py.Group, columns: tuple[str, ...]) -> None:
        self.columns = {name: group[name] for name in columns}
        self._committed = group[COMMITTED]
        self._synced = group[SYNCED]
        self.n_committed = int(self._committed[()])
        self.n_synced = int(self._synced[()])
        for counter, value in ((self._committed, self.n_committed), (self._synced, self.n_synced)):
            if value < 0:
                raise CaptureFileError(damaged_counter(group.file.filename, counter.name, value))
        self.n_written = self.n_committed
        # (rows per chunk, bytes of the chunks that hold those rows) per dataset, to bound the file's growth
        self._chunking = [
            (
                d.chunks[0],
                d.dtype.itemsize
                * math.prod(d.chunks)
                * math.prod(math.ceil(side / chunk) for side, chunk in zip(d.shape[1:], d.chunks[1:], strict=True)),
            )
            for d in self.columns.values()
        ]

    def bytes_for(self, n: int) -> int:
        """Upper bound of the file's growth for n more rows: HDF5 allocates whole chunks, so only rows that
        start a new chunk cost space, plus room for the chunk index and headers."""
        start, stop = self.n_written, self.n_written + n
        new_chunks = sum((-(-stop // rows) - -(-start // rows)) * slab_bytes for rows, slab_bytes in self._chunking)
        return new_chunks + METADATA_MARGIN_BYTES

    def append(self, arrays: Mapping[str, np.ndarray], n: int) -> None:
        """Write rows n_written..n_written+n; a failure half-way leaves n_written (and the commit) unchanged."""
        start, stop = self.n_written, self.n_written + n
        for name, dataset in self.columns.items():
            if dataset.shape[0] != stop:
                dataset.resize(stop, axis=0)
            dataset[start:stop] = arrays[name]
        self.n_written = stop

    def truncate(self, n: int) -> None:
        for dataset in self.columns.values():
            if dataset.shape[0] != n:
                dataset.resize(n, axis=0)
        self.n_written = n
        self.write_counters(synced=True, force=True)

    def write_counters(self, synced: bool, force: bool = False) -> None:
        if force or self.n_committed != self.n_written:
            self._committed[()] = self.n_written
            self.n_committed = self.n_written
        if synced and (force or self.n_synced != self.n_written):
            self._synced[()] = self.n_written
            self.n_synced = self.n_written


def damaged_counter(path: object, counter: str, value: int) -> str:
    """The refusal of a file whose row counter is negative: it is left as it is (its rows may be sound)."""
    return (
        f"{path}: damaged capture file: {counter} = {value}, expected 0 or more rows; the file is left as it is "
        "(copy it and set the counter to the rows you trust with h5py, or capture again)"
    )


def table_lengths(table: AppendTable) -> list[int]:
    return [dataset.shape[0] for dataset in table.columns.values()]
