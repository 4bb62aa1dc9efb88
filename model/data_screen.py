"""Data a net cannot learn from, said before training or evaluation starts: a capture whose targets are all
black, or whose speckle holds no light (a capture at 0 W, a closed shutter). Training on it "works" (finite
losses, checkpoints, exit 0) and means nothing, so each is one warning naming the file.

A sample of evenly spaced frames is enough (the whole file is read by training anyway): all-zero targets in
every sampled row, or speckle whose mean stands less than one dark-noise standard deviation above the file's
own dark frames (no dark frames: speckle with no variation at all).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from speckle_lab.acquisition.datafile import CaptureReader

logger = logging.getLogger(__name__)

SAMPLE_FRAMES = 64


def unlearnable_reasons(reader: CaptureReader, name: str, sample: int = SAMPLE_FRAMES) -> list[str]:
    """One line per reason the frames of `reader` (a `CaptureReader`) cannot teach a net; empty when none."""
    n = int(reader.n_frames)
    if n == 0:
        return []
    rows = np.unique(np.linspace(0, n - 1, min(n, sample)).round().astype(np.int64))
    targets = np.asarray(reader.target(rows), dtype=np.float64)
    speckle = np.asarray(reader.speckle(rows), dtype=np.float64)
    reasons = []
    if not np.any(targets):
        reasons.append(
            f"{name}: the {len(rows)} targets sampled from its {n} frames are all zero (black): "
            "a net trained on them learns to output black"
        )
    dark = np.asarray(reader.dark()[0], dtype=np.float64)
    if len(dark):
        dark_mean, dark_noise = float(dark.mean()), float(dark.std())
        if float(speckle.mean()) - dark_mean <= max(dark_noise, 1e-9):
            reasons.append(
                f"{name}: the speckle is dark: its mean {speckle.mean():.1f} DN is within the noise of the dark "
                f"frames ({dark_mean:.1f} +- {dark_noise:.1f} DN): no light reached the camera (laser power 0?)"
            )
    elif float(speckle.std()) == 0.0:
        reasons.append(f"{name}: every sampled speckle pixel reads {speckle.flat[0]:g}: the frames hold no image")
    return reasons


def warn_if_unlearnable(reader: CaptureReader, name: str) -> list[str]:
    """Log each reason (WARNING: on the console by default) and return them."""
    reasons = unlearnable_reasons(reader, name)
    for reason in reasons:
        logger.warning(reason)
    return reasons
