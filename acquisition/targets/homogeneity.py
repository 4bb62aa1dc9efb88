"""How homogeneously a target set exercises a region of the DMD, and a transform that makes a set homogeneous.

Why (Zhang et al. 2025, "Physics-guided dataset homogeneity ..."): a net learns the inverse of the medium
only for the macropixels its training targets move, and only as well as they move them ("every point of the
region of interest equally and sufficiently trained"). Digits leave the border of their box dark, so a digits
net has never seen those macropixels light up and fails on faces, which fill the box. The measure reads the
coverage maps of `diversity.CoverageAccumulator` over a region: the variance map says how strongly each
macropixel is exercised across the set; the score is the variance the least exercised macropixels still get,
so a set that is even but weak (mostly dark frames) scores low, as one that is strong but leaves a border dark.

The transform (`homogenise`) keeps the character (it is never cut to pieces): the digit's ink box, scaled so
its longer side is a seeded 0.7-1 of the box, at a seeded position where at most `OVERHANG` (15 %) of its
height and width fall outside the box. The position is drawn from Beta(1/2, 1/2), which favours the edges: the
ink box's own border holds little ink, so a character confined to the box, at uniform positions, leaves the
box's outer ring nearly dark (measured on 800 bundled MNIST digits at 16x16: homogeneity 0.04, against 0.17
with this design and 0.11 for the augmented faces). A floor on lit macropixels (`MIN_LIT_FRACTION` of the box at
or above `INK_THRESHOLD`, counted on what shows) grows a character that would light fewer, up to the whole box.
Gray levels come from the capture's placement (gain, gradient, jitter).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from skimage.transform import resize

from speckle_lab.acquisition.targets.diversity import CoverageAccumulator

INK_THRESHOLD = 0.1
EXERCISED = 0.25  # a macropixel is exercised when its variance is at least this fraction of the region mean
MAX_VARIANCE = 0.25  # the most a level in [0, 1] can vary: on or off, half of the time each
WEAKEST_PERCENTILE = 5  # the score reads the variance of the least exercised 5 % of the macropixels


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
    - `homogeneity`: the 5th percentile of the variance map over `MAX_VARIANCE` (0.25), in [0, 1]: how strongly
      the least exercised macropixels are still exercised, against the most a level can vary. It is evenness x
      strength / 0.25, so it accounts for both: an even but weak set scores low, as does a strong one that leaves
      part of the region dark. The one number the report compares."""
    variance = np.asarray(coverage["variance_map"], dtype=np.float64)
    mask = region_mask(variance.shape[0], region) if region is not None else np.ones(variance.shape, dtype=bool)
    values = variance[mask]
    mean = float(values.mean())
    if mean <= 0:
        return {"strength": 0.0, "evenness": 0.0, "exercised_fraction": 0.0, "homogeneity": 0.0}
    weakest = float(np.percentile(values, WEAKEST_PERCENTILE))
    return {
        "strength": mean,
        "evenness": min(1.0, weakest / mean),
        "exercised_fraction": float(np.mean(values >= EXERCISED * mean)),
        "homogeneity": min(1.0, weakest / MAX_VARIANCE),
    }


def homogeneity_of(macropixel_images: np.ndarray, region: tuple[int, int, int, int] | None = None) -> dict[str, float]:
    """`homogeneity` of DMD images `[frame, side, side]`."""
    accumulator = CoverageAccumulator()
    accumulator.update(macropixel_images)
    return homogeneity(accumulator.result(), region)


@dataclass(frozen=True)
class HomogeniseParams:
    scale: float  # the character's longer side as a fraction of the box side (before the lit floor)
    row: float  # position, 0 (OVERHANG of it above the top edge) to 1 (OVERHANG below the bottom edge)
    col: float  # 0 (OVERHANG beyond the left edge) to 1 (beyond the right edge)

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


HOMOGENISE_TAG = 0x40B  # 0x40A drew the cropped, shrunk pieces of the first version
SCALE_RANGE = (0.7, 1.0)
POSITION_BETA = 0.5  # Beta(a, a) positions: a < 1 favours the edges (see the module docstring)
OVERHANG = 0.15  # at most this fraction of the character's height (width) outside the box
MIN_LIT_FRACTION = 0.12  # the floor: at least this share of the box lit at >= INK_THRESHOLD


def draw_homogenise(
    seed: int, base: int, copy: int, scale_range: tuple[float, float] = SCALE_RANGE
) -> HomogeniseParams:
    """Parameters from (seed, base, copy) alone: scale uniform in `scale_range`, position Beta(1/2, 1/2) in
    the free room in each direction."""
    rng = np.random.default_rng([seed, HOMOGENISE_TAG, base, copy])
    s = float(rng.uniform(*scale_range))
    return HomogeniseParams(
        s, float(rng.beta(POSITION_BETA, POSITION_BETA)), float(rng.beta(POSITION_BETA, POSITION_BETA))
    )


def ink_box(image: np.ndarray, threshold: float = INK_THRESHOLD) -> np.ndarray:
    """The image cropped to the bounding box of its pixels above `threshold` (the whole image if none)."""
    rows, cols = np.nonzero(image > threshold)
    if len(rows) == 0:
        return image
    return image[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]


def _scaled(ink: np.ndarray, side: int, scale: float) -> np.ndarray:
    factor = min(1.0, scale) * side / max(ink.shape)
    h, w = max(1, min(side, round(ink.shape[0] * factor))), max(1, min(side, round(ink.shape[1] * factor)))
    return resize(ink, (h, w), order=1, mode="edge", anti_aliasing=True, preserve_range=True).astype(np.float32)


def lit_fraction(image: np.ndarray, threshold: float = INK_THRESHOLD) -> float:
    return float(np.mean(np.asarray(image) >= threshold))


def _paste(content: np.ndarray, shape: tuple[int, int], row: float, col: float) -> np.ndarray:
    rows, cols = shape
    h, w = content.shape
    top = round(-OVERHANG * h + row * (rows - h + 2 * OVERHANG * h))
    left = round(-OVERHANG * w + col * (cols - w + 2 * OVERHANG * w))
    out = np.zeros(shape, np.float32)
    r0, c0 = max(top, 0), max(left, 0)
    r1, c1 = min(top + h, rows), min(left + w, cols)
    if r1 > r0 and c1 > c0:
        out[r0:r1, c0:c1] = content[r0 - top : r1 - top, c0 - left : c1 - left]
    return out


def homogenise(image: np.ndarray, params: HomogeniseParams, min_lit_fraction: float = MIN_LIT_FRACTION) -> np.ndarray:
    """float32 image of the same shape: its ink box, scaled so its longer side is `scale` x the box side, at
    (row, col) (at most `OVERHANG` of it outside the box), grown (up to the whole box) until at least
    `min_lit_fraction` of the box is lit; dark elsewhere. An image without ink stays dark."""
    image = np.clip(np.asarray(image, dtype=np.float32), 0.0, 1.0)
    side = min(image.shape)
    ink = ink_box(image)
    scale = params.scale
    out = _paste(_scaled(ink, side, scale), image.shape, params.row, params.col)
    for _ in range(4):  # lit area grows as scale^2: one step nearly reaches the floor, a few more settle it
        lit = lit_fraction(out)
        if lit >= min_lit_fraction or scale >= 1.0 or lit == 0:
            break
        scale = min(1.0, scale * max(1.02, float(np.sqrt(min_lit_fraction / lit))))
        out = _paste(_scaled(ink, side, scale), image.shape, params.row, params.col)
    return np.clip(out, 0.0, 1.0)
