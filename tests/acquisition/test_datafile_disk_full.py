"""A full disk is a clean OSError(ENOSPC) raised before HDF5 writes anything: the writer can still log the
error, set the status and close, and the same process can reopen and resume the file once space is freed
(a write failing inside HDF5 would leave the library unable to close the file)."""

from __future__ import annotations

import errno
from pathlib import Path

import numpy as np
import pytest
from capture_helpers import fill

import speckle_lab.acquisition.datafile.space as space
from speckle_lab.acquisition.datafile import CaptureReader, CaptureWriter
from speckle_lab.acquisition.datafile.testing import EXAMPLE_FIELDS, assert_rows_equal, example_metadata, synthetic_rows


def create(path: Path, n_planned: int) -> CaptureWriter:
    return CaptureWriter.create(
        path,
        speckle_shape=(32, 32),
        speckle_dtype=np.uint16,
        target_shape=(16, 16),
        frame_fields=EXAMPLE_FIELDS,
        metadata=example_metadata(n_planned),
    )


def rows(start: int, n: int):
    return synthetic_rows(start, n, speckle_shape=(32, 32), target_shape=(16, 16))


def check_stop_and_resume(path: Path, free_space) -> None:
    """Drive a writer into a full disk, then free space and resume in this same process."""
    with create(path, 600) as writer:
        writer.append_frames(rows(0, 64))
        free = free_space()
        with pytest.raises(OSError) as raised:
            for start in range(64, 600, 64):
                writer.append_frames(rows(start, min(64, 600 - start)))
        assert raised.value.errno == errno.ENOSPC and str(path) in str(raised.value)
        committed = writer.n_committed
        writer.log_event("write_error", str(raised.value), committed)  # the headroom kept for it
        writer.set_status("failed")
    with CaptureReader(path) as reader:
        assert reader.n_frames == committed >= 64 and reader.status == "failed"
        assert reader.events()[-1]["kind"] == "write_error"
        assert_rows_equal(reader.frames(), rows(0, committed))
    free()
    with CaptureWriter.open_for_resume(path) as writer:
        assert writer.n_committed == committed
        writer.append_frames(rows(committed, 600 - committed))
        writer.set_status("complete")
    with CaptureReader(path) as reader:
        assert reader.n_frames == 600 and reader.status == "complete"
        assert_rows_equal(reader.frames(), rows(0, 600))


def test_a_real_full_disk(tiny_fs: Path) -> None:
    filler: list[Path] = []

    def fill_disk():
        filler.append(fill(tiny_fs))
        return lambda: filler[0].unlink()

    check_stop_and_resume(tiny_fs / "night.h5", fill_disk)


def test_a_full_disk_where_fallocate_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without root: the reservation is refused as a full file system refuses it."""
    real = space._call_fallocate
    full = {"on": False}

    def fallocate(fd: int, mode: int, offset: int, length: int) -> None:
        if full["on"] and mode == space.FALLOC_FL_KEEP_SIZE and length > space.EVENT_HEADROOM_BYTES:
            raise OSError(errno.ENOSPC, "No space left on device")
        real(fd, mode, offset, length)

    monkeypatch.setattr(space, "_call_fallocate", fallocate)
    monkeypatch.setattr(space, "RESERVE_AHEAD_BYTES", 1)  # reserve no more than each block needs
    monkeypatch.setattr(space, "RESERVE_AHEAD_BLOCKS", 1)

    def fill_disk():
        full["on"] = True
        return lambda: full.update(on=False)

    check_stop_and_resume(tmp_path / "night.h5", fill_disk)
