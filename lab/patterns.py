"""Test patterns for the DMD: what an operator shows to align the optics or to check a target by eye.

Targets go through the capture's own row maker, so "show target k" displays exactly what row k of a
capture with the same settings would show.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from speckle_lab.acquisition.plan import plan_from_dict
from speckle_lab.acquisition.rows import RowMaker
from speckle_lab.drivers import DmdGeometry

PatternKind = Literal["checkerboard", "all_on", "all_off", "target"]
PATTERN_NAMES: dict[PatternKind, str] = {
    "checkerboard": "Checkerboard",
    "all_on": "All on (active area)",
    "all_off": "All off",
    "target": "Target from a source",
}


@dataclass(frozen=True)
class PatternRequest:
    kind: PatternKind
    source: str = "mnist"
    index: int = 0  # the row of a capture plan over `source`
    size_macropixels: int = 32
    display: str = "gray"


def checkerboard(geometry: DmdGeometry, squares: int = 8) -> np.ndarray:
    """`squares` x `squares` checker over the active area, in whole macropixels."""
    side = geometry.side_macropixels
    cell = max(1, side // squares)
    rows, cols = np.indices((side, side)) // cell
    return geometry.to_mirrors(((rows + cols) % 2 == 0)[None])[0]


def all_on(geometry: DmdGeometry) -> np.ndarray:
    return geometry.to_mirrors(np.ones((1, geometry.side_macropixels, geometry.side_macropixels), np.bool_))[0]


def all_off(geometry: DmdGeometry) -> np.ndarray:
    return np.zeros(geometry.mirror_shape, np.bool_)


def target(geometry: DmdGeometry, request: PatternRequest) -> np.ndarray:
    """Row `index` of a fixed-placement plan over `source` (raises TargetSpecError, PlanError)."""
    size = min(request.size_macropixels, geometry.side_macropixels)
    plan = plan_from_dict(
        {
            "targets": request.source,
            "n_frames": request.index + 1,
            "target_rows": size,
            "target_cols": size,
            "display": request.display,
        },
        "test pattern",
    )
    rows = RowMaker(plan, geometry, geometry.mirror_shape)
    return rows.make(range(request.index, request.index + 1)).patterns[0]


def make_pattern(geometry: DmdGeometry, request: PatternRequest) -> np.ndarray:
    if request.kind == "checkerboard":
        return checkerboard(geometry)
    if request.kind == "all_on":
        return all_on(geometry)
    if request.kind == "all_off":
        return all_off(geometry)
    return target(geometry, request)
