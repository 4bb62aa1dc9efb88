"""What the writer checks and converts before a row reaches the file: shapes, dtypes, ranges, text."""

from __future__ import annotations

import math

import numpy as np


def pearson(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson correlation of two images (NaN if either is constant)."""
    x = a.astype(np.float64).ravel()
    y = b.astype(np.float64).ravel()
    x -= x.mean()
    y -= y.mean()
    denominator = math.sqrt(float(x @ x) * float(y @ y))
    return float(x @ y) / denominator if denominator > 0 else float("nan")


def truncate_utf8(text: str, max_bytes: int) -> bytes:
    """UTF-8 bytes of `text`, cut to at most `max_bytes` without splitting a character; NULs dropped."""
    data = text.replace("\0", "").encode("utf-8", "replace")
    if len(data) <= max_bytes:
        return data
    return data[:max_bytes].decode("utf-8", "ignore").encode("utf-8")


def frame_shape(name: str, shape: tuple[int, int]) -> tuple[int, int]:
    sides = tuple(int(side) for side in shape)
    if len(sides) != 2 or min(sides) < 1:
        raise ValueError(f"{name} must be (height, width) with positive sides, not {sides}")
    return sides[0], sides[1]


def checked_image(name: str, array: np.ndarray, n: int, shape: tuple[int, int], dtype: np.dtype) -> np.ndarray:
    array = np.asarray(array)
    if array.shape != (n, *shape):
        raise ValueError(f"{name} has shape {array.shape}; expected {(n, *shape)}")
    if array.dtype != dtype:
        if not np.can_cast(array.dtype, dtype, "safe"):
            raise ValueError(f"{name} has dtype {array.dtype}; expected the camera's {dtype}")
        array = array.astype(dtype)
    return array


def checked_target(array: np.ndarray, n: int, shape: tuple[int, int]) -> np.ndarray:
    array = np.asarray(array)
    if array.shape != (n, *shape):
        raise ValueError(f"target has shape {array.shape}; expected {(n, *shape)}")
    if array.dtype.kind != "f":
        raise ValueError(f"target has dtype {array.dtype}; expected float32 in [0, 1]")
    array = array.astype(np.float32, copy=False)
    if n and not (array.min() >= 0.0 and array.max() <= 1.0):  # also catches NaN
        raise ValueError(f"target values must be in [0, 1]; found [{array.min()}, {array.max()}]")
    return array


def checked_vector(name: str, array: np.ndarray, n: int, dtype: np.dtype | type) -> np.ndarray:
    array = np.asarray(array)
    dtype = np.dtype(dtype)
    if array.shape != (n,):
        raise ValueError(f"{name} has shape {array.shape}; expected ({n},)")
    if array.dtype != dtype:
        if not np.can_cast(array.dtype, dtype, "same_kind"):
            raise ValueError(f"{name} has dtype {array.dtype}; expected {dtype}")
        array = array.astype(dtype)
    return array
