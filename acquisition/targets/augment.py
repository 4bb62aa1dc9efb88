"""Seeded augmentation of any target source: many distinct targets from few base images, each regenerable.

Why: the bundled LFW has 100 faces. 80 faces repeated ten times span at most 80 directions of the target
space, fewer than the macropixels of the target region, so a net trained on them learns those faces rather
than the medium's inverse. Random crop/zoom, mirror, small rotation and gamma of each base face give
distinct faces that still look like faces.

Spec: `augment:copies=N[:bases=A-B][:mode=homogenise|enlarge]:SPEC`, e.g. `augment:copies=10:bases=0-79:lfw`: N
versions of each base image at positions A..B (inclusive) of the base source's seeded order, the order a plan
with the same seed draws targets in (`selection.choose_indices`); copy 0 is the base image itself. Index i
of the set is copy `i % N` of base `bases[i // N]`; its parameters are drawn from (seed, base, copy) alone
(`AugmentedSource.params`), so the data file's plan (spec, seed) and target index regenerate every frame's
target. An identity split is two disjoint base ranges: `augment:copies=10:bases=0-79:lfw` trains,
`augment:copies=8:bases=80-99:lfw` (or plain `lfw` with target_offset 80, same seed) tests, and no base image
of the test set is in the training set. `mode=homogenise` applies `homogeneity.homogenise` instead (every
copy, copy 0 included): the whole character at a seeded size and position, spread evenly over the box, on a
seeded gray background. `mode=enlarge` enlarges every copy about its centre by a seeded factor in 1..1.3 (the
reference study's "diverse digits": the digit itself grows inside the frame, so the displayed target, which is
the ground truth, is the enlarged digit; intensity fluctuations come from the capture's placement).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from skimage.transform import resize, rotate

from speckle_lab.acquisition.targets.base import TargetSource, check_index
from speckle_lab.acquisition.targets.errors import TargetSpecError
from speckle_lab.acquisition.targets.homogeneity import HomogeniseParams, draw_homogenise, homogenise
from speckle_lab.acquisition.targets.selection import choose_indices

AUGMENT_TAG = 0xA06
ENLARGE_TAG = 0xE1A
ENLARGE_RANGE = (1.0, 1.3)  # the reference study's enlargement of the digits


@dataclass(frozen=True)
class AugmentRanges:
    """The ranges parameters are drawn from (uniformly; mirror with probability 1/2)."""

    zoom_max: float = 1.25  # crop a window 1/zoom of the image, zoom in 1..zoom_max, and resize it back
    shift_max: float = 0.08  # crop centre moves up to this fraction of the side
    angle_max_deg: float = 10.0
    gamma_min: float = 0.7
    gamma_max: float = 1.4


@dataclass(frozen=True)
class AugmentParams:
    zoom: float = 1.0
    shift_row: float = 0.0
    shift_col: float = 0.0
    mirror: bool = False
    angle_deg: float = 0.0
    gamma: float = 1.0

    def as_dict(self) -> dict[str, float | bool]:
        return asdict(self)


IDENTITY = AugmentParams()


@dataclass(frozen=True)
class EnlargeParams:
    scale: float  # the content grows by this factor about the image centre (what leaves the frame is cropped)

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def draw_enlarge(seed: int, base: int, copy: int, scale_range: tuple[float, float] = ENLARGE_RANGE) -> EnlargeParams:
    """The enlargement of copy `copy` of base `base`, uniform in `scale_range`, from (seed, base, copy) alone."""
    rng = np.random.default_rng([seed, ENLARGE_TAG, base, copy])
    return EnlargeParams(float(rng.uniform(*scale_range)))


def enlarge(image: np.ndarray, params: EnlargeParams) -> np.ndarray:
    """The image's content enlarged by `params.scale` about its centre, same shape: the centred window of
    1/scale of the side, resized back (`augment` with a zoom only)."""
    return augment(image, AugmentParams(zoom=params.scale))


def draw_params(seed: int, base: int, copy: int, ranges: AugmentRanges = AugmentRanges()) -> AugmentParams:
    """The parameters of copy `copy` of base image `base`: copy 0 is the base itself; the others depend only on
    (seed, base, copy), never on how many copies or which other bases a set holds."""
    if copy == 0:
        return IDENTITY
    rng = np.random.default_rng([seed, AUGMENT_TAG, base, copy])
    zoom, sr, sc, mirror, angle, gamma = rng.random(6)
    return AugmentParams(
        zoom=float(1.0 + zoom * (ranges.zoom_max - 1.0)),
        shift_row=float((2 * sr - 1) * ranges.shift_max),
        shift_col=float((2 * sc - 1) * ranges.shift_max),
        mirror=bool(mirror < 0.5),
        angle_deg=float((2 * angle - 1) * ranges.angle_max_deg),
        gamma=float(ranges.gamma_min + gamma * (ranges.gamma_max - ranges.gamma_min)),
    )


def augment(image: np.ndarray, params: AugmentParams) -> np.ndarray:
    """float32 `[row, col]` in [0, 1] of the same shape: rotate (about the centre, edges repeated), crop the
    zoomed and shifted window and resize it back, mirror left-right, then raise to the gamma."""
    out = np.clip(np.asarray(image, dtype=np.float64), 0.0, 1.0)
    if params == IDENTITY:
        return out.astype(np.float32)
    rows, cols = out.shape
    if params.angle_deg:
        out = rotate(out, params.angle_deg, order=1, mode="edge", preserve_range=True)
    h, w = max(2, round(rows / params.zoom)), max(2, round(cols / params.zoom))
    centre_r = rows / 2 + params.shift_row * rows
    centre_c = cols / 2 + params.shift_col * cols
    top = int(np.clip(round(centre_r - h / 2), 0, rows - h))
    left = int(np.clip(round(centre_c - w / 2), 0, cols - w))
    out = out[top : top + h, left : left + w]
    if out.shape != (rows, cols):
        out = resize(out, (rows, cols), order=1, mode="edge", anti_aliasing=False, preserve_range=True)
    if params.mirror:
        out = out[:, ::-1]
    out = np.clip(out, 0.0, 1.0) ** params.gamma
    return np.ascontiguousarray(out, dtype=np.float32)


MODES = ("augment", "homogenise", "enlarge")
Params = AugmentParams | HomogeniseParams | EnlargeParams


class AugmentedSource:
    """`copies` versions of each base image; `positions` are positions in the base source's seeded order
    (`choose_indices(len(base), len(base), seed)`); index i = copy i % copies of the base image at
    positions[i // copies]."""

    def __init__(
        self,
        base: TargetSource,
        positions: np.ndarray,
        copies: int,
        seed: int,
        spec: str = "",
        mode: str = "augment",
        ranges: AugmentRanges = AugmentRanges(),
    ) -> None:
        if copies < 1:
            raise ValueError(f"copies must be at least 1, not {copies}")
        if mode not in MODES:
            raise ValueError(f"mode {mode!r} is not one of {', '.join(MODES)}")
        positions = np.asarray(positions, dtype=np.int64)
        if len(positions) == 0 or positions.min() < 0 or positions.max() >= len(base):
            raise ValueError(f"base positions must lie in 0..{len(base) - 1}")
        self.base = base
        self.order = choose_indices(len(base), len(base), seed)
        self.bases = self.order[positions]  # the base source's indices
        self.copies = int(copies)
        self.seed = int(seed)
        self.mode = mode
        self.ranges = ranges
        self.spec = spec or f"augment:copies={copies}:bases={positions.min()}-{positions.max()}:{base.spec}"

    @property
    def name(self) -> str:
        return f"{self.base.name}, {self.copies} augmented copies of {len(self.bases)} bases"

    def __len__(self) -> int:
        return len(self.bases) * self.copies

    def base_of(self, index: int) -> int:
        """The base source's index of the image set index `index` was made from (its identity)."""
        return int(self.bases[check_index(self, index) // self.copies])

    def params(self, index: int) -> Params:
        """The frame's parameters, regenerated from (seed, base, copy): what the report tabulates."""
        i = check_index(self, index)
        base, copy = int(self.bases[i // self.copies]), i % self.copies
        if self.mode == "homogenise":
            return draw_homogenise(self.seed, base, copy)
        if self.mode == "enlarge":
            return draw_enlarge(self.seed, base, copy)
        return draw_params(self.seed, base, copy, self.ranges)

    def image(self, index: int) -> np.ndarray:
        params = self.params(index)
        image = self.base.image(self.base_of(index))
        if isinstance(params, HomogeniseParams):
            return homogenise(image, params)
        if isinstance(params, EnlargeParams):
            return enlarge(image, params)
        return augment(image, params)


def parse_bases(spec: str, text: str) -> np.ndarray:
    """`A-B` (inclusive) or `A` -> base indices."""
    first, _, last = text.partition("-")
    try:
        lo, hi = int(first), int(last or first)
    except ValueError:
        raise TargetSpecError(spec, f"bases={text!r}: expected a range A-B of base indices, e.g. bases=0-79") from None
    if lo < 0 or hi < lo:
        raise TargetSpecError(spec, f"bases={text!r}: need 0 <= A <= B")
    return np.arange(lo, hi + 1, dtype=np.int64)


def open_augmented(spec: str, argument: str | None, seed: int, open_base) -> AugmentedSource:
    """`argument` = `copies=N[:bases=A-B][:mode=augment|homogenise|enlarge]:SPEC` (options first, any order;
    the rest is the base spec)."""
    expected = (
        "expected augment:copies=N[:bases=A-B][:mode=homogenise|enlarge]:SPEC, e.g. augment:copies=10:bases=0-79:lfw"
    )
    items = (argument or "").split(":")
    options: dict[str, str] = {}
    while items and "=" in items[0] and items[0].split("=", 1)[0].strip().lower() in ("copies", "bases", "mode"):
        key, _, value = items.pop(0).partition("=")
        options[key.strip().lower()] = value.strip()
    inner = ":".join(items).strip()
    if not inner or "copies" not in options:
        raise TargetSpecError(spec, expected)
    if inner.split(":", 1)[0].strip().lower() == "augment":
        raise TargetSpecError(spec, "an augmented set cannot augment another augmented set")
    try:
        copies = int(options["copies"])
    except ValueError:
        raise TargetSpecError(spec, f"copies={options['copies']!r} is not an integer") from None
    if copies < 1:
        raise TargetSpecError(spec, f"copies={copies} must be at least 1")
    mode = options.get("mode", "augment").lower()
    if mode not in MODES:
        raise TargetSpecError(spec, f"mode={mode!r}: expected {' or '.join(MODES)}")
    base = open_base(inner, seed)
    positions = parse_bases(spec, options["bases"]) if "bases" in options else np.arange(len(base))
    if positions[-1] >= len(base):
        raise TargetSpecError(spec, f"bases up to {positions[-1]} but {inner!r} has {len(base)} images")
    return AugmentedSource(base, positions, copies, seed, spec=spec, mode=mode)
