"""The model layer's error types (no torch import here, so the command line can name them cheaply).

`lab/cli.py` maps them to an exit code and one line; a model error is never dressed up as a plan error.
"""

from __future__ import annotations


class ModelError(Exception):
    """Training or evaluation cannot run on what it was given; the message names the input."""


class CheckpointError(ModelError):
    """A checkpoint file that cannot be used: missing, not ours, from a newer format, or incomplete."""


class ModelInputError(ModelError, ValueError):
    """Data, a run folder or a setting the model refuses (other data on resume, a changed learning rate,
    a speckle shape the net was not trained on, a device that is not there)."""
