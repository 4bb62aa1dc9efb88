"""The OBIS driver against a simulated OBIS on a pty, reached three ways: a serial port name (pyserial),
an open pyserial port, and pyvisa-py's ASRL resource on the pty path."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fake_obis import FakeObis

from speckle_lab.drivers import DeviceDisconnected, DeviceError, DeviceTimeout, LaserFault, LaserOffFailed, OutOfRange
from speckle_lab.drivers.lasers import ObisLaser

TIMEOUT_S = 0.3
BOUND_S = TIMEOUT_S + 0.2 + 0.4  # a timeout, the emergency emission-off's short wait, slack: never a hang

Connect = Callable[..., ObisLaser]


@pytest.fixture
def obis() -> Iterator[FakeObis]:
    with FakeObis() as device:
        yield device


@pytest.fixture(params=["serial-name", "serial-object", "pyvisa-py"])
def connect(request: pytest.FixtureRequest, obis: FakeObis) -> Iterator[Connect]:
    """Opens the driver on the fake through one of the three paths; closes what it opened."""
    opened: list[Any] = []

    def open_laser(**kwargs: Any) -> ObisLaser:
        settings = {"max_power_w": 0.05, "timeout_s": TIMEOUT_S} | kwargs
        if request.param == "serial-name":
            port: Any = obis.port_name
        elif request.param == "serial-object":
            serial = pytest.importorskip("serial")
            port = serial.Serial(obis.port_name, 115200, timeout=1.0)
            opened.append(port)
        else:
            pytest.importorskip("pyvisa_py")
            port = f"ASRL{obis.port_name}::INSTR"
            settings["visa_backend"] = "@py"
        laser = ObisLaser(port, **settings)
        opened.append(laser)
        return laser

    yield open_laser
    for thing in reversed(opened):
        with contextlib.suppress(DeviceError, OSError):
            thing.close()


@pytest.fixture
def laser(connect: Connect) -> ObisLaser:
    return connect()


def test_connect_reads_its_switch_off_back_and_a_laser_that_stays_on_is_the_alarm(
    connect: Connect, obis: FakeObis
) -> None:
    obis.stuck_on = True  # emitting (left on), acknowledges the off command, keeps emitting
    with pytest.raises(LaserOffFailed, match="at connect: the laser still reports emission") as caught:
        connect()
    assert "key switch" in caught.value.alarm
    off = obis.received.index("SOUR:AM:STAT OFF")
    assert obis.received[off - 1 : off + 2] == ["SOUR:AM:STAT?", "SOUR:AM:STAT OFF", "SOUR:AM:STAT?"]
    assert obis.emission  # the alarm told the truth


def test_connect_turns_handshake_on_emission_off_and_identifies(connect: Connect, obis: FakeObis) -> None:
    assert obis.emission and not obis.handshake
    laser = connect()
    assert obis.received[0] == "SYST:COMM:HAND ON" and obis.handshake
    assert not obis.emission and obis.modulation == "cw"
    identity = laser.identity
    assert (identity.vendor, identity.model, identity.serial) == ("Coherent, Inc", "OBIS 532nm 50mW LS", "OB532-0042")
    assert (identity.firmware, identity.backend) == ("V1.2.3", "obis")
    assert laser.power_range_w == (0.0005, 0.05)
    assert laser.device_power_limits_w == (0.0005, 0.055)


def test_device_limit_narrower_than_the_configured_one(connect: Connect) -> None:
    assert connect(max_power_w=1.0).power_range_w == (0.0005, 0.055)


def test_digital_modulation_at_connect(connect: Connect, obis: FakeObis) -> None:
    laser = connect(modulation="digital")
    assert obis.modulation == "digital" and laser.modulation == "digital"
    laser.set_modulation("cw")
    assert obis.modulation == "cw"


def test_power_and_range(laser: ObisLaser, obis: FakeObis) -> None:
    laser.set_power_w(0.02)
    assert obis.setpoint_w == pytest.approx(0.02)
    assert laser.power_setpoint_w == pytest.approx(0.02)
    for refused in (0.0001, 0.0501, 0.06):  # below the laser's minimum, above the configured limit
        with pytest.raises(OutOfRange):
            laser.set_power_w(refused)
    assert obis.setpoint_w == pytest.approx(0.02)


def test_emission_measured_power_status_and_temperatures(laser: ObisLaser, obis: FakeObis) -> None:
    laser.set_power_w(0.04)
    assert laser.measured_power_w == 0.0
    laser.set_emission(True)
    assert obis.emission and laser.emission
    assert laser.measured_power_w == pytest.approx(0.0396)
    status = laser.status()
    assert (status.emission, status.fault, status.interlock_closed, status.hours) == (True, None, True, 321.5)
    assert laser.system_status() == 0x10
    assert laser.temperatures_c() == {"diode": 25.02, "base": 23.4}
    assert laser.state()["modulation"] == "cw"
    laser.set_emission(False)
    assert not obis.emission


def test_fault_and_open_interlock_refuse_emission(laser: ObisLaser, obis: FakeObis) -> None:
    obis.inject_fault(0x4)
    with pytest.raises(LaserFault, match="fault bits 0x00000004"):
        laser.set_emission(True)
    assert laser.status().fault == "fault bits 0x00000004 (SYST:FAUL?)"
    obis.fault = 0
    obis.interlock_closed = False
    with pytest.raises(LaserFault, match="interlock is open"):
        laser.set_emission(True)
    assert "SOUR:AM:STAT ON" not in obis.received and not obis.emission


def test_error_reply_is_a_device_error_and_emission_goes_off(laser: ObisLaser, obis: FakeObis) -> None:
    laser.set_emission(True)
    obis.high_w = 0.01  # the head now refuses what it accepted at connect
    with pytest.raises(DeviceError, match=r"ERR-220 \(invalid parameter\)") as caught:
        laser.set_power_w(0.03)
    assert caught.value.command == "SOUR:POW:LEV:IMM:AMPL 0.03000"
    assert not obis.emission and obis.received[-1] == "SOUR:AM:STAT OFF"
    obis.quirk("SOUR:POW:LEV?", reply=["ERR-100"])
    with pytest.raises(DeviceError, match=r"ERR-100 \(unrecognized command\)"):
        _ = laser.measured_power_w


def test_replies_in_pieces(connect: Connect, obis: FakeObis) -> None:
    obis.chunk_size, obis.chunk_delay_s = 3, 0.002
    laser = connect()
    laser.set_power_w(0.025)
    assert laser.power_setpoint_w == pytest.approx(0.025)


def test_late_answer_is_a_bounded_timeout(laser: ObisLaser, obis: FakeObis) -> None:
    laser.set_power_w(0.02)
    laser.set_emission(True)
    obis.quirk("SOUR:POW:LEV?", delay_s=0.8)
    start = time.monotonic()
    with pytest.raises(DeviceTimeout) as caught:
        _ = laser.measured_power_w
    assert time.monotonic() - start < BOUND_S
    assert obis.port_name in str(caught.value) and "SOUR:POW:LEV?" in str(caught.value)
    obis.wait_idle()
    assert not obis.emission
    assert laser.power_setpoint_w == pytest.approx(0.02)  # the late value and its OK were flushed


def test_extra_lines_after_a_reply_are_flushed(laser: ObisLaser, obis: FakeObis) -> None:
    laser.set_power_w(0.02)
    obis.quirk("SOUR:POW:LEV:IMM:AMPL?", extra_lines=("OK", "0.5"))  # a doubled OK and a stray value
    assert laser.power_setpoint_w == pytest.approx(0.02)
    obis.wait_idle()
    assert laser.status().interlock_closed


def test_vanished_device(laser: ObisLaser, obis: FakeObis) -> None:
    laser.set_emission(True)
    obis.disappear()
    start = time.monotonic()
    with pytest.raises((DeviceDisconnected, DeviceTimeout)) as caught:
        _ = laser.power_setpoint_w
    assert time.monotonic() - start < BOUND_S
    assert obis.port_name in str(caught.value)


def test_close_turns_emission_off(connect: Connect, obis: FakeObis) -> None:
    laser = connect()
    laser.set_emission(True)
    laser.close()
    assert not obis.emission and obis.received[-1] == "SOUR:AM:STAT OFF"
    laser.close()
