"""The capture file: round trip of every dataset and metadata, NeXus classes, the commit counters, events,
refusing to overwrite, argument checks, the h5clear checksum, and the inspect summary."""

from __future__ import annotations

import json
import time
from pathlib import Path

import h5py
import numpy as np
import pytest

from speckle_lab.acquisition.datafile import (
    FORMAT,
    CaptureFileError,
    CaptureFileExistsError,
    CaptureReader,
    CaptureWriter,
    format_summary,
)
from speckle_lab.acquisition.datafile.checks import pearson, truncate_utf8
from speckle_lab.acquisition.datafile.testing import EXAMPLE_FIELDS, assert_rows_equal, example_metadata, synthetic_rows
from speckle_lab.acquisition.h5clear import clear_status_flags, lookup3, read_superblock
from speckle_lab.lab.cli import main


def create(path: Path, n_planned: int = 1000, **kwargs) -> CaptureWriter:
    return CaptureWriter.create(
        path,
        speckle_shape=(64, 64),
        speckle_dtype=np.uint16,
        target_shape=(32, 32),
        frame_fields=EXAMPLE_FIELDS,
        metadata=example_metadata(n_planned),
        **kwargs,
    )


@pytest.fixture
def written(tmp_path: Path) -> Path:
    """A complete small capture: darks at both ends, 300 rows in uneven blocks, references, events."""
    path = tmp_path / "run.h5"
    rng = np.random.default_rng(0)
    with create(path, n_planned=300) as writer:
        writer.append_dark(rng.integers(0, 50, (3, 64, 64), dtype=np.uint16), 1.7e9, "start")
        for start, stop in ((0, 100), (100, 250), (250, 300)):
            writer.append_frames(synthetic_rows(start, stop - start))
            reference = synthetic_rows(0, 1).speckle[0] + rng.integers(0, 20 * start + 1, (64, 64), dtype=np.uint16)
            writer.append_reference(reference, time.time(), stop)
        writer.append_dark(rng.integers(0, 50, (2, 64, 64), dtype=np.uint16), np.array([1.8e9, 1.8e9 + 1]), "end")
        writer.log_event("retry", "attempt 2 of rows 100..249", 100)
        writer.set_status("complete")
    return path


def test_round_trip_of_every_dataset_and_metadata(written: Path) -> None:
    expected_metadata = example_metadata(300)
    with CaptureReader(written) as reader:
        assert (reader.n_frames, reader.n_planned, reader.status) == (300, 300, "complete")
        assert reader.speckle_shape == (64, 64) and reader.speckle_dtype == np.uint16
        assert reader.target_shape == (32, 32)
        assert reader.frame_fields == tuple(EXAMPLE_FIELDS)
        assert reader.frame_field_dtypes() == EXAMPLE_FIELDS
        assert_rows_equal(reader.frames(), synthetic_rows(0, 300))
        assert_rows_equal(reader.frames(120, 130), synthetic_rows(120, 10))
        assert_rows_equal(reader.frames(-5), synthetic_rows(295, 5))
        np.testing.assert_array_equal(reader.speckle(7), synthetic_rows(7, 1).speckle[0])
        np.testing.assert_array_equal(reader.target([9, 3, 9]), synthetic_rows(0, 10).target[[9, 3, 9]])
        np.testing.assert_array_equal(reader.speckle(slice(10, 20, 3)), synthetic_rows(0, 20).speckle[10:20:3])
        np.testing.assert_array_equal(reader.column("frame_id", slice(0, 3)), [1000, 1001, 1002])
        with pytest.raises(IndexError, match="300 committed rows"):
            reader.speckle(300)

        dark, dark_times, phase = reader.dark()
        assert dark.shape == (5, 64, 64) and dark.dtype == np.uint16
        assert list(phase) == ["start"] * 3 + ["end"] * 2
        np.testing.assert_array_equal(dark_times, [1.7e9] * 3 + [1.8e9, 1.8e9 + 1])

        ref, ref_times, after_row, correlation = reader.references()
        assert ref.shape == (3, 64, 64) and list(after_row) == [100, 250, 300] and len(ref_times) == 3
        assert correlation[0] == 1.0 and 0.0 < correlation[-1] < correlation[1] < 1.0
        assert correlation[2] == pytest.approx(pearson(ref[0], ref[2]))

        for name in ("plan", "bench", "devices", "medium", "target_stats", "run_id", "software_version"):
            assert getattr(reader, name) == getattr(expected_metadata, name) or name == "run_id"
        assert len(reader.run_id) == 32 and reader.metadata.n_planned == 300
        provenance = reader.provenance()
        assert provenance["software_version"] == reader.software_version
        assert provenance["hdf5_version"] == h5py.version.hdf5_version


def test_nexus_classes_and_format_attributes(written: Path) -> None:
    with h5py.File(written, "r") as f:
        assert f.attrs["NX_class"] == "NXroot" and f.attrs["default"] == "entry"
        assert f["entry"].attrs["NX_class"] == "NXentry"
        assert f["entry"].attrs["speckle_lab_format"] == FORMAT
        assert f["entry/frames"].attrs["NX_class"] == "NXdata"
        assert f["entry/frames"].attrs["signal"] == "speckle"
        for group in ("events", "plan", "provenance"):
            assert f[f"entry/{group}"].attrs["NX_class"] == "NXcollection"
        for group in ("dark", "reference"):  # plottable stacks (tests/acquisition/test_nexus_readers.py)
            assert f[f"entry/{group}"].attrs["NX_class"] == "NXdata"
        assert f["entry/instrument"].attrs["NX_class"] == "NXinstrument"
        assert json.loads(f["entry/instrument/bench"].asstr()[()]) == example_metadata(1).bench
        assert f["entry/frames/speckle"].maxshape == (None, 64, 64)
        chunk_bytes = np.prod(f["entry/frames/speckle"].chunks) * 2
        assert 512 * 1024 <= chunk_bytes <= 4 * 1024 * 1024
        assert f["entry/frames/timestamp"].attrs["units"] == "s"


def test_big_frames_are_split_into_chunks_of_at_most_4_mib(tmp_path: Path) -> None:
    metadata = example_metadata(2)
    with CaptureWriter.create(
        tmp_path / "big.h5",
        speckle_shape=(2048, 2048),
        speckle_dtype=np.uint16,
        target_shape=(8, 8),
        frame_fields={},
        metadata=metadata,
    ) as writer:
        chunks = writer._file["entry/frames/speckle"].chunks
    assert chunks == (1, 1024, 2048)


def test_readers_see_only_committed_rows(tmp_path: Path) -> None:
    """Data beyond `committed` (a block a crash interrupted) is invisible; the counter lags the data."""
    path = tmp_path / "run.h5"
    with create(path) as writer:
        writer.append_frames(synthetic_rows(0, 40))
    with h5py.File(path, "r+") as f:  # simulate a writer that resized and wrote a block but died before committing
        for name in ("speckle", "target", "target_index", "timestamp", "frame_id", *EXAMPLE_FIELDS):
            f[f"entry/frames/{name}"].resize(60, axis=0)
        assert f["entry/frames/committed"][()] == 40
    with CaptureReader(path) as reader:
        assert reader.n_frames == 40
        assert len(reader.frames().speckle) == 40
        assert len(reader.column("frame_id")) == 40
    with h5py.File(path, "r+") as f:  # and a counter ahead of a dataset (never written so) cannot overrun it
        f["entry/frames/committed"][()] = 1000
    with CaptureReader(path) as reader:
        assert reader.n_frames == 60


def test_writer_counts_and_plan_limit(tmp_path: Path) -> None:
    with create(tmp_path / "run.h5", n_planned=10) as writer:
        assert (writer.n_committed, writer.n_planned) == (0, 10)
        writer.append_frames(synthetic_rows(0, 6))
        assert writer.n_committed == 6
        with pytest.raises(ValueError, match="exceed the plan's 10 rows"):
            writer.append_frames(synthetic_rows(6, 5))
        writer.append_frames(synthetic_rows(6, 4))
        assert writer.n_committed == 10
        assert writer.metadata.plan == example_metadata(10).plan
    with pytest.raises(ValueError, match="closed"):
        writer.append_frames(synthetic_rows(10, 1))
    writer.close()  # twice is fine


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda r: setattr(r, "speckle", r.speckle[:, :32]),
            r"speckle has shape \(4, 32, 64\); expected \(4, 64, 64\)",
        ),
        (lambda r: setattr(r, "speckle", r.speckle.astype(np.int64)), "expected the camera's uint16"),
        (lambda r: setattr(r, "target", r.target * 2), r"target values must be in \[0, 1\]"),
        (lambda r: setattr(r, "target", np.full((4, 32, 32), np.nan, np.float32)), r"in \[0, 1\]"),
        (lambda r: setattr(r, "target", (r.target > 0.5).astype(np.uint8)), "expected float32"),
        (lambda r: setattr(r, "frame_id", r.frame_id[:3]), r"frame_id has shape \(3,\); expected \(4,\)"),
        (lambda r: setattr(r, "target_index", r.target_index.astype(np.float64)), "target_index has dtype float64"),
        (lambda r: r.fields.pop("exposure_us"), r"missing \['exposure_us'\]"),
        (lambda r: r.fields.update(extra=np.zeros(4)), r"unexpected \['extra'\]"),
    ],
)
def test_append_checks_shapes_and_dtypes(tmp_path: Path, change, message: str) -> None:
    rows = synthetic_rows(0, 4)
    change(rows)
    with create(tmp_path / "run.h5") as writer:
        with pytest.raises(ValueError, match=message):
            writer.append_frames(rows)
        assert writer.n_committed == 0
        writer.append_frames(synthetic_rows(0, 4))  # a refused block leaves the writer usable
        assert writer.n_committed == 4


def test_create_checks_its_arguments(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="integer dtype"):
        CaptureWriter.create(
            tmp_path / "a.h5",
            speckle_shape=(8, 8),
            speckle_dtype=np.float32,
            target_shape=(4, 4),
            frame_fields={},
            metadata=example_metadata(1),
        )
    with pytest.raises(ValueError, match="reserved"):
        CaptureWriter.create(
            tmp_path / "b.h5",
            speckle_shape=(8, 8),
            speckle_dtype=np.uint8,
            target_shape=(4, 4),
            frame_fields={"frame_id": np.int64},
            metadata=example_metadata(1),
        )
    assert not (tmp_path / "a.h5").exists() and not (tmp_path / "b.h5").exists()


def test_overwrite_is_refused_unless_asked(written: Path) -> None:
    before = written.read_bytes()
    with pytest.raises(CaptureFileExistsError, match="refusing to overwrite"):
        create(written)
    assert written.read_bytes() == before
    with create(written, n_planned=5, overwrite=True) as writer:
        assert writer.n_committed == 0
    with CaptureReader(written) as reader:
        assert (reader.n_frames, reader.n_planned) == (0, 5)


def test_cannot_overwrite_a_file_being_written(tmp_path: Path) -> None:
    path = tmp_path / "run.h5"
    with create(path), pytest.raises(CaptureFileError, match="another process is writing"):
        create(path, overwrite=True)


def test_event_log_round_trip_with_long_and_unicode_messages(tmp_path: Path) -> None:
    path = tmp_path / "run.h5"
    long_unicode = "température dépassée ⚠ 激光 " * 20  # far more than 256 bytes, multi-byte characters
    with create(path) as writer:
        writer.log_event("camera_timeout", "no frame within 2.0 s", 12)
        writer.log_event("laser_fault", long_unicode)
        writer.log_event("write_error", "nul\0inside")
        with pytest.raises(ValueError, match="event kind"):
            writer.log_event("k" * 25, "too long a kind")
    with CaptureReader(path) as reader:
        events = reader.events()
    assert [e["kind"] for e in events] == ["camera_timeout", "laser_fault", "write_error"]
    assert events[0]["row"] == 12 and events[0]["message"] == "no frame within 2.0 s"
    assert events[1]["row"] == -1
    assert long_unicode.startswith(events[1]["message"]) and len(events[1]["message"].encode()) <= 256
    assert len(events[1]["message"].encode()) > 250
    assert events[2]["message"] == "nulinside"
    assert all(abs(e["time_s"] - time.time()) < 60 for e in events)


def test_truncate_utf8_never_splits_a_character() -> None:
    for n in range(1, 12):
        cut = truncate_utf8("ééé€€€", n)
        assert len(cut) <= n
        cut.decode("utf-8")  # never raises


def test_status_values(tmp_path: Path) -> None:
    path = tmp_path / "run.h5"
    with create(path) as writer:
        assert writer.status == "running"
        with pytest.raises(ValueError, match="status must be one of"):
            writer.set_status("done")
        writer.set_status("aborted")
    with CaptureReader(path) as reader:
        assert reader.status == "aborted"


def test_dark_phase_is_checked(tmp_path: Path) -> None:
    with create(tmp_path / "run.h5") as writer:
        with pytest.raises(ValueError, match="dark phase"):
            writer.append_dark(np.zeros((1, 64, 64), np.uint16), 0.0, "middle")
        writer.append_dark(np.zeros((64, 64), np.uint16), 0.0, "start")  # one 2-D frame is fine
        assert writer.n_dark == 1


def test_lookup3_matches_known_values_and_the_stored_superblock_checksum(written: Path, tmp_path: Path) -> None:
    assert lookup3(b"") == 0xDEADBEEF
    assert lookup3(b"Four score and seven years ago") == 0x17770551  # lookup3.c's own self-test
    assert lookup3(b"Four score and seven years ago", 1) == 0xCD628161
    with create(tmp_path / "fresh.h5"):
        live = read_superblock(tmp_path / "fresh.h5")
    for block in (live, read_superblock(written)):
        assert block.version in (2, 3) and block.checksum_ok
    assert live.flags != 0  # open for (SWMR) write while the writer was alive
    assert read_superblock(written).flags == 0  # cleared by a clean close


def test_clear_status_flags_rewrites_a_valid_checksum(written: Path) -> None:
    with open(written, "r+b") as handle:  # set the flags the way a dead SWMR writer leaves them
        block = read_superblock(written)
        raw = bytearray(block.raw[:-4])
        raw[11] = 0x05
        handle.seek(block.offset)
        handle.write(bytes(raw) + lookup3(bytes(raw)).to_bytes(4, "little"))
    with pytest.raises(OSError, match="already open for write"):
        h5py.File(written, "r+")
    assert clear_status_flags(written) is True
    block = read_superblock(written)
    assert block.flags == 0 and block.checksum_ok
    with h5py.File(written, "r+") as f:
        assert f["entry/frames/committed"][()] == 300
    assert clear_status_flags(written) is False


def test_summary_and_inspect(written: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with CaptureReader(written) as reader:
        summary = reader.summary()
    assert summary["frames"]["committed"] == 300 and summary["frames"]["missing"] == 0
    assert summary["frames"]["speckle_dtype"] == "uint16" and summary["frames"]["fields"]["placement_top"] == "int32"
    assert summary["status"] == "complete" and not summary["interrupted"]
    assert summary["dark"] == {"count": 5, "start": 3, "end": 2}
    assert summary["reference"]["count"] == 3
    assert summary["reference"]["correlation_min"] == pytest.approx(min(summary["reference"]["correlations"]))
    assert summary["events"]["retries"] == 1 and summary["events"]["by_kind"] == {"retry": 1}
    assert summary["frame_ids"]["gaps"] == 0
    assert summary["medium"]["seed"] == 11 and summary["file_size_bytes"] == written.stat().st_size
    json.dumps(summary)  # JSON-ready as it is
    text = format_summary(summary)
    assert "300 of 300 committed" in text and "64x64 uint16" in text and "1 retry" in text

    assert main(["inspect", str(written), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["run_id"] == summary["run_id"]
    assert main(["inspect", str(written)]) == 0
    assert "correlation with the first" in capsys.readouterr().out
    assert main(["inspect", str(written.with_name("missing.h5"))]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "missing.h5: no such file" in err


def test_summary_reports_frame_id_gaps(tmp_path: Path) -> None:
    path = tmp_path / "run.h5"
    with create(path) as writer:
        rows = synthetic_rows(0, 20)
        rows.frame_id[10:] += 3  # three frames the camera made that are not rows
        rows.frame_id[15:] -= 1000  # a counter restart
        writer.append_frames(rows)
    with CaptureReader(path) as reader:
        ids = reader.summary()["frame_ids"]
    assert (ids["gaps"], ids["frames_skipped"], ids["resets"]) == (1, 3, 1)
    assert ids["first_gaps"] == [{"row": 10, "frame_id_before": 1009, "frame_id": 1013}]


def test_reader_in_the_writers_process_follows_every_block(tmp_path: Path) -> None:
    """The GUI reads the file its own capture thread writes: same process, same HDF5 library."""
    path = tmp_path / "run.h5"
    with create(path, n_planned=600) as writer, CaptureReader(path) as reader:
        for start in range(0, 600, 60):
            writer.append_frames(synthetic_rows(start, 60))
            if start % 180 == 0:
                writer.append_reference(synthetic_rows(0, 1).speckle[0], 0.0, start + 60)
            assert reader.n_frames == start  # nothing new until refresh()
            reader.refresh()
            assert reader.n_frames == start + 60 and reader.writer_active
            low = max(0, start - 10)
            assert_rows_equal(reader.frames(low), synthetic_rows(low, start + 60 - low))
        assert reader.n_references == 4


def test_reader_indexing(written: Path) -> None:
    expected = synthetic_rows(0, 300).speckle
    with CaptureReader(written) as reader:
        np.testing.assert_array_equal(reader.speckle(slice(None, None, -50)), expected[::-50])
        np.testing.assert_array_equal(reader.speckle(-1), expected[-1])
        np.testing.assert_array_equal(reader.speckle(np.array([299, 0, -300])), expected[[299, 0, 0]])
        assert reader.speckle(slice(400, 500)).shape == (0, 64, 64)
        assert len(reader.frames(250, 1000).speckle) == 50
        with pytest.raises(IndexError):
            reader.speckle([0, 300])
