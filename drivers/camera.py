"""The camera contract: triggered frames copied out of the driver, and timeouts instead of hangs."""

from __future__ import annotations

import enum
from abc import abstractmethod
from dataclasses import dataclass
from typing import Any

import numpy as np

from speckle_lab.drivers.capabilities import RegionOfInterest
from speckle_lab.drivers.device import Device, DeviceIdentity
from speckle_lab.drivers.errors import OutOfRange


class TriggerMode(enum.StrEnum):
    SOFTWARE = "software"  # one frame per `software_trigger()`
    HARDWARE = "hardware"  # one frame per edge on the trigger line (e.g. the DMD's trigger out)
    FREE_RUN = "free_run"  # frames as fast as exposure and readout allow


@dataclass(frozen=True)
class Roi:
    """Region of interest on the sensor, in pixels."""

    row: int
    col: int
    height: int
    width: int


@dataclass(frozen=True)
class Frame:
    """One camera frame: `pixels` is `[row, col]`, owned by the caller (copied out of the driver)."""

    pixels: np.ndarray
    frame_id: int
    timestamp_s: float
    exposure_us: float


@dataclass(frozen=True)
class FrameBlock:
    """Frames read together: `pixels` is `[frame, row, col]`."""

    pixels: np.ndarray
    frame_ids: np.ndarray
    timestamps_s: np.ndarray
    exposure_us: float

    def __len__(self) -> int:
        return len(self.frame_ids)


class Camera(Device):
    """An area camera. Call `start` before reading; `read` raises `DeviceTimeout` when no frame comes.

    Backends pass identity and sensor shape to the constructor as they become known; None sets nothing."""

    def __init__(self, identity: DeviceIdentity | None = None, sensor_shape: tuple[int, int] | None = None) -> None:
        super().__init__(identity)
        if sensor_shape is not None:
            rows, cols = (int(n) for n in sensor_shape)
            if rows < 1 or cols < 1:
                raise ValueError(f"sensor shape {sensor_shape} is not a positive (rows, cols)")
            self._sensor_shape = (rows, cols)

    @property
    def sensor_shape(self) -> tuple[int, int]:
        """(rows, cols) of the full sensor."""
        return self._sensor_shape

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, cols) of the frames as read: the region of interest where the camera has one, else the sensor."""
        if isinstance(self, RegionOfInterest):
            roi = self.roi
            return roi.height, roi.width
        return self.sensor_shape

    @property
    @abstractmethod
    def bit_depth(self) -> int: ...

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(np.uint8 if self.bit_depth <= 8 else np.uint16)

    @property
    @abstractmethod
    def exposure_us(self) -> float: ...

    @abstractmethod
    def set_exposure_us(self, exposure_us: float) -> None: ...

    @property
    @abstractmethod
    def gain_db(self) -> float: ...

    @abstractmethod
    def set_gain_db(self, gain_db: float) -> None: ...

    @property
    @abstractmethod
    def trigger_mode(self) -> TriggerMode: ...

    @abstractmethod
    def set_trigger_mode(self, mode: TriggerMode) -> None: ...

    @property
    @abstractmethod
    def acquiring(self) -> bool: ...

    @abstractmethod
    def start(self, n_buffers: int = 16) -> None: ...

    @abstractmethod
    def stop(self) -> None: ...

    @abstractmethod
    def software_trigger(self) -> None: ...

    @abstractmethod
    def read(self, timeout_s: float) -> Frame: ...

    def read_block(self, n_frames: int, timeout_s: float) -> FrameBlock:
        """Read `n_frames` frames; `timeout_s` applies to each. Backends that can fetch many frames
        at once (the simulated camera computes a block in one matrix product) override this."""
        frames = [self.read(timeout_s) for _ in range(n_frames)]
        shape = frames[0].pixels.shape if frames else self.shape
        pixels = np.empty((n_frames, *shape), dtype=self.dtype)
        for i, frame in enumerate(frames):
            pixels[i] = frame.pixels
        return FrameBlock(
            pixels=pixels,
            frame_ids=np.array([f.frame_id for f in frames], dtype=np.int64),
            timestamps_s=np.array([f.timestamp_s for f in frames], dtype=np.float64),
            exposure_us=self.exposure_us,
        )

    def check_roi(self, roi: Roi) -> None:
        """For cameras with `RegionOfInterest`: refuse a region outside the sensor."""
        rows, cols = self.sensor_shape
        inside = roi.row >= 0 and roi.col >= 0 and roi.row + roi.height <= rows and roi.col + roi.width <= cols
        if not inside or roi.height < 1 or roi.width < 1:
            raise OutOfRange(str(self.identity), f"set roi {roi}", f"the sensor is {rows}x{cols} pixels")

    def state(self) -> dict[str, Any]:
        roi = self.roi if isinstance(self, RegionOfInterest) else Roi(0, 0, *self.sensor_shape)
        return {
            "sensor_shape": list(self.sensor_shape),
            "roi": [roi.row, roi.col, roi.height, roi.width],
            "bit_depth": self.bit_depth,
            "exposure_us": self.exposure_us,
            "gain_db": self.gain_db,
            "trigger_mode": str(self.trigger_mode),
            "acquiring": self.acquiring,
        }
