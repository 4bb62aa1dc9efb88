"""Weighted mixtures of sources (e.g. faces + digits) with exact proportions and no repeats until a
component is exhausted."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from speckle_lab.acquisition.targets.base import TargetSource, check_index

MIX_TAG = 0x313


class MixedSource:
    """Index i shows component `component[i]`, whose occurrences walk through seeded permutations of its
    images: the first len(component) occurrences are all different, then a fresh permutation starts.

    Proportions are exact (largest-remainder rounding of weight x length), the order is shuffled. The
    default length shows every image of every component at least once at the requested proportions:
    max(len(component) / weight)."""

    def __init__(
        self,
        sources: Sequence[TargetSource],
        weights: Sequence[float],
        seed: int,
        length: int | None = None,
        spec: str | None = None,
    ) -> None:
        if not sources or len(sources) != len(weights):
            raise ValueError(f"a mix needs one weight per source: {len(sources)} sources, {len(weights)} weights")
        w = np.asarray(weights, dtype=np.float64)
        if not np.all(np.isfinite(w)) or np.any(w <= 0):
            raise ValueError(f"mix weights must be positive numbers, not {list(weights)}")
        if seed < 0:
            raise ValueError(f"the seed must be >= 0, not {seed}")
        self.sources = list(sources)
        self.weights = w / w.sum()
        self.seed = seed
        sizes = [len(s) for s in self.sources]
        if min(sizes) < 1:
            raise ValueError("every source of a mix must have images")
        n = length or max(math.ceil(size / weight) for size, weight in zip(sizes, self.weights, strict=True))
        counts = _largest_remainder(self.weights, n)
        assignment = np.repeat(np.arange(len(sizes), dtype=np.int32), counts)
        np.random.default_rng([seed, MIX_TAG]).shuffle(assignment)
        occurrence = np.empty(n, dtype=np.int64)
        for c in range(len(sizes)):
            where = np.flatnonzero(assignment == c)
            occurrence[where] = np.arange(len(where))
        self.component = assignment
        self._occurrence = occurrence
        self._permutations: dict[tuple[int, int], np.ndarray] = {}
        self.spec = spec or "mix:" + ",".join(
            f"{s.spec}={weight:g}" for s, weight in zip(self.sources, self.weights, strict=True)
        )

    @property
    def name(self) -> str:
        parts = " + ".join(f"{weight:.0%} {s.name}" for s, weight in zip(self.sources, self.weights, strict=True))
        return f"mix ({parts}; {len(self)} images)"

    def __len__(self) -> int:
        return len(self.component)

    def origin(self, index: int) -> tuple[int, int]:
        """(component number, image index inside that component) of mixture image `index`: provenance."""
        i = check_index(self, index)
        c = int(self.component[i])
        size = len(self.sources[c])
        cycle, position = divmod(int(self._occurrence[i]), size)
        key = (c, cycle)
        if key not in self._permutations:
            self._permutations[key] = np.random.default_rng([self.seed, MIX_TAG, c, cycle]).permutation(size)
        return c, int(self._permutations[key][position])

    def image(self, index: int) -> np.ndarray:
        c, inner = self.origin(index)
        return self.sources[c].image(inner)


def _largest_remainder(weights: np.ndarray, n: int) -> np.ndarray:
    exact = weights * n
    counts = np.floor(exact).astype(np.int64)
    short = n - int(counts.sum())
    counts[np.argsort(-(exact - counts), kind="stable")[:short]] += 1
    return counts


def mix_sources(sources: list[TargetSource], weights: list[float], seed: int, length: int | None = None) -> MixedSource:
    """A `MixedSource` of `sources` in proportions `weights` (normalised to sum to 1)."""
    return MixedSource(sources, weights, seed, length)
