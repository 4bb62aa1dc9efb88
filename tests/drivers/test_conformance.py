"""One conformance suite per contract, run on every backend (tests/drivers/conformance.py lists them, each on
its double): timeouts raise instead of hanging, close is idempotent, the laser is off after close, and
errors name the device and the command. A new backend gets these tests by adding one subject there."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import numpy as np
import pytest
from conformance import BOUND_S, CAMERAS, DMDS, LASERS, TIMEOUT_S, CameraSubject, DmdSubject, LaserSubject

from speckle_lab.drivers import (
    DMD,
    Camera,
    DeviceError,
    DeviceTimeout,
    EmissionVetoed,
    Laser,
    OutOfRange,
    Roi,
    TriggerMode,
)
from speckle_lab.drivers.capabilities import PatternReadback, RegionOfInterest, TriggeredSequences


def _names_device_and_command(error: DeviceError, device: Laser | DMD | Camera, command: str) -> None:
    assert str(device.identity) in error.device
    assert command in error.command
    assert str(error).startswith(f"{error.device}: {error.command}: ")


@pytest.fixture(params=sorted(LASERS))
def laser_subject(request: pytest.FixtureRequest) -> Iterator[LaserSubject]:
    with LASERS[request.param](request) as subject:
        yield subject


@pytest.fixture(params=sorted(DMDS))
def dmd_subject(request: pytest.FixtureRequest) -> Iterator[DmdSubject]:
    with DMDS[request.param](request) as subject:
        yield subject


@pytest.fixture(params=sorted(CAMERAS))
def camera_subject(request: pytest.FixtureRequest) -> Iterator[CameraSubject]:
    with CAMERAS[request.param](request) as subject:
        yield subject


# -- Laser -------------------------------------------------------------------------------------------------
def test_laser_is_off_after_close_and_close_is_idempotent(laser_subject: LaserSubject) -> None:
    laser, emitting = laser_subject.laser, laser_subject.emitting
    low, high = laser.power_range_w
    laser.set_power_w((low + high) / 2)
    laser.set_emission(True)
    assert laser.emission and (emitting is None or emitting())
    laser.close()
    laser.close()  # a second close is harmless
    if emitting is None:
        pytest.skip("this double cannot be asked after close; closing twice was harmless")
    assert not emitting()


def test_laser_refusal_names_device_and_command_and_changes_nothing(laser_subject: LaserSubject) -> None:
    laser = laser_subject.laser
    low, high = laser.power_range_w
    laser.set_power_w(low)
    with pytest.raises(OutOfRange) as caught:
        laser.set_power_w(high * 2)
    _names_device_and_command(caught.value, laser, "set power")
    assert laser.power_setpoint_w == pytest.approx(low)


def test_laser_silence_is_a_timeout_naming_device_and_command(laser_subject: LaserSubject) -> None:
    if laser_subject.silence is None:
        pytest.skip("this backend's double cannot go silent")
    laser = laser_subject.laser
    read = laser_subject.silence()
    start = time.monotonic()
    with pytest.raises(DeviceTimeout) as caught:
        read()
    assert time.monotonic() - start < BOUND_S
    _names_device_and_command(caught.value, laser, "?")
    assert laser_subject.emitting is not None and not laser_subject.emitting()  # a failed read switches it off


def test_laser_error_reply_names_device_and_command_and_emission_goes_off(laser_subject: LaserSubject) -> None:
    if laser_subject.refuse is None:
        pytest.skip("this backend's double cannot answer with an error")
    laser = laser_subject.laser
    laser.set_power_w(laser.power_range_w[0])
    laser.set_emission(True)
    read, command = laser_subject.refuse()
    with pytest.raises(DeviceError) as caught:
        read()
    assert not isinstance(caught.value, DeviceTimeout)
    _names_device_and_command(caught.value, laser, command)
    assert laser_subject.emitting is not None and not laser_subject.emitting()


def test_laser_asks_its_emission_veto_at_the_last_moment_and_a_veto_sends_nothing(
    laser_subject: LaserSubject,
) -> None:
    """The lifecycle's guarantee that no on command follows a stop rests on every backend asking the veto right
    before its on command: asked once per switch-on, after the checks, and a refusal leaves emission off. Where
    the double logs the wire, the command after the veto is the on command itself, and a refusal sends nothing."""
    laser, wire = laser_subject.laser, laser_subject.wire
    laser.set_power_w(laser.power_range_w[0])
    sent_before_veto: list[int] = []

    def veto(reason: str | None) -> Callable[[], str | None]:
        def ask() -> str | None:
            sent_before_veto.append(len(wire()) if wire is not None else -1)
            return reason

        return ask

    laser.set_emission_veto(veto("a stop was asked for"))
    with pytest.raises(EmissionVetoed) as caught:
        laser.set_emission(True)
    if wire is not None:
        assert wire()[sent_before_veto[0] :] == []  # nothing at all was sent once the veto refused
    assert len(sent_before_veto) == 1 and "a stop was asked for" in str(caught.value)
    _names_device_and_command(caught.value, laser, laser.ON_COMMAND)
    assert not laser.emission and (laser_subject.emitting is None or not laser_subject.emitting())
    laser.set_emission_veto(veto(None))
    laser.set_emission(True)
    assert len(sent_before_veto) == 2 and laser.emission
    if wire is not None:
        assert wire()[sent_before_veto[1]] == laser.ON_COMMAND  # the very next command on the wire
    laser.set_emission_veto(None)


# -- DMD ---------------------------------------------------------------------------------------------------
def test_dmd_close_is_idempotent(dmd_subject: DmdSubject) -> None:
    dmd_subject.dmd.close()
    dmd_subject.dmd.close()


def test_dmd_wrong_pattern_names_device_and_command(dmd_subject: DmdSubject) -> None:
    dmd = dmd_subject.dmd
    rows, cols = dmd.mirror_shape
    with pytest.raises(OutOfRange) as caught:
        dmd.show(np.zeros((rows + 1, cols), dtype=bool))
    _names_device_and_command(caught.value, dmd, "show")


def test_dmd_endless_sequence_wait_is_a_timeout(dmd_subject: DmdSubject) -> None:
    dmd = dmd_subject.dmd
    patterns = np.zeros((2, *dmd.mirror_shape), dtype=bool)
    patterns[1] = True
    dmd.load_sequence(patterns, dmd.min_picture_time_us * 2, trigger_out=isinstance(dmd, TriggeredSequences))
    dmd.start(repeat=0)
    try:
        start = time.monotonic()
        with pytest.raises(DeviceTimeout) as caught:
            dmd.wait(TIMEOUT_S)
        assert time.monotonic() - start < BOUND_S
        _names_device_and_command(caught.value, dmd, "wait")
    finally:
        dmd.stop()


def test_dmd_capabilities_are_declared_not_probed(dmd_subject: DmdSubject) -> None:
    dmd = dmd_subject.dmd
    assert dmd.triggered_sequences == isinstance(dmd, TriggeredSequences)
    if isinstance(dmd, PatternReadback):
        pattern = np.zeros(dmd.mirror_shape, dtype=bool)
        pattern[: dmd.mirror_shape[0] // 2] = True
        dmd.show(pattern)
        assert np.array_equal(np.asarray(dmd.shown_pattern).astype(bool), pattern)


# -- Camera ------------------------------------------------------------------------------------------------
def test_camera_close_is_idempotent(camera_subject: CameraSubject) -> None:
    camera = camera_subject.camera
    camera.set_trigger_mode(TriggerMode.SOFTWARE)
    camera.start()
    camera.close()
    camera.close()


def test_camera_missed_trigger_is_a_timeout_naming_device_and_command(camera_subject: CameraSubject) -> None:
    camera = camera_subject.camera
    camera.set_trigger_mode(TriggerMode.SOFTWARE)
    camera.start()
    try:
        start = time.monotonic()
        with pytest.raises(DeviceTimeout) as caught:
            camera.read(TIMEOUT_S)
        assert time.monotonic() - start < BOUND_S
        _names_device_and_command(caught.value, camera, "read")
    finally:
        camera.stop()


def test_camera_refusals_name_device_and_command(camera_subject: CameraSubject) -> None:
    camera = camera_subject.camera
    exposure = camera.exposure_us
    with pytest.raises(OutOfRange) as caught:
        camera.set_exposure_us(-1.0)
    _names_device_and_command(caught.value, camera, "exposure")
    assert camera.exposure_us == pytest.approx(exposure, nan_ok=True)  # unchanged (NaN: no exposure node)
    if isinstance(camera, RegionOfInterest):
        rows, cols = camera.sensor_shape
        with pytest.raises(OutOfRange) as caught:
            camera.set_roi(Roi(0, 0, rows + 1, cols))
        _names_device_and_command(caught.value, camera, "roi")
        assert camera.shape == (camera.roi.height, camera.roi.width)
    else:
        assert camera.shape == camera.sensor_shape
