"""Anything that is not a readable capture file is a CaptureFileError: one line that names the file and says
what is wrong, never an HDF5 traceback."""

from __future__ import annotations

import shutil
from pathlib import Path

import h5py
import numpy as np
import pytest

from speckle_lab.acquisition.datafile import CaptureFileError, CaptureReader, CaptureWriter
from speckle_lab.acquisition.datafile.testing import EXAMPLE_FIELDS, example_metadata, synthetic_rows


@pytest.fixture
def capture(tmp_path: Path) -> Path:
    path = tmp_path / "real.h5"
    with CaptureWriter.create(
        path,
        speckle_shape=(64, 64),
        speckle_dtype=np.uint16,
        target_shape=(32, 32),
        frame_fields=EXAMPLE_FIELDS,
        metadata=example_metadata(600),
    ) as writer:
        for start in range(0, 600, 200):
            writer.append_frames(synthetic_rows(start, 200))
        writer.set_status("complete")
    return path


def expect_error(path: Path, *fragments: str) -> str:
    with pytest.raises(CaptureFileError) as raised:
        CaptureReader(path)
    message = str(raised.value)
    assert "\n" not in message and message.startswith(str(path))
    for fragment in fragments:
        assert fragment in message, message
    return message


def test_missing_file(tmp_path: Path) -> None:
    expect_error(tmp_path / "nope.h5", "no such file")


def test_directory(tmp_path: Path) -> None:
    expect_error(tmp_path, "is a directory")


def test_text_file(tmp_path: Path) -> None:
    path = tmp_path / "notes.h5"
    path.write_text("exposure 100 us\nlaser 50 mW\n")
    expect_error(path, "not an HDF5 file", "exposure")


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.h5"
    path.touch()
    expect_error(path, "empty file")


def test_truncated_copy_of_a_real_file(capture: Path, tmp_path: Path) -> None:
    data = capture.read_bytes()
    half = tmp_path / "half.h5"
    half.write_bytes(data[: len(data) // 2])
    expect_error(half, "truncated")


def test_garbage_after_a_valid_signature(capture: Path, tmp_path: Path) -> None:
    path = tmp_path / "garbage.h5"
    path.write_bytes(capture.read_bytes()[:8] + bytes(range(256)) * 40)
    expect_error(path)


def test_foreign_hdf5_file(tmp_path: Path) -> None:
    path = tmp_path / "foreign.h5"
    with h5py.File(path, "w") as f:
        f["images"] = np.zeros((3, 4, 4))
    expect_error(path, "not a speckle-lab capture file", "without /entry")


def test_foreign_nexus_file_without_our_format_attribute(tmp_path: Path) -> None:
    path = tmp_path / "nexus.h5"
    with h5py.File(path, "w") as f:
        f.create_group("entry").attrs["NX_class"] = "NXentry"
    expect_error(path, "speckle_lab_format")


def test_our_format_with_a_missing_dataset_names_the_path(capture: Path) -> None:
    with h5py.File(capture, "r+") as f:
        del f["entry/frames/speckle"]
    expect_error(capture, "/entry/frames/speckle is missing")


def test_newer_format_version(capture: Path) -> None:
    with h5py.File(capture, "r+") as f:
        f["entry"].attrs["speckle_lab_format"] = "speckle-lab/2"
    expect_error(capture, "speckle-lab/2", "newer", "upgrade")


def test_unknown_format_name(capture: Path) -> None:
    with h5py.File(capture, "r+") as f:
        f["entry"].attrs["speckle_lab_format"] = "other-lab/1"
    expect_error(capture, "unknown data format")


def test_resume_refuses_foreign_and_missing_files(tmp_path: Path) -> None:
    foreign = tmp_path / "foreign.h5"
    with h5py.File(foreign, "w") as f:
        f["x"] = 1
    with pytest.raises(CaptureFileError, match="not a speckle-lab capture file"):
        CaptureWriter.open_for_resume(foreign)
    with pytest.raises(CaptureFileError, match="no such file"):
        CaptureWriter.open_for_resume(tmp_path / "missing.h5")


def test_a_good_copy_still_reads(capture: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy.h5"
    shutil.copy(capture, copy)
    with CaptureReader(copy) as reader:
        assert reader.n_frames == 600
