"""Ballistic light: a fraction eta of the light crosses the medium unscattered and images the DMD on the camera.

Why (Photonics Research 11, 1038, 2023): the ballistic share decides whether a net trained with targets in
one region of the DMD works in another. Scattered light couples every macropixel to every camera pixel through
an unrelated random column; ballistic light maps each macropixel to its own patch of the camera, the same
local, shift-covariant map everywhere, which a net can learn in one region and use in another.

Field model: E = sqrt(1 - eta) T x + sqrt(eta) B x, where B sends macropixel (r, c) of the `side` x `side`
active area to the camera pixels whose scaled position falls in it (a direct image, flat phase). Both terms
give mean intensity 1 with all macropixels on, so eta is the ballistic share of the mean intensity (the cross
term averages to zero over the scattered field's random phase).
"""

from __future__ import annotations

import numpy as np

from speckle_lab.sim.medium import Medium


def imaging_matrix(side: int, output_shape: tuple[int, int]) -> np.ndarray:
    """float32 `[side * side, pixels]`: 1 where a camera pixel lies in the image of a macropixel, else 0."""
    rows, cols = output_shape
    r = (np.arange(rows) * side) // rows
    c = (np.arange(cols) * side) // cols
    source = (r[:, None] * side + c[None, :]).ravel()  # the macropixel each camera pixel sees
    matrix = np.zeros((side * side, rows * cols), dtype=np.float32)
    matrix[source, np.arange(rows * cols)] = 1.0
    return matrix


class BallisticMixture(Medium):
    """`scattered` with a fraction `eta` of the intensity replaced by the direct image of the DMD."""

    def __init__(self, scattered: Medium, eta: float) -> None:
        if not 0.0 <= eta <= 1.0:
            raise ValueError(f"the ballistic fraction eta must lie in [0, 1], got {eta}")
        if scattered.n_coefficients != scattered.n_outputs:
            raise ValueError(
                f"ballistic light is added pixel by pixel: the scattered medium must hold every camera pixel "
                f"(representation 'dense'), not {scattered.n_coefficients} {scattered.representation} coefficients"
            )
        side = round(float(np.sqrt(scattered.n_inputs)))
        if side * side != scattered.n_inputs:
            raise ValueError(f"ballistic light needs a square DMD area, not {scattered.n_inputs} inputs")
        super().__init__(scattered.n_inputs, scattered.output_shape, scattered.seed)
        self.scattered, self.eta, self.side = scattered, float(eta), side
        self.kind = scattered.kind

    def _build_matrix(self) -> np.ndarray:
        n = self.n_outputs
        matrix = np.sqrt(1.0 - self.eta, dtype=np.float32) * self.scattered.matrix
        matrix[:, :n] += np.sqrt(self.eta, dtype=np.float32) * imaging_matrix(self.side, self.output_shape)
        return matrix

    def describe(self) -> dict[str, object]:
        return {**self.scattered.describe(), "ballistic_fraction": self.eta, "checksum_sha256": self.checksum}


def with_ballistic(medium: Medium, eta: float) -> Medium:
    """`medium` itself when eta is 0 (the same matrix and checksum as before the option existed)."""
    return medium if eta == 0 else BallisticMixture(medium, eta)
