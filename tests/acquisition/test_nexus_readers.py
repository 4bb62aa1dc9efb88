"""The capture file through the NeXus readers a lab uses: silx (what its viewer plots) and nexusformat.

A finished simulated capture: both find the speckle stack as the default plottable data with its frame axis
and units, the dark and reference stacks plot too, and the instrument's devices are NeXus groups. A file being
written: h5py and silx read it with SWMR; nexusformat cannot open it (documented in docs/data-format.md).
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import h5py
import numpy as np
import pytest

from speckle_lab.acquisition.control import CaptureControl
from speckle_lab.acquisition.datafile import STATUSES, CaptureReader, CaptureWriter
from speckle_lab.acquisition.datafile.layout import units_for
from speckle_lab.acquisition.datafile.testing import EXAMPLE_FIELDS, example_metadata
from speckle_lab.acquisition.plan import CapturePlan
from speckle_lab.acquisition.scheduler import CaptureProgress
from speckle_lab.lab.bench import Bench
from speckle_lab.lab.capture_service import make_run

silx_nxdata = pytest.importorskip("silx.io.nxdata")
nexus = pytest.importorskip("nexusformat.nexus")

DOCS = Path(__file__).resolve().parents[2] / "docs" / "data-format.md"
PLAN = {
    "targets": "blobs",
    "n_frames": 64,
    "target_rows": 16,
    "target_cols": 16,
    "block_frames": 32,
    "reference_every": 32,
    "dark_frames": 2,
    "read_timeout_s": 0.5,
}


@pytest.fixture
def captured(small_bench: Bench, tmp_path: Path) -> Path:
    path = tmp_path / "run.h5"
    result = make_run(CapturePlan.model_validate(PLAN), small_bench, path).run()
    assert result.ok, result.message
    return path


def test_silx_plots_frames_dark_and_reference_with_axes(captured: Path) -> None:
    with h5py.File(captured, "r") as f:
        default = silx_nxdata.get_default(f)
        assert default is not None and default.is_valid and default.group.name == "/entry/frames"
        assert default.signal_is_3d and default.interpretation == "image"
        assert default.signal.shape == (64, 32, 32) and default.signal.attrs["units"] == "counts"
        assert default.axes_dataset_names == ["frame_id", None, None]
        assert np.array_equal(default.axes[0][()], f["entry/frames/frame_id"][()])
        for group in ("dark", "reference"):
            stack = silx_nxdata.NXdata(f[f"entry/{group}"])
            assert stack.is_valid and stack.signal_is_3d, group
            assert stack.axes_dataset_names == ["timestamp", None, None]
            assert stack.axes[0].attrs["units"] == "s" and stack.signal.attrs["units"] == "counts"
        assert len(f["entry/dark/speckle"]) == 4 and len(f["entry/reference/speckle"]) == 2


def test_nexusformat_finds_signal_axes_units_and_the_instrument(captured: Path) -> None:
    root = nexus.nxload(str(captured))
    plottable = root.plottable_data
    assert plottable.nxpath == "/entry/frames" and plottable.nxsignal.nxname == "speckle"
    assert plottable.nxaxes[0].nxname == "frame_id"
    assert plottable.nxsignal.attrs["units"] == "counts"
    assert root.entry.dark.nxsignal.shape == (4, 32, 32)
    assert root.entry.reference.nxaxes[0].nxname == "timestamp"
    instrument = root.entry.instrument
    assert instrument.laser.nxclass == "NXsource" and instrument.laser.type == "Optical Laser"
    assert instrument.laser.power.attrs["units"] == "W" and float(instrument.laser.power) == pytest.approx(0.05)
    assert instrument.laser.wavelength_nm.attrs["units"] == "nm"
    assert instrument.camera.nxclass == "NXdetector"
    assert float(instrument.camera.count_time) == pytest.approx(40e-6)
    assert instrument.camera.count_time.attrs["units"] == "s"
    assert instrument.dmd.nxclass == "NXcollection" and int(instrument.dmd.side_macropixels) == 24
    assert root.entry.sample.nxclass == "NXsample" and str(root.entry.sample.name) == "transmission_matrix"
    assert "simulated bench" in str(root.entry.title)
    start = datetime.fromisoformat(str(root.entry.start_time))
    end = datetime.fromisoformat(str(root.entry.end_time))
    assert start <= end


def test_every_unit_suffixed_quantity_carries_its_units(captured: Path) -> None:
    missing: list[str] = []

    def visit(name: str, item: h5py.HLObject) -> None:
        unit = units_for(name.rsplit("/", 1)[-1])
        numeric = isinstance(item, h5py.Dataset) and item.dtype.kind in "iuf"
        if numeric and unit is not None and item.attrs.get("units") != unit:
            missing.append(f"{name}: {item.attrs.get('units')!r} != {unit!r}")

    with h5py.File(captured, "r") as f:
        f.visititems(visit)
        assert f["entry/frames/exposure_us"].attrs["units"] == "us"
        assert f["entry/frames/laser_power_w"].attrs["units"] == "W"
    assert missing == []


def test_end_time_is_stamped_at_the_end_and_cleared_on_resume(tmp_path: Path) -> None:
    path = tmp_path / "run.h5"
    with CaptureWriter.create(
        path,
        speckle_shape=(16, 16),
        speckle_dtype=np.uint16,
        target_shape=(8, 8),
        frame_fields=EXAMPLE_FIELDS,
        metadata=example_metadata(10),
    ) as writer:
        assert writer._file["entry/end_time"][()] == b""
        writer.set_status("aborted")
    with h5py.File(path, "r") as f:
        ended = datetime.fromisoformat(f["entry/end_time"][()].decode())
    with CaptureWriter.open_for_resume(path) as writer:
        assert writer._file["entry/end_time"][()] == b""  # running again: no end yet
        writer.set_status("complete")
    with h5py.File(path, "r") as f:
        assert datetime.fromisoformat(f["entry/end_time"][()].decode()) >= ended


def test_ctrl_c_is_written_as_aborted_and_the_docs_say_so(small_bench: Bench, tmp_path: Path) -> None:
    """The CLI's Ctrl-C handler calls control.abort("interrupted by Ctrl-C"): the file says `aborted`."""
    control = CaptureControl()

    def ctrl_c_after_first_block(progress: CaptureProgress) -> None:
        if progress.rows_done >= 32:
            control.abort("interrupted by Ctrl-C")

    path = tmp_path / "run.h5"
    plan = CapturePlan.model_validate({**PLAN, "n_frames": 128})
    result = make_run(plan, small_bench, path, control=control, on_progress=ctrl_c_after_first_block).run()
    assert result.status == "aborted"
    with CaptureReader(path) as reader:
        assert reader.status == "aborted"
        assert any(e["kind"] == "aborted" and "Ctrl-C" in e["message"] for e in reader.events())
    documented = re.search(r"status\s+scalar S16: ([a-z |]+)", DOCS.read_text())
    assert documented is not None
    assert tuple(part.strip() for part in documented.group(1).split("|")) == STATUSES


@pytest.fixture
def live_file(tmp_path: Path) -> Iterator[Path]:
    """A capture being written by another process (SWMR), rows appearing every 50 ms."""
    path = tmp_path / "live.h5"
    command = [
        sys.executable,
        "-m",
        "speckle_lab.acquisition.datafile.testing",
        str(path),
        "100000",
        "16",
        "new",
        "0.05",
    ]
    writer = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        for _ in range(3):  # created, then two blocks committed
            assert writer.stdout is not None and writer.stdout.readline().startswith("committed")
        yield path
    finally:
        writer.kill()
        writer.wait()


def test_a_file_being_written_h5py_and_silx_read_it_nexusformat_cannot(live_file: Path) -> None:
    with h5py.File(live_file, "r", swmr=True) as f:
        default = silx_nxdata.get_default(f)
        assert default is not None and default.is_valid and default.signal.shape[0] >= 16
        first = f["entry/frames/committed"][()]
        assert f["entry/status"][()] == b"running" and f["entry/end_time"][()] == b""
        deadline = time.monotonic() + 5
        while f["entry/frames/committed"][()] == first and time.monotonic() < deadline:
            time.sleep(0.05)
            f["entry/frames/committed"].refresh()
        assert f["entry/frames/committed"][()] > first  # rows keep arriving while we read
    with pytest.raises(Exception, match="already open for write"):  # nexusformat opens without SWMR
        nexus.nxload(str(live_file))
