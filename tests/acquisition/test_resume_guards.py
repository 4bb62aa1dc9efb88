"""Nothing deletes a file being written; a resume names the file and the reason when it cannot proceed."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from capture_helpers import write_small_bench_toml

from speckle_lab.acquisition.control import CaptureControl
from speckle_lab.acquisition.datafile import CaptureFileError, CaptureReader, CaptureWriter
from speckle_lab.acquisition.datafile.testing import EXAMPLE_FIELDS, example_metadata, synthetic_rows
from speckle_lab.acquisition.plan import plan_from_dict
from speckle_lab.lab.bench import Bench
from speckle_lab.lab.capture_service import make_run, resume_file, run_plan

PLAN = {"targets": "blobs", "n_frames": 64, "target_rows": 16, "target_cols": 16, "block_frames": 16}


def test_overwrite_never_deletes_a_file_being_written(tmp_path: Path) -> None:
    out = tmp_path / "night.h5"
    writer = CaptureWriter.create(
        out, speckle_shape=(64, 64), speckle_dtype=np.uint16, target_shape=(32, 32),
        frame_fields=EXAMPLE_FIELDS, metadata=example_metadata(64),
    )  # fmt: skip
    with writer:
        writer.append_frames(synthetic_rows(0, 16))
        bench = write_small_bench_toml(tmp_path / "bench.toml")
        with pytest.raises(CaptureFileError, match="another process is writing"):
            run_plan(plan_from_dict(PLAN, "test"), out, bench, overwrite=True)
        writer.append_frames(synthetic_rows(16, 16))  # the first capture goes on, its file intact
    with CaptureReader(out) as reader:
        assert reader.n_frames == 32


def test_overwrite_of_a_finished_file_goes_through_the_writer(tmp_path: Path, small_bench: Bench) -> None:
    out = tmp_path / "run.h5"
    plan = plan_from_dict(PLAN, "test")
    assert make_run(plan, small_bench, out).run().ok
    with CaptureReader(out) as reader:
        first_run = reader.run_id
    assert make_run(plan, small_bench, out, overwrite=True).run().ok
    with CaptureReader(out) as reader:
        assert reader.run_id != first_run and reader.n_frames == 64


@pytest.mark.parametrize("swmr", [False, True], ids=["plain-reader", "swmr-reader"])
def test_resume_of_a_file_another_program_holds_open_names_it(tmp_path: Path, small_bench: Bench, swmr: bool) -> None:
    """A reader holds HDF5's file lock whether it opened the file with swmr=True (as docs/data-format.md
    tells users to) or not: the refusal says so, and names the process, instead of blaming a missing SWMR."""
    out = tmp_path / "run.h5"
    control = CaptureControl()
    control.abort("stopped for the test")  # aborted at once: a resumable file
    make_run(plan_from_dict(PLAN, "test"), small_bench, out, control=control).run()
    holder = subprocess.Popen(  # a viewer or a notebook that opened it
        [sys.executable, "-c", f"import h5py, time; f = h5py.File({str(out)!r}, 'r', swmr={swmr}); "
         "print('open', flush=True); time.sleep(60)"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "open"
        with pytest.raises(CaptureFileError, match="another process has it open for reading") as refused:
            resume_file(out)
        message = str(refused.value)
        assert str(out) in message and "errno" not in message and "\n" not in message
        assert f"pid {holder.pid}" in message and "with swmr=True or without" in message
        assert "without SWMR" not in message
    finally:
        holder.kill()
        holder.wait()
    time.sleep(0.05)
    assert resume_file(out).ok  # once it is closed, the resume works
