"""The diversity of n targets of a source, prepared (and, given the DMD's side, placed) as a capture would show
them: what `speckle-lab targets SOURCE --stats` reports."""

from __future__ import annotations

import time

import numpy as np

from speckle_lab.acquisition.targets.base import TargetSource
from speckle_lab.acquisition.targets.diversity import target_set_stats
from speckle_lab.acquisition.targets.errors import TargetSpecError
from speckle_lab.acquisition.targets.placement import PlacementSpec, draw_placements, render_block
from speckle_lab.acquisition.targets.prepare import prepare
from speckle_lab.acquisition.targets.selection import choose_indices

DEFAULT_SHAPE = (32, 32)


def source_stats(
    source: TargetSource,
    n: int,
    seed: int = 0,
    shape: tuple[int, int] = DEFAULT_SHAPE,
    side_macropixels: int | None = None,
    placement: PlacementSpec | None = None,
) -> dict[str, float]:
    """`target_set_stats` of `n` targets of `source` (all of them if it has fewer), drawn without replacement
    by `seed` and prepared at `shape`; with `side_macropixels` they are also placed by `placement` (default
    centred) for the DMD coverage. `seconds` is the time it took."""
    if n < 1:
        raise TargetSpecError(source.spec, f"n = {n}: expected at least 1 target")
    if side_macropixels is not None and not 1 <= min(shape) <= max(shape) <= side_macropixels:
        raise TargetSpecError(
            source.spec, f"targets of {shape[0]}x{shape[1]}: expected 1 to {side_macropixels} macropixels a side"
        )
    started = time.perf_counter()
    count = min(n, len(source))
    indices = choose_indices(len(source), count, seed)
    targets = np.stack([prepare(source.image(int(i)), shape) for i in indices])
    macropixels = None
    if side_macropixels is not None:
        placements = draw_placements(placement or PlacementSpec(), count, seed, side_macropixels, shape)
        macropixels, targets = render_block(targets, placements, None, side_macropixels)
    result = target_set_stats(targets, macropixels, seed)
    result["seconds"] = time.perf_counter() - started
    return result
