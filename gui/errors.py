"""Turn an exception into what the operator reads in the window: what happened, and what to do about it.

Tracebacks go to the log (for the developers), never into the window.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from speckle_lab.acquisition.datafile import CaptureFileError
from speckle_lab.acquisition.plan import PlanError
from speckle_lab.acquisition.scheduler import CaptureError
from speckle_lab.acquisition.targets import TargetSpecError
from speckle_lab.lab.bench_session import DEVICE_ERRORS
from speckle_lab.lab.config_errors import BenchConfigError
from speckle_lab.lab.training_service import TrainingError

log = logging.getLogger(__name__)

DeviceDisconnected, DeviceError, DeviceTimeout, LaserFault, LaserOffFailed, OutOfRange = (
    DEVICE_ERRORS[k] for k in ("disconnected", "error", "timeout", "laser_fault", "laser_off_failed", "out_of_range")
)
ALARM_TITLE = "LASER ALARM: the laser could not be confirmed off"
ALARM_HINT = "Switch the laser off at its key switch or interlock now, then check its cable and power."


@dataclass(frozen=True)
class Problem:
    """One error as shown in the banner."""

    title: str
    detail: str
    hint: str

    def __str__(self) -> str:
        return f"{self.title}: {self.detail} — {self.hint}"


# Most specific first: the first matching class wins.
_ADVICE: list[tuple[type[BaseException], str, str]] = [
    (
        TargetSpecError,
        "The target source cannot be used",
        "Pick a source from the list (mnist, lfw, blobs, ...) or correct its path or options.",
    ),
    (PlanError, "The plan is not valid", "Correct the value named above and start again."),
    (
        CaptureFileError,
        "The data file cannot be used",
        "Choose another file, or check this one with `speckle-lab inspect FILE`.",
    ),
    (
        CaptureError,
        "The capture cannot run",
        "Choose a new output file (the ↻ button makes one), or resume the existing file with “Resume file…”.",
    ),
    (
        BenchConfigError,
        "The bench file is not valid",
        "Fix the bench file (see docs/bench.md), then restart with `speckle-lab gui --bench FILE`.",
    ),
    (LaserOffFailed, ALARM_TITLE, ALARM_HINT),  # shown as the alarm banner by the paths that know it (gui/*)
    (
        LaserFault,
        "The laser refuses to emit",
        "Close the interlock or clear the laser fault, then switch emission on again.",
    ),
    (OutOfRange, "The device refuses this value", "Enter a value inside the allowed range shown next to the field."),
    (
        DeviceTimeout,
        "A device did not answer in time",
        "Check its cable and power (and the camera's trigger wiring), then try again.",
    ),
    (
        DeviceDisconnected,
        "A device is disconnected",
        "Reconnect it and restart the panel; the laser has been switched off.",
    ),
    (DeviceError, "A device reported an error", "Check the device and try again; the laser has been switched off."),
    (
        TrainingError,
        "Training stopped with an error",
        "Check the data files and the training settings; the run folder keeps a training.log.",
    ),
    (
        OSError,
        "A file could not be read or written",
        "Check that the folder exists, is writable and that the disk has space.",
    ),
    (ValueError, "A value is not accepted", "Correct the value and try again."),
]


def describe(error: BaseException, doing: str = "") -> Problem:
    """What the window shows for `error`, raised while `doing` (e.g. "starting the capture")."""
    advice = next(((title, hint) for kind, title, hint in _ADVICE if isinstance(error, kind)), None)
    if advice is None:
        log.error("unexpected error while %s", doing or "working", exc_info=error)
        title = "Unexpected error"
        detail = f"{type(error).__name__}: {error}"
        hint = "This is a bug: the details are in the log. Save what you need and restart the panel."
    else:
        title, hint = advice
        if isinstance(error, OSError) and error.strerror:
            detail = f"{error.filename or ''}: {error.strerror}".lstrip(": ")
        else:
            detail = str(error) or type(error).__name__
    if doing:
        title = f"{title} ({doing})"
    return Problem(title, detail, hint)
