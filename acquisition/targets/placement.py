"""Where and how a prepared target is shown on the DMD's active area, in macropixels.

Every random choice (position, scale, gain, gradient, jitter) is drawn from the seed and stored per frame
(`Placements.as_fields`), so each frame's displayed target and full DMD image can be regenerated. The
ground truth of a frame is the displayed target at target resolution `[h, w]` (fluctuations applied,
binarised or quantised to the DMD's 8-bit levels); the DMD image is that truth resized to the placed size
and put at (top, left) in an otherwise dark active area (`place`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Literal, get_args

import numpy as np
from pydantic import ConfigDict, Field, field_validator
from pydantic.dataclasses import dataclass as pydantic_dataclass
from skimage.transform import resize

from speckle_lab.acquisition.targets.prepare import binarize_image

PlacementMode = Literal["fixed", "random"]
PLACEMENT_TAG = 0x91ACE
CHUNK_FRAMES = 4096  # placements are drawn per chunk of frames: the first n never depend on how many follow
DMD_LEVELS = 255


# The plan's rule (acquisition.plan.STRICT): TOML types are kept, no inf or nan, unknown keys are errors.
@pydantic_dataclass(frozen=True, config=ConfigDict(extra="forbid", strict=True, allow_inf_nan=False))
class PlacementSpec:
    """How targets are placed. fixed: at (top, left) macropixels, by default centred (each frame's scaled
    target centred); random: uniformly anywhere the whole scaled target fits inside `region`
    (top, left, height, width) in macropixels, by default the whole active area.

    Intensity fluctuations, applied at target resolution: a gain drawn in gain_min..gain_max; a linear
    gradient 1 + gx * x + gy * y across the target (x, y from -1 to 1) with amplitude sqrt(gx^2 + gy^2)
    drawn in 0..gradient_max and a random direction; Gaussian gray-level jitter of `jitter_std` added to the
    target's lit pixels (the dark background stays dark). The result is clipped to [0, 1].

    The one model of the placement settings: the plan's `[placement]` table is validated by it (field by
    field, then the checks across fields below), so the fields and their checks are written once."""

    mode: PlacementMode = "fixed"
    top: int | None = None
    left: int | None = None
    region: tuple[int, int, int, int] | None = Field(default=None, strict=False)  # TOML and JSON give a list
    scale_min: float = Field(default=1.0, gt=0)
    scale_max: float = Field(default=1.0, gt=0)
    gain_min: float = Field(default=1.0, ge=0)
    gain_max: float = Field(default=1.0, ge=0)
    gradient_max: float = Field(default=0.0, ge=0)
    jitter_std: float = Field(default=0.0, ge=0)

    @field_validator("mode", mode="before")
    @classmethod
    def _known_mode(cls, mode: object) -> object:
        if mode not in get_args(PlacementMode):
            raise ValueError(f"placement: mode {mode!r} is neither 'fixed' nor 'random'")
        return mode

    def __post_init__(self) -> None:
        problems = []
        if self.mode == "random" and (self.top is not None or self.left is not None):
            problems.append("top/left are for mode 'fixed'; random placement draws them (restrict it with region)")
        if self.mode == "fixed" and self.region is not None:
            problems.append("region is for mode 'random'; fixed placement uses top/left")
        if any(v is not None and v < 0 for v in (self.top, self.left)):
            problems.append(f"top/left ({self.top}, {self.left}) must be >= 0")
        if self.region is not None and (min(self.region[:2]) < 0 or min(self.region[2:]) < 1):
            problems.append(f"region {self.region} must be (top >= 0, left >= 0, height >= 1, width >= 1)")
        if not 0 < self.scale_min <= self.scale_max:
            problems.append(f"scales need 0 < scale_min <= scale_max, not {self.scale_min}..{self.scale_max}")
        if not 0 <= self.gain_min <= self.gain_max:
            problems.append(f"gains need 0 <= gain_min <= gain_max, not {self.gain_min}..{self.gain_max}")
        if problems:
            raise ValueError("placement: " + "; ".join(problems))

    def as_dict(self) -> dict[str, object]:
        """Plain values for the data file's attributes (None for unset top/left/region)."""
        return asdict(self)


@dataclass(frozen=True)
class Placements:
    """Per-frame placement, arrays of length n: (top, left) and placed (height, width) in macropixels,
    the scale that gave that size, the intensity fluctuations and the seed of the frame's jitter."""

    top: np.ndarray  # int32
    left: np.ndarray  # int32
    height: np.ndarray  # int32, placed size in macropixels = round(target rows * scale)
    width: np.ndarray  # int32
    scale: np.ndarray  # float32
    gain: np.ndarray  # float32
    gradient_x: np.ndarray  # float32, gain change from the centre to the right edge
    gradient_y: np.ndarray  # float32, gain change from the centre to the bottom edge
    jitter_std: np.ndarray  # float32
    jitter_seed: np.ndarray  # int64

    def __len__(self) -> int:
        return len(self.top)

    def as_fields(self) -> dict[str, np.ndarray]:
        """Per-frame fields for the data file: placement_top, placement_left, ..."""
        return {f"placement_{f.name}": getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_fields(cls, data: dict[str, np.ndarray]) -> Placements:
        """Back from `as_fields` (e.g. columns read from a data file, whole or a block of rows)."""
        return cls(**{f.name: np.asarray(data[f"placement_{f.name}"]) for f in fields(cls)})

    def take(self, rows: np.ndarray | slice) -> Placements:
        return Placements(**{f.name: getattr(self, f.name)[rows] for f in fields(self)})


def scaled_size(target_shape: tuple[int, int], scale: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
    """Placed (height, width) in macropixels, at least 1: round(shape * scale), the scale taken as float32."""
    s = np.asarray(scale, dtype=np.float32).astype(np.float64)
    rows, cols = target_shape
    return (
        np.maximum(1, np.rint(rows * s)).astype(np.int32),
        np.maximum(1, np.rint(cols * s)).astype(np.int32),
    )


def draw_placements(
    spec: PlacementSpec, n: int, seed: int, side_macropixels: int, target_shape: tuple[int, int]
) -> Placements:
    """n placements drawn from `seed`; the first k of n are the same for any n >= k (chunked streams).
    Every placed target lies wholly inside the active area; a target that cannot fit is a ValueError."""
    if n < 0 or seed < 0 or side_macropixels < 1:
        raise ValueError(f"placement: need n >= 0, seed >= 0, side >= 1 (got {n}, {seed}, {side_macropixels})")
    area = _area(spec, side_macropixels)
    _check_fits(spec, side_macropixels, target_shape, area)
    n_chunks = max(1, -(-n // CHUNK_FRAMES))
    chunks = [_draw_chunk(spec, seed, c, side_macropixels, target_shape, area) for c in range(n_chunks)]
    merged = {f.name: np.concatenate([getattr(c, f.name) for c in chunks])[:n] for f in fields(Placements)}
    return Placements(**merged)


def _area(spec: PlacementSpec, side: int) -> tuple[int, int, int, int]:
    area = spec.region or (0, 0, side, side)
    top, left, height, width = area
    if top + height > side or left + width > side:
        raise ValueError(f"placement: region {area} does not fit the {side}x{side}-macropixel active area")
    return area


def _check_fits(spec: PlacementSpec, side: int, target_shape: tuple[int, int], area: tuple[int, ...]) -> None:
    height, width = (int(v) for v in scaled_size(target_shape, spec.scale_max))
    if spec.mode == "random":
        room, where = area[2:], f"the region {area}" if spec.region else f"the {side}x{side}-macropixel active area"
        top, left = 0, 0
    else:
        room, where = (side, side), f"the {side}x{side}-macropixel active area"
        top = spec.top if spec.top is not None else 0
        left = spec.left if spec.left is not None else 0
    if top + height > room[0] or left + width > room[1]:
        at = f" at ({spec.top}, {spec.left})" if spec.top is not None or spec.left is not None else ""
        raise ValueError(
            f"placement: a {target_shape[0]}x{target_shape[1]} target at scale up to {spec.scale_max:g} "
            f"({height}x{width} macropixels){at} does not fit {where}"
        )


def _draw_chunk(
    spec: PlacementSpec, seed: int, chunk: int, side: int, target_shape: tuple[int, int], area: tuple[int, ...]
) -> Placements:
    m = CHUNK_FRAMES
    rng = np.random.default_rng([seed, PLACEMENT_TAG, chunk])
    # Always the same draws in the same order, whatever the mode: a chunk's stream never changes layout.
    scale = rng.uniform(spec.scale_min, spec.scale_max, m).astype(np.float32)
    gain = rng.uniform(spec.gain_min, spec.gain_max, m).astype(np.float32)
    amplitude = rng.uniform(0.0, spec.gradient_max, m)
    direction = rng.uniform(0.0, 2 * np.pi, m)
    u_top, u_left = rng.random(m), rng.random(m)
    jitter_seed = rng.integers(0, 2**63 - 1, m, dtype=np.int64)
    height, width = scaled_size(target_shape, scale)
    if spec.mode == "random":
        region_top, region_left, region_height, region_width = area
        top = region_top + np.floor(u_top * (region_height - height + 1)).astype(np.int32)
        left = region_left + np.floor(u_left * (region_width - width + 1)).astype(np.int32)
    else:
        top = np.full(m, spec.top, np.int32) if spec.top is not None else ((side - height) // 2).astype(np.int32)
        left = np.full(m, spec.left, np.int32) if spec.left is not None else ((side - width) // 2).astype(np.int32)
    return Placements(
        top=top.astype(np.int32),
        left=left.astype(np.int32),
        height=height,
        width=width,
        scale=scale,
        gain=gain,
        gradient_x=(amplitude * np.cos(direction)).astype(np.float32),
        gradient_y=(amplitude * np.sin(direction)).astype(np.float32),
        jitter_std=np.full(m, spec.jitter_std, np.float32),
        jitter_seed=jitter_seed,
    )


def named_region(name: str, side_macropixels: int) -> tuple[int, int, int, int]:
    """(top, left, height, width) of a half or the centre of the active area, for the region-shift study:
    "left", "right", "top", "bottom" halves, "centre" (the middle half in each direction), "all"."""
    s, h = side_macropixels, side_macropixels // 2
    regions = {
        "all": (0, 0, s, s),
        "left": (0, 0, s, h),
        "right": (0, s - h, s, h),
        "top": (0, 0, h, s),
        "bottom": (s - h, 0, h, s),
        "centre": (s // 4, s // 4, h, h),
    }
    if name not in regions:
        raise ValueError(f"unknown region {name!r}: expected one of {', '.join(regions)}")
    return regions[name]


def displayed_target(target: np.ndarray, placements: Placements, index: int, binarize: str | None = None) -> np.ndarray:
    """The frame's ground truth `[h, w]` float32 in [0, 1]: the prepared target with its gain, gradient and
    jitter, then binarised (binary DMD) or quantised to the DMD's 8-bit levels, so it is exactly what shows."""
    t = np.clip(np.asarray(target, dtype=np.float32), 0.0, 1.0)
    rows, cols = t.shape
    y = np.linspace(-1.0, 1.0, rows, dtype=np.float32) if rows > 1 else np.zeros(1, np.float32)
    x = np.linspace(-1.0, 1.0, cols, dtype=np.float32) if cols > 1 else np.zeros(1, np.float32)
    factor = 1.0 + placements.gradient_x[index] * x[None, :] + placements.gradient_y[index] * y[:, None]
    shown = t * placements.gain[index] * factor
    std = float(placements.jitter_std[index])
    if std > 0:
        noise = np.random.default_rng(int(placements.jitter_seed[index])).normal(0.0, std, t.shape)
        shown = np.where(t > 0, shown + noise.astype(np.float32), shown)
    shown = np.clip(shown, 0.0, 1.0)
    if binarize:
        return binarize_image(shown, binarize)
    return (np.rint(shown * DMD_LEVELS) / DMD_LEVELS).astype(np.float32)


def place(
    displayed: np.ndarray, placements: Placements, index: int, side_macropixels: int, binary: bool = False
) -> np.ndarray:
    """Macropixel image `[side, side]` float32: `displayed` resized to the placed (height, width) (nearest
    neighbour for binary targets so they stay binary, bilinear otherwise) at (top, left), dark elsewhere.
    Regenerates a frame's DMD image from the stored target and placement."""
    top, left = int(placements.top[index]), int(placements.left[index])
    height, width = int(placements.height[index]), int(placements.width[index])
    if top < 0 or left < 0 or top + height > side_macropixels or left + width > side_macropixels:
        raise ValueError(
            f"placement {index}: {height}x{width} at ({top}, {left}) leaves the {side_macropixels}x"
            f"{side_macropixels}-macropixel active area"
        )
    shown = np.asarray(displayed, dtype=np.float32)
    if shown.shape != (height, width):
        downscaling = height < shown.shape[0] or width < shown.shape[1]
        shown = resize(
            shown,
            (height, width),
            order=0 if binary else 1,
            mode="edge",
            anti_aliasing=downscaling and not binary,
            preserve_range=True,
        )
    image = np.zeros((side_macropixels, side_macropixels), dtype=np.float32)
    image[top : top + height, left : left + width] = np.clip(shown, 0.0, 1.0)
    return image


def render(
    target: np.ndarray, placements: Placements, index: int, side_macropixels: int, binarize: str | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(macropixel image `[side, side]`, displayed target `[h, w]`) of frame `index`; both float32 in [0, 1].
    The displayed target is the ground truth to store; `to_dmd_levels` turns the image into DMD levels."""
    shown = displayed_target(target, placements, index, binarize)
    return place(shown, placements, index, side_macropixels, binary=binarize is not None), shown


def render_block(
    targets: np.ndarray,
    placements: Placements,
    indices: np.ndarray | None,
    side_macropixels: int,
    binarize: str | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """`render` for a block: targets `[B, h, w]`, `indices` the placement rows (default 0..B-1) ->
    (`[B, side, side]`, `[B, h, w]`). Vectorised over the block, identical to `render` frame by frame:
    the capture engine renders tens of thousands of frames per second through here."""
    targets = np.clip(np.asarray(targets, dtype=np.float32), 0.0, 1.0)
    rows = np.arange(len(targets)) if indices is None else np.asarray(indices)
    if len(rows) != len(targets):
        raise ValueError(f"{len(targets)} targets but {len(rows)} placement rows")
    p = placements.take(rows)
    shown = _fluctuate_block(targets, p)
    if binarize == "threshold":
        shown = (shown >= 0.5).astype(np.float32)
    elif binarize:
        shown = np.stack([binarize_image(frame, binarize) for frame in shown]) if len(shown) else shown
    else:
        shown = (np.rint(shown * DMD_LEVELS) / DMD_LEVELS).astype(np.float32)
    images = np.zeros((len(targets), side_macropixels, side_macropixels), dtype=np.float32)
    h, w = targets.shape[1:]
    for b in range(len(targets)):
        if p.height[b] == h and p.width[b] == w and p.top[b] >= 0 and p.top[b] + h <= side_macropixels:
            top, left = int(p.top[b]), int(p.left[b])
            images[b, top : top + h, left : left + w] = shown[b]
        else:
            images[b] = place(shown[b], p, b, side_macropixels, binary=binarize is not None)
    return images, shown


def _fluctuate_block(targets: np.ndarray, p: Placements) -> np.ndarray:
    """Gain, gradient and jitter of `displayed_target`, for a block at once (before quantisation)."""
    rows, cols = targets.shape[1:]
    y = np.linspace(-1.0, 1.0, rows, dtype=np.float32) if rows > 1 else np.zeros(1, np.float32)
    x = np.linspace(-1.0, 1.0, cols, dtype=np.float32) if cols > 1 else np.zeros(1, np.float32)
    factor = 1.0 + p.gradient_x[:, None, None] * x[None, None, :] + p.gradient_y[:, None, None] * y[None, :, None]
    shown = targets * p.gain[:, None, None] * factor
    for b in np.flatnonzero(p.jitter_std > 0):
        noise = np.random.default_rng(int(p.jitter_seed[b])).normal(0.0, float(p.jitter_std[b]), (rows, cols))
        shown[b] = np.where(targets[b] > 0, shown[b] + noise.astype(np.float32), shown[b])
    return np.clip(shown, 0.0, 1.0)


def place_block(
    displayed: np.ndarray, placements: Placements, indices: np.ndarray | None, side_macropixels: int, binary: bool
) -> np.ndarray:
    """Macropixel images `[B, side, side]` regenerated from stored targets `[B, h, w]` and their placements."""
    rows = np.arange(len(displayed)) if indices is None else np.asarray(indices)
    return np.stack(
        [place(d, placements, int(r), side_macropixels, binary) for d, r in zip(displayed, rows, strict=True)]
    )


def to_dmd_levels(macropixel_images: np.ndarray, binary: bool) -> np.ndarray:
    """DMD levels for `DmdGeometry.to_mirrors`: bool (on where >= 0.5: exact for binarised targets) or uint8
    0..255 for gray display."""
    images = np.asarray(macropixel_images, dtype=np.float32)
    if binary:
        return images >= 0.5
    return np.rint(np.clip(images, 0.0, 1.0) * DMD_LEVELS).astype(np.uint8)
