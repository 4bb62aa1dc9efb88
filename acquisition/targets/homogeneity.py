"""How homogeneously a target set exercises a region of the DMD, and a transform that makes a set homogeneous.

Why (Zhang et al. 2025, "Physics-guided dataset homogeneity ..."): a net learns the inverse of the medium
only for the macropixels its training targets move. Digits leave the border of their box dark, so a digits net
has never seen those macropixels light up and fails on faces, which fill the box. The measure reads the
coverage maps of `diversity.CoverageAccumulator` over a region: the variance map says how strongly each
macropixel is exercised across the set, its evenness how equally.

The transform (`homogenise`) shrinks each image's content (its ink bounding box) and pastes it at a seeded
position that may run over the edges, the position drawn so that every macropixel of the box is covered with
the same probability: a box of width w whose left edge is uniform in [-w, L] covers each column of [0, L)
with probability w / (L + w). Gray levels come from the capture's placement gains.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from skimage.transform import resize

from speckle_lab.acquisition.targets.diversity import CoverageAccumulator

INK_THRESHOLD = 0.1
EXERCISED = 0.25  # a macropixel is exercised when its variance is at least this fraction of the region mean


def region_mask(side: int, region: tuple[int, int, int, int]) -> np.ndarray:
    top, left, height, width = region
    mask = np.zeros((side, side), dtype=bool)
    mask[top : top + height, left : left + width] = True
    return mask


def homogeneity(coverage: dict[str, Any], region: tuple[int, int, int, int] | None = None) -> dict[str, float]:
    """Numbers of a coverage result (`spatial_coverage` / `CoverageAccumulator.result`) over `region`
    (top, left, height, width; default the whole map):

    - `strength`: mean per-macropixel variance of the displayed level (0 = never changes; 0.25 = on/off half the time)
    - `evenness`: 5th percentile of the variance map over its mean, at most 1 (1: every macropixel as exercised
      as the average one; 0: some never move)
    - `exercised_fraction`: fraction of macropixels with variance >= 0.25 x the region mean
    - `homogeneity`: evenness x exercised_fraction, the one number the report compares."""
    variance = np.asarray(coverage["variance_map"], dtype=np.float64)
    mask = region_mask(variance.shape[0], region) if region is not None else np.ones(variance.shape, dtype=bool)
    values = variance[mask]
    mean = float(values.mean())
    if mean <= 0:
        return {"strength": 0.0, "evenness": 0.0, "exercised_fraction": 0.0, "homogeneity": 0.0}
    evenness = min(1.0, float(np.percentile(values, 5)) / mean)
    exercised = float(np.mean(values >= EXERCISED * mean))
    return {
        "strength": mean,
        "evenness": evenness,
        "exercised_fraction": exercised,
        "homogeneity": evenness * exercised,
    }


def homogeneity_of(macropixel_images: np.ndarray, region: tuple[int, int, int, int] | None = None) -> dict[str, float]:
    """`homogeneity` of DMD images `[frame, side, side]`."""
    accumulator = CoverageAccumulator()
    accumulator.update(macropixel_images)
    return homogeneity(accumulator.result(), region)


@dataclass(frozen=True)
class HomogeniseParams:
    scale: float  # content's longer side as a fraction of the box side
    row: float  # top-left of the pasted content, as a fraction of the box side (may be negative)
    col: float

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


HOMOGENISE_TAG = 0x40A
SCALE_RANGE = (0.4, 0.8)


def draw_homogenise(
    seed: int, base: int, copy: int, scale_range: tuple[float, float] = SCALE_RANGE
) -> HomogeniseParams:
    """Parameters from (seed, base, copy) alone: scale uniform in `scale_range`, position uniform in [-s, 1]
    (fractions of the box) in each direction, so every point of the box is equally often covered."""
    rng = np.random.default_rng([seed, HOMOGENISE_TAG, base, copy])
    s = float(rng.uniform(*scale_range))
    return HomogeniseParams(s, float(rng.uniform(-s, 1.0)), float(rng.uniform(-s, 1.0)))


def ink_box(image: np.ndarray, threshold: float = INK_THRESHOLD) -> np.ndarray:
    """The image cropped to the bounding box of its pixels above `threshold` (the whole image if none)."""
    rows, cols = np.nonzero(image > threshold)
    if len(rows) == 0:
        return image
    return image[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]


def homogenise(image: np.ndarray, params: HomogeniseParams) -> np.ndarray:
    """float32 image of the same shape: its ink box, scaled so its longer side is `scale` x the box side,
    pasted with its top-left at (row, col) x side, what falls outside cropped; dark elsewhere."""
    image = np.clip(np.asarray(image, dtype=np.float32), 0.0, 1.0)
    rows, cols = image.shape
    ink = ink_box(image)
    factor = params.scale * min(rows, cols) / max(ink.shape)
    h, w = max(1, round(ink.shape[0] * factor)), max(1, round(ink.shape[1] * factor))
    content = resize(ink, (h, w), order=1, mode="edge", anti_aliasing=True, preserve_range=True).astype(np.float32)
    out = np.zeros_like(image)
    top, left = int(np.floor(params.row * rows)), int(np.floor(params.col * cols))
    r0, c0 = max(top, 0), max(left, 0)
    r1, c1 = min(top + h, rows), min(left + w, cols)
    if r1 > r0 and c1 > c0:
        out[r0:r1, c0:c1] = content[r0 - top : r1 - top, c0 - left : c1 - left]
    return np.clip(out, 0.0, 1.0)
