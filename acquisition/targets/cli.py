"""`speckle-lab targets [SOURCE] [--stats] [--n N]`: list the target sources, describe one, or measure the
diversity of n of its prepared targets."""

from __future__ import annotations

import sys
import time
from typing import TextIO

import numpy as np

from speckle_lab.acquisition.targets.diversity import target_set_stats
from speckle_lab.acquisition.targets.errors import TargetSpecError
from speckle_lab.acquisition.targets.placement import PlacementSpec, draw_placements, render_block
from speckle_lab.acquisition.targets.prepare import prepare
from speckle_lab.acquisition.targets.selection import choose_indices
from speckle_lab.acquisition.targets.sources import list_sources, open_source

EXIT_USAGE = 2
DEFAULT_SHAPE = (32, 32)


def run_targets(
    spec: str | None,
    stats: bool = False,
    n: int = 1000,
    seed: int = 0,
    *,
    shape: tuple[int, int] = DEFAULT_SHAPE,
    side_macropixels: int | None = None,
    placement: PlacementSpec | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """No spec: list the sources. A spec: its name and size (and, with `stats`, the diversity of `n` of its
    targets prepared at `shape`, drawn without replacement by `seed`; with `side_macropixels` they are also
    placed by `placement`, default centred, for the DMD coverage). Returns the exit code; a bad spec is one
    line on `err` and exit code 2."""
    out = out or sys.stdout
    err = err or sys.stderr
    if spec is None:
        rows = list_sources()
        width = max(len(syntax) for syntax, _ in rows)
        print("target sources (use as --targets SOURCE):", file=out)
        for syntax, description in rows:
            print(f"  {syntax:<{width}}  {description}", file=out)
        return 0
    try:
        source = open_source(spec, seed)
        print(f"{source.spec}: {source.name}", file=out)
        first = source.image(0)
        print(f"  {len(source)} images, first of {first.shape[0]}x{first.shape[1]} pixels", file=out)
        if stats:
            for key, value in _stats(source, n, seed, shape, side_macropixels, placement).items():
                print(f"  {key:<28} {value:.6g}", file=out)
    except (TargetSpecError, ValueError) as error:
        print(f"speckle-lab: error: {error}", file=err)
        return EXIT_USAGE
    return 0


def _stats(
    source, n: int, seed: int, shape: tuple[int, int], side: int | None, placement: PlacementSpec | None
) -> dict[str, float]:
    if n < 1:
        raise ValueError(f"--n must be at least 1, not {n}")
    started = time.perf_counter()
    count = min(n, len(source))
    indices = choose_indices(len(source), count, seed)
    targets = np.stack([prepare(source.image(int(i)), shape) for i in indices])
    macropixels = None
    if side is not None:
        placements = draw_placements(placement or PlacementSpec(), count, seed, side, shape)
        macropixels, targets = render_block(targets, placements, None, side)
    result = target_set_stats(targets, macropixels, seed)
    result["seconds"] = time.perf_counter() - started
    return result
