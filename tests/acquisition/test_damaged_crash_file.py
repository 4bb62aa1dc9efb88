"""No command hangs on a bad file: a crashed file (crash flags set, SWMR) whose metadata is damaged is
refused in well under a second, not after HDF5's minutes of SWMR metadata retries."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from speckle_lab.acquisition.datafile import CaptureFileError, CaptureReader, CaptureWriter
from speckle_lab.acquisition.datafile.testing import EXAMPLE_FIELDS, example_metadata, synthetic_rows


def crashed_copy(tmp_path: Path) -> bytes:
    """The bytes of a file whose writer is still open (flags set, as after kill -9), with 64 rows."""
    path = tmp_path / "live.h5"
    writer = CaptureWriter.create(
        path, speckle_shape=(64, 64), speckle_dtype=np.uint16, target_shape=(32, 32),
        frame_fields=EXAMPLE_FIELDS, metadata=example_metadata(256),
    )  # fmt: skip
    try:
        for start in range(0, 64, 16):
            writer.append_frames(synthetic_rows(start, 16))
        writer.flush()
        return path.read_bytes()
    finally:
        writer.close()


def test_damaged_metadata_of_a_crashed_file_is_refused_at_once(tmp_path: Path) -> None:
    data = bytearray(crashed_copy(tmp_path))
    headers = [i for i in range(len(data)) if data.startswith(b"OHDR", i)]
    assert len(headers) > 10
    damaged = tmp_path / "damaged.h5"
    offset = headers[len(headers) // 2]
    data[offset + 8 : offset + 40] = b"\xff" * 32  # an object header whose checksum no longer matches
    damaged.write_bytes(bytes(data))
    start = time.monotonic()
    with pytest.raises(CaptureFileError, match="damaged"), CaptureReader(damaged) as reader:
        reader.frames(0, 64)
        reader.events()
    assert time.monotonic() - start < 2.0
