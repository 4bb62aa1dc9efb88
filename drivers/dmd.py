"""The DMD contract: single patterns for step mode, preloaded sequences with triggers for speed."""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass
from typing import Any

import numpy as np

from speckle_lab.drivers.capabilities import TriggeredSequences
from speckle_lab.drivers.device import Device, DeviceIdentity
from speckle_lab.drivers.errors import OutOfRange


@dataclass(frozen=True)
class DmdGeometry:
    """Where the illuminated active area sits on the mirror array, and how it is cut into square
    macropixels of `macropixel_mirrors` mirrors a side: the unit in which targets are placed."""

    mirror_shape: tuple[int, int]
    active_top: int
    active_left: int
    macropixel_mirrors: int
    side_macropixels: int

    @property
    def n_inputs(self) -> int:
        return self.side_macropixels**2

    @property
    def active_side_mirrors(self) -> int:
        return self.side_macropixels * self.macropixel_mirrors

    def __post_init__(self) -> None:
        rows, cols = self.mirror_shape
        side = self.active_side_mirrors
        if (
            self.active_top < 0
            or self.active_left < 0
            or self.active_top + side > rows
            or (self.active_left + side > cols)
        ):
            raise ValueError(
                f"active area of {side}x{side} mirrors at ({self.active_top}, {self.active_left}) "
                f"does not fit the {rows}x{cols} mirror array"
            )

    def to_mirrors(self, macropixels: np.ndarray) -> np.ndarray:
        """Mirror patterns `[frame, row, col]` from macropixel images `[frame, side, side]` (bool or uint8),
        each macropixel repeated over its mirrors, everything outside the active area off."""
        macropixels = np.asarray(macropixels)
        n, side, m = len(macropixels), self.side_macropixels, self.macropixel_mirrors
        if macropixels.shape[1:] != (side, side):
            raise ValueError(f"macropixel images of shape {macropixels.shape[1:]} are not {side}x{side}")
        out = np.zeros((n, *self.mirror_shape), dtype=macropixels.dtype)
        span = self.active_side_mirrors
        block = out[:, self.active_top : self.active_top + span, self.active_left : self.active_left + span]
        block.reshape(n, side, m, side, m)[...] = macropixels[:, :, None, :, None]
        return out


class DMD(Device):
    """A digital micromirror device. Patterns are `[row, col]` arrays of the mirror shape: bool for
    binary, uint8 for 8-bit gray (0 dark, 255 full on), shown as time-multiplexed bit planes.

    Backends pass identity, mirror shape and fastest pattern rate to the constructor as they become known
    (a real device tells them after it is opened); a value left None is not set."""

    def __init__(
        self,
        identity: DeviceIdentity | None = None,
        mirror_shape: tuple[int, int] | None = None,
        max_pattern_rate_hz: float | None = None,
    ) -> None:
        super().__init__(identity)
        if mirror_shape is not None:
            rows, cols = (int(n) for n in mirror_shape)
            if rows < 1 or cols < 1:
                raise ValueError(f"mirror shape {mirror_shape} is not a positive (rows, cols)")
            self._mirror_shape = (rows, cols)
        if max_pattern_rate_hz is not None:
            if not max_pattern_rate_hz > 0:
                raise ValueError(f"pattern rate {max_pattern_rate_hz} Hz is not positive")
            self._rate_hz = float(max_pattern_rate_hz)

    @property
    def mirror_shape(self) -> tuple[int, int]:
        """(rows, cols) of the mirror array."""
        return self._mirror_shape

    @property
    def max_pattern_rate_hz(self) -> float:
        """Fastest binary pattern rate the device supports."""
        return self._rate_hz

    @property
    def triggered_sequences(self) -> bool:
        """Whether this DMD has the `TriggeredSequences` capability (derived from it, never set)."""
        return isinstance(self, TriggeredSequences)

    @property
    def min_picture_time_us(self) -> float:
        return 1e6 / self.max_pattern_rate_hz

    @abstractmethod
    def show(self, pattern: np.ndarray) -> None:
        """Display one pattern until the next call (step mode)."""

    @abstractmethod
    def load_sequence(
        self,
        patterns: np.ndarray,
        picture_time_us: float,
        trigger_in: bool = False,
        trigger_out: bool = True,
    ) -> None:
        """Upload `patterns` `[frame, row, col]`; each is shown for `picture_time_us`.
        `trigger_out` emits one trigger per pattern (the DMD is master); `trigger_in` waits for one."""

    def show_macropixels(self, image: np.ndarray, geometry: DmdGeometry) -> None:
        """Display one macropixel image `[side, side]` (bool or uint8) placed as `geometry` says (step mode).

        The capture engine works in macropixels. A DMD whose hardware takes mirror patterns (ALP-4, a display
        DMD) expands them here, with `geometry.to_mirrors`; one that can use macropixels directly overrides it."""
        images = self.check_macropixels(image, geometry, "show")
        self.show(geometry.to_mirrors(images)[0])

    def load_macropixels(
        self,
        images: np.ndarray,
        geometry: DmdGeometry,
        picture_time_us: float,
        trigger_in: bool = False,
        trigger_out: bool = True,
    ) -> None:
        """`load_sequence` for macropixel images `[frame, side, side]` placed as `geometry` says; expanded to
        mirror patterns here unless the backend overrides it (see `show_macropixels`)."""
        images = self.check_macropixels(images, geometry, f"load sequence of {len(images)} macropixel images")
        self.load_sequence(geometry.to_mirrors(images), picture_time_us, trigger_in, trigger_out)

    @abstractmethod
    def start(self, repeat: int = 1) -> None:
        """Run the loaded sequence `repeat` times (0 = until `stop`). Returns at once."""

    @abstractmethod
    def stop(self) -> None: ...

    @abstractmethod
    def wait(self, timeout_s: float | None = None) -> None:
        """Block until the running sequence ends; a timeout raises `DeviceTimeout`."""

    def check_patterns(self, patterns: np.ndarray, command: str) -> np.ndarray:
        """Validate a pattern stack against the mirror shape; returns it as `[frame, row, col]`."""
        patterns = np.asarray(patterns)
        if patterns.ndim == 2:
            patterns = patterns[None]
        if patterns.ndim != 3 or patterns.shape[1:] != self.mirror_shape:
            raise OutOfRange(
                str(self.identity),
                command,
                f"patterns of shape {patterns.shape} do not match the mirror shape {self.mirror_shape}",
            )
        if patterns.dtype not in (np.bool_, np.uint8):
            raise OutOfRange(str(self.identity), command, f"pattern dtype {patterns.dtype} is neither bool nor uint8")
        return patterns

    def check_macropixels(self, images: np.ndarray, geometry: DmdGeometry, command: str) -> np.ndarray:
        """Validate macropixel images against `geometry` and this DMD; returns them as `[frame, side, side]`."""
        images = np.asarray(images)
        if images.ndim == 2:
            images = images[None]
        if tuple(geometry.mirror_shape) != tuple(self.mirror_shape):
            raise OutOfRange(
                str(self.identity),
                command,
                f"the geometry is for {geometry.mirror_shape} mirrors, the DMD has {self.mirror_shape}",
            )
        side = geometry.side_macropixels
        if images.ndim != 3 or images.shape[1:] != (side, side):
            expected = f"[frame, {side}, {side}]"
            raise OutOfRange(str(self.identity), command, f"images of shape {images.shape} are not {expected}")
        if images.dtype not in (np.bool_, np.uint8):
            raise OutOfRange(str(self.identity), command, f"image dtype {images.dtype} is neither bool nor uint8")
        return images

    def check_picture_time_us(self, picture_time_us: float, command: str) -> None:
        if picture_time_us < self.min_picture_time_us * (1 - 1e-9):
            raise OutOfRange(
                str(self.identity),
                command,
                f"picture time {picture_time_us} us is below the minimum {self.min_picture_time_us:.2f} us",
            )

    def state(self) -> dict[str, Any]:
        return {
            "mirror_shape": list(self.mirror_shape),
            "max_pattern_rate_hz": self.max_pattern_rate_hz,
        }
