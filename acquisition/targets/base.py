"""What every target source is (`TargetSource`) and the common case: a stack of images loaded on first use."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Protocol, runtime_checkable

import numpy as np

from speckle_lab.acquisition.targets.images import to_unit_gray


@runtime_checkable
class TargetSource(Protocol):
    """An indexable, deterministic set of target images at their native resolution."""

    spec: str  # the spec string it was opened from, e.g. "mnist", "lfw:/data/lfw.tgz"

    @property
    def name(self) -> str:
        """Human-readable description, e.g. "mnist (bundled, 5000 digits)"."""
        ...

    def __len__(self) -> int: ...

    def image(self, index: int) -> np.ndarray:
        """float32 `[row, col]` in [0, 1], gray, native resolution; the same index always gives the same image."""
        ...


def check_index(source: TargetSource, index: int) -> int:
    """`index` as a non-negative int inside the source, or an IndexError naming the source."""
    n = len(source)
    i = int(index)
    if i < 0:
        i += n
    if not 0 <= i < n:
        raise IndexError(f"target index {index} is outside {source.spec!r}, which has {n} images")
    return i


class ArraySource:
    """A source backed by an in-memory stack `[image, row, col]`, loaded by `load` on first use and cached.

    `labels` (e.g. the digit class) are kept when the data set has them, for analyses by class."""

    def __init__(
        self,
        spec: str,
        describe: Callable[[int], str],
        load: Callable[[], tuple[np.ndarray, np.ndarray | None]],
    ) -> None:
        self.spec = spec
        self._describe = describe
        self._load = load
        self._images: np.ndarray | None = None
        self._labels: np.ndarray | None = None
        self._lock = threading.Lock()

    @property
    def images(self) -> np.ndarray:
        """The whole native stack (as stored: uint8 or float)."""
        with self._lock:
            if self._images is None:
                self._images, self._labels = self._load()
            return self._images

    @property
    def labels(self) -> np.ndarray | None:
        _ = self.images
        return self._labels

    @property
    def name(self) -> str:
        return self._describe(len(self))

    def __len__(self) -> int:
        return len(self.images)

    def image(self, index: int) -> np.ndarray:
        return to_unit_gray(self.images[check_index(self, index)])

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.spec!r}>"
