"""The data file says which medium produced it: kind, seed, checksum and the representation (dense or
band-limited), so two files from the same seed can be told apart when their representations differ."""

from __future__ import annotations

from pathlib import Path

import pytest

from speckle_lab.acquisition.datafile import CaptureReader
from speckle_lab.acquisition.plan import CapturePlan
from speckle_lab.lab.capture_service import make_run

PLAN = {"targets": "blobs", "n_frames": 64, "target_rows": 16, "target_cols": 16, "block_frames": 32,
        "reference_every": 64, "dark_frames": 2, "read_timeout_s": 0.5}  # fmt: skip


@pytest.mark.parametrize("representation", ["dense", "band_limited"])
def test_data_file_records_the_medium_representation(make_small_bench, tmp_path: Path, representation: str) -> None:
    bench = make_small_bench(sim={"representation": representation})
    path = tmp_path / "run.h5"
    assert make_run(CapturePlan.model_validate(PLAN), bench, path).run().ok
    with CaptureReader(path) as reader:
        medium = reader.medium
    assert medium["representation"] == representation
    assert medium["checksum_sha256"] == bench.table.medium.checksum
    assert ("n_modes" in medium) == (representation == "band_limited")
