"""The checks every backend inherits from the contracts, exercised with minimal in-memory devices."""

from __future__ import annotations

import numpy as np
import pytest

from speckle_lab.drivers import (
    DMD,
    Camera,
    DeviceError,
    DeviceIdentity,
    DeviceTimeout,
    DmdGeometry,
    EmissionVetoed,
    Frame,
    Laser,
    LaserStatus,
    OutOfRange,
    Roi,
    TriggerMode,
)


class StubLaser(Laser):
    def __init__(self) -> None:
        super().__init__(0.001, 0.05)
        self.calls: list[float | str] = []
        self.closed = False

    identity = DeviceIdentity("laser", "test", "Stub", "1")
    power_setpoint_w = 0.0
    measured_power_w = 0.0
    emission = False

    def _check_ready_to_emit(self) -> None:
        self.calls.append("ready?")

    def _switch_emission(self, on: bool) -> None:
        self.calls.append("on" if on else "off")

    def status(self) -> LaserStatus:
        return LaserStatus(False, None, True)

    def _set_power_w(self, power_w: float) -> None:
        self.calls.append(power_w)

    def close(self) -> None:
        self.closed = True


class StubDMD(DMD):
    identity = DeviceIdentity("dmd", "test", "Stub", "2")
    mirror_shape = (6, 8)
    max_pattern_rate_hz = 10_000.0

    def show(self, pattern: np.ndarray) -> None:
        self.check_patterns(pattern, "show")

    def load_sequence(self, patterns, picture_time_us, trigger_in=False, trigger_out=True) -> None: ...

    def start(self, repeat: int = 1) -> None: ...

    def stop(self) -> None: ...

    def wait(self, timeout_s: float | None = None) -> None: ...

    def close(self) -> None: ...


class StubCamera(Camera):
    """Frames of constant value = frame id; `bit_depth` chosen at construction."""

    identity = DeviceIdentity("camera", "test", "Stub", "3")
    sensor_shape = (4, 6)
    exposure_us = 10.0
    gain_db = 0.0
    trigger_mode = TriggerMode.SOFTWARE
    acquiring = True

    def __init__(self, bit_depth: int = 12) -> None:
        self._bit_depth = bit_depth
        self._roi = Roi(0, 0, 4, 6)
        self._next = 0

    @property
    def bit_depth(self) -> int:
        return self._bit_depth

    @property
    def roi(self) -> Roi:
        return self._roi

    def set_roi(self, roi: Roi) -> None:
        self.check_roi(roi)
        self._roi = roi

    def set_exposure_us(self, exposure_us: float) -> None: ...

    def set_gain_db(self, gain_db: float) -> None: ...

    def set_trigger_mode(self, mode: TriggerMode) -> None: ...

    def start(self, n_buffers: int = 16) -> None: ...

    def stop(self) -> None: ...

    def software_trigger(self) -> None: ...

    def read(self, timeout_s: float) -> Frame:
        self._next += 1
        return Frame(np.full(self.shape, self._next, dtype=self.dtype), self._next, float(self._next), 10.0)

    def close(self) -> None: ...


@pytest.mark.parametrize("power_w", [0.0, 0.0009, 0.051, float("nan"), -1.0])
def test_laser_refuses_power_outside_range_without_calling_backend(power_w: float) -> None:
    """set_power_w checks the range before the backend sees anything: refused, never clipped."""
    laser = StubLaser()
    with pytest.raises(OutOfRange) as error:
        laser.set_power_w(power_w)
    assert laser.calls == []
    assert error.value.command.startswith("set power") and error.value.device == str(laser.identity)
    assert isinstance(error.value, ValueError) and isinstance(error.value, DeviceError)


def test_laser_accepts_range_ends_and_context_closes() -> None:
    """Both ends of the range are allowed; leaving the context closes the device."""
    with StubLaser() as laser:
        laser.set_power_w(0.001)
        laser.set_power_w(0.05)
        assert laser.calls == [0.001, 0.05]
    assert laser.closed


def test_laser_range_must_be_valid() -> None:
    """A backend cannot be built with an inverted or negative power range."""
    with pytest.raises(ValueError):
        Laser.__init__(StubLaser(), 0.1, 0.01)
    with pytest.raises(ValueError):
        Laser.__init__(StubLaser(), -0.1, 0.01)


def test_emission_asks_the_veto_after_the_readiness_checks_and_right_before_the_on_command() -> None:
    """A backend that never mentions the veto still has it asked: the base class owns `set_emission`."""
    laser = StubLaser()
    asked: list[str] = []

    def veto() -> str | None:
        laser.calls.append("veto?")
        return asked.pop() if asked else None

    laser.set_emission_veto(veto)
    laser.set_emission(True)
    assert laser.calls == ["ready?", "veto?", "on"]
    laser.calls.clear()
    asked.append("a stop was asked for")
    with pytest.raises(EmissionVetoed, match="emission on: not sent: a stop was asked for"):
        laser.set_emission(True)
    assert laser.calls == ["ready?", "veto?"]  # the on command never reached the backend
    laser.calls.clear()
    laser.set_emission(False)
    assert laser.calls == ["off"]  # off is never vetoed, nor checked


@pytest.mark.parametrize("member", ["set_emission", "set_emission_veto", "_check_emission_veto"])
def test_a_backend_that_defines_the_emission_template_or_the_veto_is_refused_at_class_creation(member: str) -> None:
    """What makes the veto structural: a backend cannot send its on command around it."""
    with pytest.raises(TypeError, match=rf"ForgetfulLaser defines {member}: .*_switch_emission"):
        type("ForgetfulLaser", (StubLaser,), {member: lambda self, *args: None})


def test_dmd_pattern_checks() -> None:
    """Patterns are bool or uint8 stacks of the mirror shape; the picture time respects the maximum rate."""
    dmd = StubDMD()
    assert dmd.check_patterns(np.zeros((6, 8), bool), "show").shape == (1, 6, 8)
    assert dmd.check_patterns(np.zeros((3, 6, 8), np.uint8), "load").shape == (3, 6, 8)
    with pytest.raises(OutOfRange, match=r"\(6, 8\)"):
        dmd.show(np.zeros((8, 6), bool))
    with pytest.raises(OutOfRange, match="float64"):
        dmd.show(np.zeros((6, 8)))
    assert dmd.min_picture_time_us == pytest.approx(100.0)
    dmd.check_picture_time_us(100.0, "load")
    with pytest.raises(OutOfRange, match="below the minimum"):
        dmd.check_picture_time_us(99.0, "load")


def test_camera_roi_shape_dtype_and_default_read_block() -> None:
    """ROI must lie on the sensor; frames take the ROI's shape and the smallest dtype of the bit depth;
    the default read_block stacks `read` frames in order."""
    camera = StubCamera(bit_depth=8)
    assert camera.dtype == np.uint8 and StubCamera(bit_depth=12).dtype == np.uint16
    for bad in (Roi(0, 0, 5, 6), Roi(-1, 0, 2, 2), Roi(1, 1, 0, 2), Roi(0, 3, 4, 4)):
        with pytest.raises(OutOfRange, match="4x6"):
            camera.set_roi(bad)
    camera.set_roi(Roi(1, 2, 3, 4))
    block = camera.read_block(3, timeout_s=0.1)
    assert block.pixels.shape == (3, 3, 4) and block.pixels.dtype == np.uint8 and len(block) == 3
    np.testing.assert_array_equal(block.frame_ids, [1, 2, 3])
    np.testing.assert_array_equal(block.pixels[:, 0, 0], [1, 2, 3])
    assert camera.state()["roi"] == [1, 2, 3, 4]


def test_errors_name_device_and_command() -> None:
    """Every error carries the device and the command in its message; a timeout is a DeviceError."""
    error = DeviceTimeout("cam 1", "read 4 frames", "no trigger within 0.5 s")
    assert str(error) == "cam 1: read 4 frames: no trigger within 0.5 s"
    assert isinstance(error, DeviceError) and not isinstance(error, ValueError)


def test_dmd_geometry_to_mirrors() -> None:
    """Each macropixel covers its m x m mirrors inside the active area; everything outside stays off."""
    geometry = DmdGeometry((10, 12), 1, 3, 2, 3)
    images = np.random.default_rng(0).integers(0, 256, (2, 3, 3)).astype(np.uint8)
    mirrors = geometry.to_mirrors(images)
    assert mirrors.shape == (2, 10, 12) and mirrors.dtype == np.uint8
    np.testing.assert_array_equal(mirrors[:, 1:7, 3:9], np.kron(images, np.ones((1, 2, 2), np.uint8)))
    outside = mirrors.copy()
    outside[:, 1:7, 3:9] = 0
    assert not outside.any()
    with pytest.raises(ValueError, match="3x3"):
        geometry.to_mirrors(np.zeros((1, 4, 4), bool))
    with pytest.raises(ValueError, match="does not fit"):
        DmdGeometry((10, 12), 5, 3, 2, 3)
