"""The bench session: what the devices really do, as typed events; a laser-off that fails is an alarm."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from speckle_lab.drivers import DeviceError, OutOfRange
from speckle_lab.lab.bench_session import (
    BenchClosed,
    BenchInfo,
    BenchSession,
    CameraState,
    LaserAlarm,
    LaserState,
    PatternShown,
    switch_laser_off,
)
from speckle_lab.lab.patterns import PatternRequest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "drivers"))


@pytest.fixture
def session() -> tuple[BenchSession, list]:
    events: list = []
    s = BenchSession(events.append)
    s.open(None)
    yield s, events
    s.close()


def test_opening_reports_the_bench_and_every_device_read_back(session) -> None:
    s, events = session
    kinds = [type(e) for e in events]
    assert kinds[:4] == [BenchInfo, LaserState, CameraState, PatternShown]
    info = events[0]
    assert info.simulated and info.power_range_w[1] > 0 and info.sensor_shape == s.bench.camera.sensor_shape
    assert events[1].emission is False  # emission always starts off


def test_a_refused_setpoint_is_raised_and_the_readout_is_the_lasers(session) -> None:
    s, events = session
    before = s.bench.laser.power_setpoint_w
    events.clear()
    with pytest.raises(OutOfRange):
        s.set_power_w(10.0)
    assert isinstance(events[-1], LaserState) and events[-1].setpoint_w == before


def test_patterns_say_what_the_dmd_shows(session) -> None:
    s, events = session
    s.show_pattern(PatternRequest("checkerboard"))
    shown = events[-1]
    assert isinstance(shown, PatternShown) and shown.description == "checkerboard"
    assert np.array_equal(shown.pattern, s.bench.dmd.shown_pattern)
    side = s.bench.geometry.side_macropixels
    s.show_macropixels(np.ones((side, side)), "drawn")
    assert events[-1].description == "drawn" and events[-1].pattern.dtype == np.uint8


def test_switching_off_reads_back_and_a_failure_is_an_alarm(session) -> None:
    s, events = session
    laser = s.bench.laser
    laser.set_emission(True)
    assert s.switch_laser_off().confirmed is True and laser.emission is False
    working = laser.set_emission

    def broken(on: bool) -> None:
        raise DeviceError(str(laser.identity), "emission off", "no answer")

    laser.set_emission(True)
    laser.set_emission = broken
    try:
        events.clear()
        assert s.switch_laser_off().confirmed is False
        alarms = [e for e in events if isinstance(e, LaserAlarm)]
        assert len(alarms) == 1 and "key switch" in alarms[0].message
        assert "the off command failed" in alarms[0].message and "no answer" in alarms[0].message
        assert any(isinstance(e, LaserState) and e.emission for e in events)  # the readout still says ON
    finally:
        laser.set_emission = working


def test_a_laser_that_stays_on_is_an_alarm() -> None:
    from fake_cobolt import FakeCobolt

    from speckle_lab.drivers.lasers import CoboltLaser

    with FakeCobolt() as cobolt:
        laser = CoboltLaser(cobolt.port_name, device_max_power_w=0.1, timeout_s=0.5)
        laser.set_emission(True)
        cobolt.stuck_on = True  # acknowledges l0, keeps emitting
        alarm = switch_laser_off(laser, "LASER OFF")
        laser.close()
    assert alarm is not None and alarm.startswith("ALARM: ") and "still reports emission" in alarm
    assert cobolt.received[-3:-1] == ["l0", "l?"]  # switched off, read back (then the close's own l0)


def test_a_snap_is_one_camera_frame_and_close_is_reported(session) -> None:
    s, events = session
    frame = s.snap()
    assert frame.shape == s.bench.camera.shape
    s.close()
    assert isinstance(events[-1], BenchClosed) and s.bench is None
