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
    """One probe per position of a square grid of step `step` over an N x N area (every position at step 1);
    index i lights a disc centred at (step * (i // m), step * (i % m)), m = ceil(N / step) positions a side.
    Spec `spots:size=N[:radius=R][:step=S]` (radius in macropixels, an integer, default 1: a 5-macropixel cross;
    step 2 probes a quarter of the positions, the discs still touching)."""

    def __init__(self, size: int, radius: int = 1, spec: str = "", step: int = 1) -> None:
        if size < 1 or radius < 0 or step < 1:
            raise ValueError(f"spots need size >= 1, radius >= 0 and step >= 1, not {size}, {radius}, {step}")
        self.size, self.radius, self.step = int(size), int(radius), int(step)
        self.per_side = -(-self.size // self.step)
        self.spec = spec or f"spots:size={size}:radius={radius}" + (f":step={step}" if step > 1 else "")

    @property
    def name(self) -> str:
        grid = f"{self.per_side}x{self.per_side} positions" + (f" at step {self.step}" if self.step > 1 else "")
        return f"single-spot probes, {grid} of a {self.size}x{self.size} area, radius {self.radius}"

    def __len__(self) -> int:
        return self.per_side * self.per_side

    def position(self, index: int) -> tuple[int, int]:
        row, col = divmod(check_index(self, index), self.per_side)
        return row * self.step, col * self.step

    def image(self, index: int) -> np.ndarray:
        return spot_image(self.size, *self.position(index), self.radius)
