"""Processes racing to create one capture file: exactly one writes it, every other is refused in one line, and
the file is the winner's, whole. The writer lock is taken before HDF5 creates or truncates anything (before,
two `capture --out X --overwrite` on a new path both failed in 6 of 14 trials, one with a traceback, and left
a damaged file)."""

from __future__ import annotations

import multiprocessing as mp
import time
from pathlib import Path

import numpy as np
import pytest

from speckle_lab.acquisition.datafile import CaptureFileError, CaptureReader, CaptureWriter
from speckle_lab.acquisition.datafile.testing import EXAMPLE_FIELDS, example_metadata, synthetic_rows

RACERS = 3
TRIALS = 4
ROWS = 32


def _racer(path: str, overwrite: bool, start, attempted, results) -> None:
    """Create `path` the moment every racer is ready; the winner keeps the file open (and locked) until every
    racer has tried, so the race is real even on a loaded machine, then writes its rows and completes it."""
    start.wait(timeout=30)
    try:
        writer = CaptureWriter.create(
            path, speckle_shape=(64, 64), speckle_dtype=np.uint16, target_shape=(32, 32),
            frame_fields=EXAMPLE_FIELDS, metadata=example_metadata(ROWS), overwrite=overwrite,
        )  # fmt: skip
    except CaptureFileError as error:
        with attempted.get_lock():
            attempted.value += 1
        results.put(("refused", str(error)))
        return
    except BaseException as error:  # anything else is the bug this test is about
        with attempted.get_lock():
            attempted.value += 1
        results.put(("crashed", f"{type(error).__name__}: {error}"))
        raise
    with attempted.get_lock():
        attempted.value += 1
    with writer:
        for _ in range(300):  # until the others have tried (at most 30 s)
            if attempted.value >= RACERS:
                break
            time.sleep(0.1)
        writer.append_frames(synthetic_rows(0, ROWS))
        writer.set_status("complete")
    results.put(("won", ""))


@pytest.mark.parametrize("overwrite", [True, False], ids=["overwrite", "new"])
def test_racing_creates_one_winner_and_one_line_refusals(tmp_path: Path, overwrite: bool) -> None:
    context = mp.get_context("fork")
    for trial in range(TRIALS):
        path = tmp_path / f"race{trial}.h5"
        start, attempted, results = context.Barrier(RACERS), context.Value("i", 0), context.Queue()
        racers = [
            context.Process(target=_racer, args=(str(path), overwrite, start, attempted, results))
            for _ in range(RACERS)
        ]
        for racer in racers:
            racer.start()
        outcomes = [results.get(timeout=60) for _ in racers]
        for racer in racers:
            racer.join(timeout=30)
        kinds = sorted(kind for kind, _ in outcomes)
        assert kinds == ["refused"] * (RACERS - 1) + ["won"], f"trial {trial}: {outcomes}"
        for kind, message in outcomes:
            if kind == "refused":
                assert "\n" not in message and str(path) in message, message
                assert "another process is writing this capture" in message or "refusing to overwrite" in message
        with CaptureReader(path) as reader:  # the winner's file, whole
            assert reader.status == "complete" and reader.n_frames == ROWS
