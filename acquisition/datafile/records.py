"""The values that go into and come out of a capture file: run metadata and blocks of frame rows."""

from __future__ import annotations

import socket
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from speckle_lab.acquisition.version import software_version


@dataclass(frozen=True)
class RunMetadata:
    """What a capture was, written once at creation: the plan, the bench, who the devices were, the medium.

    `run_id`, `software_version`, `created_s` and `host` are filled in automatically when not given.
    """

    plan: dict[str, Any]
    bench: dict[str, Any]
    devices: list[dict[str, Any]]
    medium: dict[str, Any] | None
    target_stats: dict[str, Any]
    n_planned: int
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    software_version: str = field(default_factory=software_version)
    created_s: float = field(default_factory=time.time)
    host: str = field(default_factory=socket.gethostname)


@dataclass
class FrameRows:
    """One block of consecutive plan rows, every array with the same first length B."""

    speckle: np.ndarray  # (B, H, W) camera integer dtype
    target: np.ndarray  # (B, h, w) float32 in [0, 1]
    target_index: np.ndarray  # (B,) int64, row of the plan's target list
    timestamp_s: np.ndarray  # (B,) float64, seconds since the epoch
    frame_id: np.ndarray  # (B,) int64, camera frame id
    fields: dict[str, np.ndarray] = field(default_factory=dict)  # per-frame metadata declared at creation

    def __len__(self) -> int:
        return len(self.speckle)
