"""Devices that cost nothing: they honour the contracts but make no physics, so a benchmark measures only
the software around them (scheduler, target rendering, writer)."""

from __future__ import annotations

from typing import Any

import numpy as np

from speckle_lab.drivers import DMD, Camera, DeviceIdentity, Frame, FrameBlock, Laser, LaserStatus, Roi, TriggerMode


def _identity(kind: str) -> DeviceIdentity:
    return DeviceIdentity(kind, "benchmark", f"null {kind}", "0", "", "null")


class NullLaser(Laser):
    def __init__(self) -> None:
        super().__init__(0.0, 1.0)
        self._power_w, self._emission = 0.0, False

    identity = property(lambda self: _identity("laser"))
    power_setpoint_w = property(lambda self: self._power_w)
    measured_power_w = property(lambda self: self._power_w if self._emission else 0.0)
    emission = property(lambda self: self._emission)

    def _set_power_w(self, power_w: float) -> None:
        self._power_w = power_w

    def _check_ready_to_emit(self) -> None:
        pass  # no fault, no interlock

    def _switch_emission(self, on: bool) -> None:
        self._emission = on

    def status(self) -> LaserStatus:
        return LaserStatus(self._emission, None, True)

    def close(self) -> None:
        self._emission = False


class NullDMD(DMD):
    """Counts the triggers its sequences would emit; the null camera reads them."""

    def __init__(self, mirror_shape: tuple[int, int]) -> None:
        self._shape = mirror_shape
        self.pending = 0
        self._length = 0

    identity = property(lambda self: _identity("dmd"))
    mirror_shape = property(lambda self: self._shape)
    max_pattern_rate_hz = property(lambda self: 1e6 / 44.0)
    # A sequencer with a trigger output (`drivers.TriggeredSequences`): the engine runs it in sequence mode.
    trigger_out_line = property(lambda self: "null")

    def show(self, pattern: np.ndarray) -> None:
        pass

    def load_sequence(self, patterns: np.ndarray, picture_time_us: float, trigger_in=False, trigger_out=True):
        self._length = len(patterns)

    def load_macropixels(self, images, geometry, picture_time_us: float, trigger_in=False, trigger_out=True):
        self._length = len(images)

    def start(self, repeat: int = 1) -> None:
        self.pending += self._length * max(repeat, 1)

    def stop(self) -> None:
        pass

    def wait(self, timeout_s: float | None = None) -> None:
        pass

    def close(self) -> None:
        pass


class NullCamera(Camera):
    """Returns the same preallocated pixels for every frame, with consecutive frame ids."""

    def __init__(self, dmd: NullDMD, shape: tuple[int, int]) -> None:
        self._dmd = dmd
        self._shape = shape
        self._pixels = np.zeros((4096, *shape), np.uint16)
        self._next_id = 0
        self._mode = TriggerMode.SOFTWARE
        self._acquiring = False
        self._exposure_us = 40.0

    identity = property(lambda self: _identity("camera"))
    sensor_shape = property(lambda self: self._shape)
    bit_depth = property(lambda self: 12)
    exposure_us = property(lambda self: self._exposure_us)
    gain_db = property(lambda self: 0.0)
    roi = property(lambda self: Roi(0, 0, *self._shape))
    trigger_mode = property(lambda self: self._mode)
    acquiring = property(lambda self: self._acquiring)

    def set_exposure_us(self, exposure_us: float) -> None:
        self._exposure_us = exposure_us

    def set_gain_db(self, gain_db: float) -> None:
        pass

    def set_roi(self, roi: Roi) -> None:
        pass

    def set_trigger_mode(self, mode: TriggerMode) -> None:
        self._mode = mode

    def start(self, n_buffers: int = 16) -> None:
        self._acquiring = True

    def stop(self) -> None:
        self._acquiring = False

    def software_trigger(self) -> None:
        self._dmd.pending += 1

    def read(self, timeout_s: float) -> Frame:
        block = self.read_block(1, timeout_s)
        return Frame(block.pixels[0], int(block.frame_ids[0]), float(block.timestamps_s[0]), self._exposure_us)

    def read_block(self, n_frames: int, timeout_s: float) -> FrameBlock:
        self._dmd.pending -= n_frames
        ids = np.arange(self._next_id, self._next_id + n_frames)
        self._next_id += n_frames
        return FrameBlock(self._pixels[:n_frames], ids, np.zeros(n_frames), self._exposure_us)

    def state(self) -> dict[str, Any]:
        return {}

    def close(self) -> None:
        self._acquiring = False
