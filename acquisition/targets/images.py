"""Decoded images of any kind (bool, integer, float; gray, RGB, RGBA; page stacks) as one gray float format."""

from __future__ import annotations

import numpy as np

# ITU-R BT.709 luma weights, as skimage.color.rgb2gray uses.
_LUMA = np.array([0.2125, 0.7154, 0.0721], dtype=np.float32)


def to_unit_gray(image: np.ndarray) -> np.ndarray:
    """float32 `[row, col]` in [0, 1]: integers scaled by their type's range (what the file meant), floats kept
    if already in [0, 1] and stretched otherwise; colour to luminance (alpha ignored); a stack's first page
    (a stack of pages whose width is 1 to 4 pixels would be mistaken for channels)."""
    a = np.asarray(image)
    while a.ndim > 3 or (a.ndim == 3 and a.shape[-1] not in (1, 2, 3, 4)):
        a = a[0]  # first page of a multi-page file
    if a.ndim == 3 and a.shape[-1] <= 2:
        a = a[..., 0]  # gray, or gray + alpha
    if a.ndim not in (2, 3):
        raise ValueError(f"an image must be 2-D (gray) or 3-D (colour), not of shape {a.shape}")
    unit = _scale_to_unit(a)
    if unit.ndim == 3:
        unit = unit[..., :3] @ _LUMA
    return np.ascontiguousarray(np.clip(unit, 0.0, 1.0), dtype=np.float32)


def _scale_to_unit(a: np.ndarray) -> np.ndarray:
    if a.dtype == np.bool_:
        return a.astype(np.float32)
    if np.issubdtype(a.dtype, np.unsignedinteger):
        return a.astype(np.float32) / np.float32(np.iinfo(a.dtype).max)
    a = a.astype(np.float32)
    if a.size == 0:
        return a
    low, high = float(a.min()), float(a.max())
    if low >= 0.0 and high <= 1.0:
        return a
    return stretch(a)


def stretch(image: np.ndarray) -> np.ndarray:
    """Min-max stretch to [0, 1]; a flat image is returned clipped to [0, 1] (there is no contrast to stretch)."""
    image = np.asarray(image, dtype=np.float32)
    if image.size == 0:
        return image
    low, high = float(image.min()), float(image.max())
    if high - low <= 1e-12:
        return np.clip(image, 0.0, 1.0)
    return (image - np.float32(low)) / np.float32(high - low)
