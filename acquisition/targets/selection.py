"""Which images of a source a target set uses. Files come in their own order (the bundled MNIST is sorted by
digit: the first 500 are all zeros), so a set is drawn, never taken from the front."""

from __future__ import annotations

import numpy as np

SELECTION_TAG = 0x5E1


def choose_indices(source_length: int, n: int, seed: int) -> np.ndarray:
    """int64 `[n]` source indices in a seeded random order: all different while n <= source_length; beyond
    that, further independent permutations follow (each image used once per pass)."""
    if source_length < 1 or n < 0 or seed < 0:
        raise ValueError(f"need a non-empty source, n >= 0 and seed >= 0 (got {source_length}, {n}, {seed})")
    passes = -(-n // source_length)
    order = [np.random.default_rng([seed, SELECTION_TAG, p]).permutation(source_length) for p in range(max(passes, 1))]
    return np.concatenate(order)[:n].astype(np.int64)


class ChosenIndices:
    """`choose_indices` without materialising it: index i of the set, computed per pass on demand, so a plan of
    any length costs memory only for the passes it reaches."""

    def __init__(self, source_length: int, n: int, seed: int) -> None:
        if source_length < 1 or n < 0 or seed < 0:
            raise ValueError(f"need a non-empty source, n >= 0 and seed >= 0 (got {source_length}, {n}, {seed})")
        self.source_length, self.n, self.seed = source_length, n, seed
        self._passes: dict[int, np.ndarray] = {}

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, rows: np.ndarray | int) -> np.ndarray:
        rows = np.asarray(rows, dtype=np.int64)
        if rows.size and (rows.min() < 0 or rows.max() >= self.n):
            raise IndexError(f"rows outside 0..{self.n - 1}")
        passes, within = np.divmod(rows, self.source_length)
        out = np.empty(rows.shape, dtype=np.int64)
        for p in np.unique(passes):
            order = self._passes.get(int(p))
            if order is None:
                order = np.random.default_rng([self.seed, SELECTION_TAG, int(p)]).permutation(self.source_length)
                self._passes = {int(p): order}  # plans walk forward: keep only the current pass
            out[passes == p] = order[within[passes == p]]
        return out
