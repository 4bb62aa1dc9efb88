"""Training progress for people (a tqdm bar with loss and Dice) and for the GUI (a callback with events)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from tqdm.auto import tqdm

BATCH_EVENT_INTERVAL_S = 0.2  # batch events at most this often: reading the loss forces a GPU sync


@dataclass(frozen=True)
class ProgressEvent:
    """One step of training. Batch events carry running means over the epoch so far; epoch events the val metrics."""

    kind: Literal["batch", "epoch", "done"]
    epoch: int
    epochs: int
    batch: int = 0
    n_batches: int = 0
    loss: float = float("nan")
    dice: float = float("nan")
    val: dict[str, float] = field(default_factory=dict)
    stop_reason: str | None = None


ProgressCallback = Callable[[ProgressEvent], None]


class EpochProgress:
    """One epoch's bar plus throttled batch events; `due()` says when the running loss is worth reading."""

    def __init__(self, epoch: int, epochs: int, n_batches: int, callback: ProgressCallback | None, show: bool) -> None:
        self.epoch, self.epochs, self.n_batches, self.callback = epoch, epochs, n_batches, callback
        self.bar = tqdm(total=n_batches, desc=f"epoch {epoch}/{epochs}", unit="batch", leave=False, disable=not show)
        self._last_s = time.perf_counter()
        self._shown = 0

    def due(self, batch: int) -> bool:
        return batch == self.n_batches or time.perf_counter() - self._last_s >= BATCH_EVENT_INTERVAL_S

    def batch(self, batch: int, loss: float, dice: float) -> None:
        self._last_s = time.perf_counter()
        self.bar.update(batch - self._shown)
        self._shown = batch
        self.bar.set_postfix(loss=f"{loss:.4f}", dice=f"{dice:.3f}", refresh=False)
        if self.callback is not None:
            self.callback(ProgressEvent("batch", self.epoch, self.epochs, batch, self.n_batches, loss, dice))

    def close(self) -> None:
        self.bar.close()
