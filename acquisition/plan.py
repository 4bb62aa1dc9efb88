"""A capture plan: which targets, where on the DMD, how many frames, with which settings. Plain data,
validated, deterministic: the same plan yields the same targets in the same order on every machine."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Literal, get_args

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from speckle_lab.acquisition.targets import PlacementSpec
from speckle_lab.acquisition.targets.prepare import BinarizeMode

# The DMD display modes: 8-bit gray levels, or one of the binarisations (the one list; the CLI and the panel
# offer exactly these).
DisplayMode = Literal["gray", BinarizeMode]
DISPLAY_MODES: tuple[str, ...] = get_args(DisplayMode)


class PlanError(ValueError):
    """A plan that cannot run: the message names the key and what was expected."""


#: The rule bench files follow too: TOML types are kept ("10" is not 10), no inf or nan, unknown keys are errors.
STRICT = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)


class CapturePlan(BaseModel):
    """Everything that decides what a capture records. Stored in the data file; `--resume` rereads it."""

    model_config = STRICT

    targets: str = Field("blobs", description="target source spec, e.g. mnist, lfw, blobs, mix:lfw=0.5,mnist=0.5")
    n_frames: int = Field(1000, ge=1)
    n_targets: int | None = Field(None, ge=1, description="distinct targets; frames cycle through them")
    target_offset: int = Field(
        0, ge=0, description="skip this many of the source's seeded order: disjoint train and test sets, one seed"
    )
    seed: int = Field(0, ge=0, description="seeds the target order and the placements")
    target_rows: int = Field(32, ge=2)
    target_cols: int = Field(32, ge=2)
    display: DisplayMode = Field(
        "gray", description="gray: 8-bit DMD levels; threshold, dither (Floyd-Steinberg), ordered: binary DMD"
    )
    placement: PlacementSpec = Field(default_factory=PlacementSpec)
    exposure_us: float = Field(40.0, gt=0)
    laser_power_w: float = Field(0.05, ge=0)
    mode: Literal["sequence", "step"] = "sequence"
    block_frames: int = Field(256, ge=1)
    picture_time_us: float | None = Field(
        None, gt=0, description="default: the exposure plus 4 us, at least the DMD minimum"
    )
    settle_s: float = Field(0.0, ge=0, description="step mode: wait after showing a pattern")
    dark_frames: int = Field(16, ge=0, description="dark frames at the start and at the end")
    reference_every: int = Field(1000, ge=1, description="a reference frame after every K rows")
    max_retries: int = Field(3, ge=0)
    read_timeout_s: float = Field(5.0, gt=0)

    @field_validator("placement", mode="before")
    @classmethod
    def _placement_table(cls, value: object) -> object:
        """A `[placement]` table becomes the one placement model, validated by its own (strict) rules: strict
        mode would otherwise accept only a ready PlacementSpec instance."""
        return PlacementSpec(**value) if isinstance(value, dict) else value

    @property
    def target_shape(self) -> tuple[int, int]:
        return self.target_rows, self.target_cols

    def placement_spec(self) -> PlacementSpec:
        return self.placement

    def target_index(self, rows: range) -> np.ndarray:
        """Row of the target list shown by each frame row: frames cycle through the list."""
        n = self.n_targets or self.n_frames
        return np.arange(rows.start, rows.stop, dtype=np.int64) % n

    def picture_time_for(self, min_picture_time_us: float) -> float:
        wanted = self.picture_time_us if self.picture_time_us is not None else self.exposure_us + 4.0
        return max(wanted, min_picture_time_us)

    def to_dict(self) -> dict:
        return self.model_dump(mode="json")


def plan_from_dict(data: dict, where: str = "plan") -> CapturePlan:
    try:
        return CapturePlan.model_validate(data)
    except ValidationError as error:
        raise PlanError(_describe(error, where)) from None


def read_toml(path: Path, what: str) -> dict:
    """A TOML file as data (never code); a missing or malformed file is a `PlanError` naming it and `what`
    it should have been (a plan, a queue, a training configuration)."""
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise PlanError(f"{path}: no such {what} file") from None
    except IsADirectoryError:
        raise PlanError(f"{path}: is a directory; expected a {what} file (TOML)") from None
    except OSError as error:
        raise PlanError(f"{path}: cannot read the {what} file: {error.strerror or error}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise PlanError(
            f"{path}: not UTF-8 text (byte {raw[error.start]:#04x} at offset {error.start}); TOML files are UTF-8"
        ) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise PlanError(f"{path}: not valid TOML: {error}") from None


def load_plan(path: Path) -> CapturePlan:
    """A plan from a TOML file."""
    return plan_from_dict(read_toml(path, "plan"), str(path))


def _describe(error: ValidationError, where: str) -> str:
    lines = []
    for problem in error.errors():
        key = ".".join(str(part) for part in problem["loc"]) or "(top level)"
        given = problem.get("input")
        lines.append(f"{where}: {key}: {problem['msg']} (got {given!r})")
    return "\n".join(lines)
