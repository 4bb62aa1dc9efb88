"""The two ways of turning DMD images into camera frames, through the device contracts only.

The engine works in macropixel images `[frame, side, side]` with the `DmdGeometry` that places them; a DMD
whose hardware takes mirror patterns expands them itself, so the hot path never builds mirror arrays.
Sequence mode is the fast path: the block of images is loaded into the DMD, which is master and
triggers the camera once per image. Step mode shows one image at a time and triggers by software,
for display DMDs and slow benches. Both check the camera's frame ids and report what went wrong.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod

import numpy as np

from speckle_lab.drivers import DMD, Camera, DeviceError, DmdGeometry, FrameBlock, TriggerMode


class FrameGapError(DeviceError):
    """The camera's frame ids skip within a block: a frame was dropped, so frames no longer match patterns."""


def check_consecutive(block: FrameBlock, camera: Camera, command: str) -> None:
    ids = block.frame_ids
    if len(ids) > 1 and not np.array_equal(np.diff(ids), np.ones(len(ids) - 1, dtype=ids.dtype)):
        first_gap = int(np.flatnonzero(np.diff(ids) != 1)[0])
        raise FrameGapError(
            str(camera.identity), command, f"frame ids jump from {ids[first_gap]} to {ids[first_gap + 1]}"
        )


def whole_array_geometry(mirror_shape: tuple[int, int]) -> DmdGeometry:
    """One macropixel per mirror over a square mirror array: images are mirror patterns."""
    rows, cols = mirror_shape
    if rows != cols:
        raise ValueError(f"a {rows}x{cols} mirror array is not square: give the DmdGeometry of its active area")
    return DmdGeometry((rows, cols), 0, 0, 1, rows)


class FrameCapture(ABC):
    """Shows macropixel images and returns one camera frame per image, in order. Without a geometry the
    images are whole (square) mirror patterns."""

    def __init__(
        self, dmd: DMD, camera: Camera, exposure_us: float, timeout_s: float, geometry: DmdGeometry | None = None
    ) -> None:
        self.dmd = dmd
        self.camera = camera
        self.exposure_us = exposure_us
        self.timeout_s = timeout_s
        self.geometry = geometry or whole_array_geometry(dmd.mirror_shape)

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
    def capture(self, images: np.ndarray) -> FrameBlock:
        """Frames of macropixel images `[frame, side, side]` (bool or uint8)."""

    @abstractmethod
    def seconds_per_frame(self) -> float:
        """The physical time one frame takes, for the preflight estimate."""


class SequenceCapture(FrameCapture):
    def __init__(
        self,
        dmd: DMD,
        camera: Camera,
        exposure_us: float,
        timeout_s: float,
        picture_time_us: float,
        geometry: DmdGeometry | None = None,
    ):
        super().__init__(dmd, camera, exposure_us, timeout_s, geometry)
        self.picture_time_us = picture_time_us

    @property
    def trigger_mode(self) -> TriggerMode:
        return TriggerMode.HARDWARE

    def capture(self, images: np.ndarray) -> FrameBlock:
        self.dmd.load_macropixels(images, self.geometry, self.picture_time_us, trigger_in=False, trigger_out=True)
        self.dmd.start(repeat=1)
        block = self.camera.read_block(len(images), self.timeout_s + len(images) * self.picture_time_us * 1e-6)
        self.dmd.wait(self.timeout_s)
        check_consecutive(block, self.camera, f"read {len(images)} hardware-triggered frames")
        return block

    def seconds_per_frame(self) -> float:
        return self.picture_time_us * 1e-6


class StepCapture(FrameCapture):
    def __init__(
        self,
        dmd: DMD,
        camera: Camera,
        exposure_us: float,
        timeout_s: float,
        settle_s: float,
        geometry: DmdGeometry | None = None,
    ):
        super().__init__(dmd, camera, exposure_us, timeout_s, geometry)
        self.settle_s = settle_s

    @property
    def trigger_mode(self) -> TriggerMode:
        return TriggerMode.SOFTWARE

    def capture(self, images: np.ndarray) -> FrameBlock:
        frames = []
        for image in images:
            self.dmd.show_macropixels(image, self.geometry)
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
        check_consecutive(block, self.camera, f"read {len(images)} software-triggered frames")
        return block

    def seconds_per_frame(self) -> float:
        return self.settle_s + self.exposure_us * 1e-6 + 0.005
