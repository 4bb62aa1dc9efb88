"""Named phase boundaries of a capture and a resume, where the crash tests kill the process (SIGKILL).

Only for tests: `kill_point(name)` does nothing unless the environment variable `SPECKLE_LAB_KILL_AT` names
that very point (nobody sets it in production; it is read at each call so a test sets it per subprocess).
The names are listed in `CAPTURE_POINTS` / `RESUME_POINTS` so a test can go through every one of them.
"""

from __future__ import annotations

import os
import signal

ENV = "SPECKLE_LAB_KILL_AT"

#: In order. Writer points (created, layout, swmr) and scheduler points; a resume has its own prefix.
CAPTURE_POINTS = (
    "capture:created",  # the HDF5 file exists, nothing in it yet
    "capture:layout",  # groups, datasets and metadata written and flushed, SWMR not yet on
    "capture:swmr",  # SWMR on, writer lock held, no data
    "capture:darks",  # start darks committed, laser still off
    "capture:first_block",  # the first block of rows committed
    "capture:before_reference",  # the last block committed, its reference frame not yet taken
    "capture:references",  # the last reference frame committed
    "capture:end_darks",  # end darks committed, status not yet "complete"
    "capture:closing",  # status "complete" written, the file not yet closed
)
RESUME_POINTS = (
    "resume:locked",  # writer lock taken, crash flags not yet cleared
    "resume:flags_cleared",  # crash flags cleared, the file not yet reopened for writing
    "resume:opened",  # reopened read-write (non-SWMR), nothing changed yet
    "resume:truncated",  # untrusted rows dropped and status "running", SWMR not yet on
    "resume:swmr",  # SWMR on again, the "resumed" event committed
    "resume:first_block",  # the first new block committed
    "resume:end_darks",
    "resume:closing",
)


def kill_point(name: str) -> None:
    """SIGKILL this process here if the test environment asks for it; otherwise nothing."""
    if os.environ.get(ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)
