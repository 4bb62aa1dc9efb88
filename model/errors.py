"""The model layer's error types (no torch import here, so the command line can name them cheaply).

`lab/cli.py` maps them to an exit code and one line (lab/exit_codes.py): a refusal of what the model was given
(`ModelInputError`, `CheckpointError`) is exit 2, a run that failed on its own (`TrainingDiverged`) exit 1. What
the model raises as a built-in (ValueError, RuntimeError, ...) is a bug, not bad input: the command line lets
it through as a traceback (exit 1), never relabels it. A model error is never dressed up as a plan error.
"""

from __future__ import annotations


class ModelError(Exception):
    """Training or evaluation cannot run on what it was given; the message names the input."""


class CheckpointError(ModelError):
    """A checkpoint file that cannot be used: missing, not ours, from a newer format, or incomplete."""


class CheckpointWriteError(CheckpointError):
    """A checkpoint or another file of a run could not be written (a full disk, a folder made read-only): the
    system's failure, not the input's (exit 1, as an OSError); the previous file is kept whole."""


class ModelInputError(ModelError, ValueError):
    """Data, a run folder or a setting the model refuses (other data on resume, a changed learning rate,
    a speckle shape the net was not trained on, a device that is not there)."""


class TrainingDiverged(ModelError):
    """The loss (or the validation metrics) turned NaN or infinite: training stopped at once, and the run's
    checkpoints are those of the last finite epoch (none of the non-finite one is written)."""

    def __init__(self, message: str, epoch: int = 0, batch: int | None = None) -> None:
        super().__init__(message)
        self.epoch = epoch
        self.batch = batch
