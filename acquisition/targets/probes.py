"""The single-spot probe set: one small lit disc at every position of a square area, in row-major order.

Why: shown to a trained net through the medium, each probe asks "does the net's learned mapping hold at this
position?"; its reconstruction quality per position is a heat map of where the mapping is valid (a digits net
fails where digits never put ink; a net trained in one region fails outside it)."""

from __future__ import annotations

import numpy as np

from speckle_lab.acquisition.targets.base import check_index


def spot_image(size: int, row: int, col: int, radius: float) -> np.ndarray:
    """float32 `[size, size]`: 1 within `radius` macropixels of (row, col) (radius 0: that macropixel only)."""
    r, c = np.indices((size, size))
    return (((r - row) ** 2 + (c - col) ** 2) <= radius**2 + 1e-9).astype(np.float32)


class SpotSource:
    """`size * size` probes; index i lights a disc centred at (i // size, i % size). Spec `spots:size=N[:radius=R]`
    (radius in macropixels, an integer, default 1: a 5-macropixel cross)."""

    def __init__(self, size: int, radius: int = 1, spec: str = "") -> None:
        if size < 1 or radius < 0:
            raise ValueError(f"spots need size >= 1 and radius >= 0, not {size}, {radius}")
        self.size, self.radius = int(size), int(radius)
        self.spec = spec or f"spots:size={size}:radius={radius}"

    @property
    def name(self) -> str:
        return f"single-spot probes, {self.size}x{self.size} positions, radius {self.radius}"

    def __len__(self) -> int:
        return self.size * self.size

    def position(self, index: int) -> tuple[int, int]:
        row, col = divmod(check_index(self, index), self.size)
        return row, col

    def image(self, index: int) -> np.ndarray:
        return spot_image(self.size, *self.position(index), self.radius)
