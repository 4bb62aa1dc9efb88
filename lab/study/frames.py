"""Frames in the frame of the bench: each capture's speckle with the whole image the DMD showed, and the region
each frame's target was shown in.

Why: the optics invert to the DMD, not to a target window. A net that answers only in the target's own
window cannot tell where a target was shown, so a net trained at random positions could only output an average
digit, and a net trained in one region is asked for the target "in its window" wherever it was. Study nets
therefore reconstruct the whole active area (`side` x `side` macropixels), and are scored over the region each
frame was shown in; everywhere else the DMD was dark, which the net must also say.

The label is not a new field of the data file: the file stores the displayed target (the ground truth, exactly
what was shown) and its placement per frame (`placement_*`), and `acquisition.targets.place_block` regenerates
the DMD image from them exactly (docs/data-format.md, "The DMD image of a frame"). The active area's side comes
from the bench configuration the file records.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np

from speckle_lab.acquisition.datafile import CaptureReader
from speckle_lab.acquisition.targets import Placements, place_block


@dataclass(frozen=True)
class BenchFrames:
    """A capture's frames: speckle `[frame, H, W]` (camera counts), the stored target `[frame, h, w]`, the DMD
    image `[frame, side, side]` float32 in [0, 1] (the study's label) and the box each target was shown in,
    `[frame, 4]` int (top, left, height, width) in macropixels."""

    speckle: np.ndarray
    target: np.ndarray
    dmd: np.ndarray
    boxes: np.ndarray

    def __len__(self) -> int:
        return len(self.speckle)

    @property
    def side(self) -> int:
        return int(self.dmd.shape[-1])

    def take(self, rows: np.ndarray) -> BenchFrames:
        return BenchFrames(self.speckle[rows], self.target[rows], self.dmd[rows], self.boxes[rows])


def placement_columns() -> list[str]:
    """The per-frame columns a capture stores its placements in (`Placements.as_fields`)."""
    return [f"placement_{f.name}" for f in fields(Placements)]


def read_bench_frames(path: Path) -> BenchFrames:
    """Speckle, target, DMD images and shown boxes of a captured file."""
    with CaptureReader(path) as reader:
        rows = reader.frames()
        speckle, target = np.asarray(rows.speckle), np.asarray(rows.target, dtype=np.float32)
        placements = Placements.from_fields({name: reader.column(name) for name in placement_columns()})
        side = int(reader.bench["dmd"]["side_macropixels"])
        binary = reader.plan.get("display", "gray") != "gray"
    dmd = place_block(target, placements, None, side, binary=binary)
    boxes = np.stack([placements.top, placements.left, placements.height, placements.width], axis=1).astype(int)
    return BenchFrames(speckle, target, dmd, boxes)


def pcc_rows(pred: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """PCC per row of `[n, ...]` arrays: the trainer's metric (model.metrics.pcc; 0 where either is constant)."""
    import torch

    from speckle_lab.model.metrics import pcc

    a, b = (torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)) for x in (pred, truth))
    return pcc(a, b).numpy().astype(np.float64)


def region_pcc(pred: np.ndarray, truth: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """PCC of each whole-area reconstruction `[n, side, side]` with its DMD image over the box the target was
    shown in (`boxes` `[n, 4]`), one value per frame."""
    pred, truth = np.asarray(pred), np.asarray(truth)
    out = np.empty(len(pred), dtype=np.float64)
    unique, inverse = np.unique(np.asarray(boxes), axis=0, return_inverse=True)
    for k, (top, left, height, width) in enumerate(unique):
        rows = np.flatnonzero(inverse.ravel() == k)
        window = (rows, slice(top, top + height), slice(left, left + width))
        out[rows] = pcc_rows(pred[window], truth[window])
    return out
