"""Endless seeded sources: every index draws its image from its own generator seeded by (seed, kind, index),
so image i is the same whatever was drawn before it, in any order, on any machine."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from skimage.draw import polygon as polygon_pixels
from skimage.transform import resize

from speckle_lab.acquisition.targets.base import check_index
from speckle_lab.acquisition.targets.bundled import load_natural_photos

DEFAULT_LENGTH = 100_000

# One fixed stream tag per generator, so "blobs" and "binary" with the same seed are independent.
STREAM_TAGS = {"blobs": 0xB10B5, "binary": 0xB1A7, "natural": 0x7A7, "bernoulli": 0xBE12}

Draw = Callable[[np.random.Generator, int], np.ndarray]


class GeneratedSource:
    """`length` images of side `size_px`; image(i) = draw(default_rng([seed, tag, i]), size_px)."""

    def __init__(self, spec: str, kind: str, draw: Draw, size_px: int, length: int, seed: int, about: str) -> None:
        if size_px < 1 or length < 1:
            raise ValueError(f"{kind}: size and length must be positive, not {size_px} and {length}")
        if seed < 0:
            raise ValueError(f"{kind}: the seed must be >= 0, not {seed}")
        self.spec = spec
        self.kind = kind
        self.size_px = size_px
        self.seed = seed
        self._draw = draw
        self._length = length
        self._about = about

    @property
    def name(self) -> str:
        return f"{self.kind} ({self._about}, {self.size_px} px, {self._length} images, seed {self.seed})"

    def __len__(self) -> int:
        return self._length

    def image(self, index: int) -> np.ndarray:
        i = check_index(self, index)
        rng = np.random.default_rng([self.seed, STREAM_TAGS[self.kind], i])
        return np.clip(self._draw(rng, self.size_px), 0.0, 1.0).astype(np.float32)


def draw_blobs(rng: np.random.Generator, size_px: int) -> np.ndarray:
    """1 to 5 shapes of random intensity in 0.2..1 on black: Gaussian blobs (blended by maximum), ellipses,
    rotated rectangles and polygons (painted over what is below), at random positions, sizes and angles."""
    image = np.zeros((size_px, size_px), dtype=np.float64)
    rows, cols = np.mgrid[0:size_px, 0:size_px].astype(np.float64)
    for _ in range(int(rng.integers(1, 6))):
        kind = int(rng.integers(4))
        level = rng.uniform(0.2, 1.0)
        centre_r, centre_c = rng.uniform(0.15, 0.85, 2) * size_px
        angle = rng.uniform(0.0, np.pi)
        u = (rows - centre_r) * np.cos(angle) + (cols - centre_c) * np.sin(angle)
        v = -(rows - centre_r) * np.sin(angle) + (cols - centre_c) * np.cos(angle)
        if kind == 0:
            sigma_u, sigma_v = rng.uniform(0.03, 0.2, 2) * size_px
            image = np.maximum(image, level * np.exp(-0.5 * ((u / sigma_u) ** 2 + (v / sigma_v) ** 2)))
            continue
        if kind == 1:
            a, b = rng.uniform(0.05, 0.3, 2) * size_px
            mask = (u / a) ** 2 + (v / b) ** 2 <= 1.0
        elif kind == 2:
            a, b = rng.uniform(0.05, 0.3, 2) * size_px
            mask = (np.abs(u) <= a) & (np.abs(v) <= b)
        else:
            corners = int(rng.integers(3, 7))
            phases = np.sort(rng.uniform(0.0, 2 * np.pi, corners))
            radii = rng.uniform(0.08, 0.3, corners) * size_px
            mask = np.zeros_like(image, dtype=bool)
            rr, cc = polygon_pixels(centre_r + radii * np.sin(phases), centre_c + radii * np.cos(phases), image.shape)
            mask[rr, cc] = True
        image[mask] = level
    return image


def draw_binary(rng: np.random.Generator, size_px: int) -> np.ndarray:
    """Random 0/1 pattern: cells of 1, 2, 4 or 8 pixels a side, each on with a density drawn in 0.1..0.9."""
    cell = int(rng.choice([c for c in (1, 2, 4, 8) if c <= size_px]))
    density = rng.uniform(0.1, 0.9)
    cells = -(-size_px // cell)
    coarse = rng.random((cells, cells)) < density
    return coarse.repeat(cell, axis=0).repeat(cell, axis=1)[:size_px, :size_px].astype(np.float32)


def draw_bernoulli(rng: np.random.Generator, size_px: int) -> np.ndarray:
    """Every pixel on with probability 1/2, independently: uniformly random binary patterns, the probe set that
    exercises every macropixel equally and spans every direction (the oracle's training set)."""
    return (rng.random((size_px, size_px)) < 0.5).astype(np.float32)


def draw_natural_patch(rng: np.random.Generator, size_px: int) -> np.ndarray:
    """A square patch of a random bundled photograph: side drawn in size..4*size photo pixels (several scales
    of texture and structure), at a random position, mirrored left-right half of the time, and brought to
    `size_px` a side with an anti-aliased resize."""
    photos = load_natural_photos()
    _, photo = photos[int(rng.integers(len(photos)))]
    limit = min(photo.shape)
    side = min(limit, int(rng.integers(size_px, 4 * size_px + 1)))
    top = int(rng.integers(photo.shape[0] - side + 1))
    left = int(rng.integers(photo.shape[1] - side + 1))
    patch = photo[top : top + side, left : left + side]
    if rng.random() < 0.5:
        patch = patch[:, ::-1]
    if side == size_px:
        return patch
    return resize(patch, (size_px, size_px), order=1, anti_aliasing=True, preserve_range=True)


GENERATORS: dict[str, tuple[Draw, int, str]] = {
    "blobs": (draw_blobs, 64, "random Gaussian blobs and shapes"),
    "binary": (draw_binary, 32, "random binary patterns"),
    "bernoulli": (draw_bernoulli, 32, "uniformly random binary patterns, each pixel on with probability 1/2"),
    "natural": (draw_natural_patch, 64, "patches of scikit-image photographs"),
}


def open_generator(spec: str, kind: str, seed: int, size_px: int | None = None, length: int | None = None):
    draw, default_size, about = GENERATORS[kind]
    return GeneratedSource(spec, kind, draw, size_px or default_size, length or DEFAULT_LENGTH, seed, about)
