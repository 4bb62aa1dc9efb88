"""Bring a source image to the target resolution: gray, centre-cropped to the target's aspect, anti-aliased
resize, stretched to [0, 1], optionally made binary for a binary DMD."""

from __future__ import annotations

from typing import Literal, get_args

import numpy as np
from skimage.transform import resize

from speckle_lab.acquisition.targets.images import stretch, to_unit_gray

BinarizeMode = Literal["threshold", "dither", "ordered"]
BINARIZE_MODES: tuple[str, ...] = get_args(BinarizeMode)


def prepare(
    image: np.ndarray, shape: tuple[int, int], binarize: str | None = None, normalize: bool = True
) -> np.ndarray:
    """float32 `[row, col]` of `shape` in [0, 1].

    `binarize`: None keeps gray levels; "threshold" cuts at 0.5; "dither" is Floyd-Steinberg error diffusion
    (best-looking, about 1 us per pixel); "ordered" is an 8x8 Bayer matrix (vectorised, for big batches).
    `normalize` stretches each image to the full [0, 1] range so every source uses the DMD's whole range."""
    rows, cols = _check_shape(shape)
    gray = crop_to_aspect(to_unit_gray(image), rows / cols)
    if gray.shape != (rows, cols):
        gray = resize(gray, (rows, cols), order=1, mode="reflect", anti_aliasing=True, preserve_range=True)
    gray = stretch(gray) if normalize else np.clip(gray, 0.0, 1.0)
    return binarize_image(gray, binarize) if binarize else gray.astype(np.float32)


def crop_to_aspect(image: np.ndarray, aspect: float) -> np.ndarray:
    """The largest centred crop with rows / cols == `aspect` (a square for square targets): resizing never
    distorts the content."""
    rows, cols = image.shape
    if cols * aspect > rows:  # too wide
        keep = max(1, round(rows / aspect))
        start = (cols - keep) // 2
        return image[:, start : start + keep]
    keep = max(1, round(cols * aspect))
    start = (rows - keep) // 2
    return image[start : start + keep, :]


def binarize_image(image: np.ndarray, mode: str) -> np.ndarray:
    """float32 0/1 image from a [0, 1] gray image (see `prepare` for the modes)."""
    if mode == "threshold":
        return (np.asarray(image) >= 0.5).astype(np.float32)
    if mode == "dither":
        return floyd_steinberg(image).astype(np.float32)
    if mode == "ordered":
        return ordered_dither(image).astype(np.float32)
    raise ValueError(f"unknown binarize mode {mode!r}: expected None or one of {', '.join(BINARIZE_MODES)}")


def floyd_steinberg(image: np.ndarray) -> np.ndarray:
    """Binary `[row, col]` by Floyd-Steinberg error diffusion: local mean gray level is preserved."""
    image = np.clip(np.asarray(image, dtype=np.float64), 0.0, 1.0)
    rows, cols = image.shape
    buffer = image.tolist()  # plain floats: a scalar loop over lists is ~10x faster than over numpy
    out = [[False] * cols for _ in range(rows)]
    for r in range(rows):
        row = buffer[r]
        below = buffer[r + 1] if r + 1 < rows else None
        for c in range(cols):
            old = row[c]
            on = old >= 0.5
            out[r][c] = on
            error = old - (1.0 if on else 0.0)
            if c + 1 < cols:
                row[c + 1] += error * 7 / 16
            if below is not None:
                if c > 0:
                    below[c - 1] += error * 3 / 16
                below[c] += error * 5 / 16
                if c + 1 < cols:
                    below[c + 1] += error * 1 / 16
    return np.array(out, dtype=bool).reshape(rows, cols)


def _bayer(order: int) -> np.ndarray:
    matrix = np.zeros((1, 1), dtype=np.int64)
    for _ in range(order):
        matrix = np.block([[4 * matrix, 4 * matrix + 2], [4 * matrix + 3, 4 * matrix + 1]])
    return matrix


_BAYER_8 = (_bayer(3) + 0.5) / 64.0


def ordered_dither(image: np.ndarray) -> np.ndarray:
    """Binary `[..., row, col]` by comparing with a tiled 8x8 Bayer threshold matrix (works on stacks)."""
    image = np.asarray(image, dtype=np.float32)
    rows, cols = image.shape[-2:]
    thresholds = np.tile(_BAYER_8, (rows // 8 + 1, cols // 8 + 1))[:rows, :cols]
    return image >= thresholds


def _check_shape(shape: tuple[int, int]) -> tuple[int, int]:
    rows, cols = (int(v) for v in shape)
    if rows < 1 or cols < 1:
        raise ValueError(f"target shape {tuple(shape)} must be positive")
    return rows, cols
