"""The train/validation/test split: seeded, recorded with the run, so evaluation uses exactly the test frames."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from speckle_lab.model.errors import ModelInputError

SUBSETS = ("train", "val", "test")


@dataclass(frozen=True, eq=False)
class Split:
    """Sorted global frame indices of each subset (sorted so that streamed reads stay sequential)."""

    train: np.ndarray
    val: np.ndarray
    test: np.ndarray

    def subset(self, name: str) -> np.ndarray:
        if name not in SUBSETS:
            raise ValueError(f"unknown subset {name!r}; expected one of {SUBSETS}")
        return getattr(self, name)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Split) and all(np.array_equal(self.subset(n), other.subset(n)) for n in SUBSETS)

    # Unhashable (it holds arrays). typeshed declares object.__hash__ a method, so mypy refuses the None that
    # the data model documents for this (https://docs.python.org/3/reference/datamodel.html#object.__hash__).
    __hash__ = None  # type: ignore[assignment]

    @property
    def n_frames(self) -> int:
        return len(self.train) + len(self.val) + len(self.test)

    def to_dict(self) -> dict[str, torch.Tensor]:
        """Tensors only, so the split can live in a weights_only checkpoint."""
        return {name: torch.from_numpy(self.subset(name).astype(np.int64)) for name in SUBSETS}

    @classmethod
    def from_dict(cls, d: dict) -> Split:
        return cls(**{name: np.asarray(d[name], dtype=np.int64) for name in SUBSETS})


def make_split(n_frames: int, val_fraction: float, test_fraction: float, seed: int) -> Split:
    """A seeded random partition of range(n_frames); non-zero fractions get at least one frame each."""

    def count(fraction: float) -> int:
        return 0 if fraction == 0 else max(1, round(n_frames * fraction))

    n_val, n_test = count(val_fraction), count(test_fraction)
    if n_frames - n_val - n_test < 1:
        raise ModelInputError(f"{n_frames} frames are too few for a split with validation and test frames")
    order = np.random.default_rng(seed).permutation(n_frames)
    return Split(
        train=np.sort(order[n_val + n_test :]),
        val=np.sort(order[:n_val]),
        test=np.sort(order[n_val : n_val + n_test]),
    )
