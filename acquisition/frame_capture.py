"""The two ways of turning DMD patterns into camera frames, through the device contracts only.

Sequence mode is the fast path: the block of patterns is loaded into the DMD, which is master and
triggers the camera once per pattern. Step mode shows one pattern at a time and triggers by software,
for display DMDs and slow benches. Both check the camera's frame ids and report what went wrong.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod

import numpy as np

from drivers import DMD, Camera, DeviceError, FrameBlock, TriggerMode


class FrameGapError(DeviceError):
    """The camera's frame ids skip within a block: a frame was dropped, so frames no longer match patterns."""


def check_consecutive(block: FrameBlock, camera: Camera, command: str) -> None:
    ids = block.frame_ids
    if len(ids) > 1 and not np.array_equal(np.diff(ids), np.ones(len(ids) - 1, dtype=ids.dtype)):
        first_gap = int(np.flatnonzero(np.diff(ids) != 1)[0])
        raise FrameGapError(
            str(camera.identity), command, f"frame ids jump from {ids[first_gap]} to {ids[first_gap + 1]}"
        )


class FrameCapture(ABC):
    """Shows patterns and returns one camera frame per pattern, in order."""

    def __init__(self, dmd: DMD, camera: Camera, exposure_us: float, timeout_s: float) -> None:
        self.dmd = dmd
        self.camera = camera
        self.exposure_us = exposure_us
        self.timeout_s = timeout_s

    @property
    @abstractmethod
    def trigger_mode(self) -> TriggerMode: ...

    def open(self) -> None:
        """Configure and start the camera for this mode."""
        if self.camera.acquiring:
            self.camera.stop()
        self.camera.set_exposure_us(self.exposure_us)
        self.camera.set_trigger_mode(self.trigger_mode)
        self.camera.start()

    def reopen(self) -> None:
        """After a failure: stop everything and start clean, so no stale frame or trigger remains."""
        self.dmd.stop()
        self.camera.stop()
        self.camera.start()

    def close(self) -> None:
        self.dmd.stop()
        self.camera.stop()

    @abstractmethod
    def capture(self, patterns: np.ndarray) -> FrameBlock: ...

    @abstractmethod
    def seconds_per_frame(self) -> float:
        """The physical time one frame takes, for the preflight estimate."""


class SequenceCapture(FrameCapture):
    def __init__(self, dmd: DMD, camera: Camera, exposure_us: float, timeout_s: float, picture_time_us: float):
        super().__init__(dmd, camera, exposure_us, timeout_s)
        self.picture_time_us = picture_time_us

    @property
    def trigger_mode(self) -> TriggerMode:
        return TriggerMode.HARDWARE

    def capture(self, patterns: np.ndarray) -> FrameBlock:
        self.dmd.load_sequence(patterns, self.picture_time_us, trigger_in=False, trigger_out=True)
        self.dmd.start(repeat=1)
        block = self.camera.read_block(len(patterns), self.timeout_s + len(patterns) * self.picture_time_us * 1e-6)
        self.dmd.wait(self.timeout_s)
        check_consecutive(block, self.camera, f"read {len(patterns)} hardware-triggered frames")
        return block

    def seconds_per_frame(self) -> float:
        return self.picture_time_us * 1e-6


class StepCapture(FrameCapture):
    def __init__(self, dmd: DMD, camera: Camera, exposure_us: float, timeout_s: float, settle_s: float):
        super().__init__(dmd, camera, exposure_us, timeout_s)
        self.settle_s = settle_s

    @property
    def trigger_mode(self) -> TriggerMode:
        return TriggerMode.SOFTWARE

    def capture(self, patterns: np.ndarray) -> FrameBlock:
        frames = []
        for pattern in patterns:
            self.dmd.show(pattern)
            if self.settle_s:
                time.sleep(self.settle_s)
            self.camera.software_trigger()
            frames.append(self.camera.read(self.timeout_s))
        block = FrameBlock(
            pixels=np.stack([f.pixels for f in frames]),
            frame_ids=np.array([f.frame_id for f in frames], dtype=np.int64),
            timestamps_s=np.array([f.timestamp_s for f in frames]),
            exposure_us=self.camera.exposure_us,
        )
        check_consecutive(block, self.camera, f"read {len(patterns)} software-triggered frames")
        return block

    def seconds_per_frame(self) -> float:
        return self.settle_s + self.exposure_us * 1e-6 + 0.005
