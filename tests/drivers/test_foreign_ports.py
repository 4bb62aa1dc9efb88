"""The laser drivers over ports they did not open and do not know: a `serial.SerialBase` subclass without
`in_waiting`/`reset_input_buffer`, pyserial's `loop://`, a closed port, and ports raising foreign exceptions.

Every port failure must surface as one of the contract's errors (never a raw ValueError/RuntimeError), the
emergency emission-off must be best effort against anything, and the caller's port must get its timeout back.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import serial
from fake_cobolt import FakeCobolt
from fake_obis import FakeObis
from foreign_port import ForeignPort

from speckle_lab.drivers import DeviceDisconnected, DeviceError, DeviceTimeout
from speckle_lab.drivers.lasers import CoboltLaser, ObisLaser
from speckle_lab.drivers.transport import SerialLineTransport

TIMEOUT_S = 0.2


@pytest.fixture
def cobolt_state() -> Iterator[FakeCobolt]:
    device = FakeCobolt()  # the state and its answers only: the pty thread is not started
    yield device
    device.close()


@pytest.fixture
def obis_state() -> Iterator[FakeObis]:
    device = FakeObis()
    yield device
    device.close()


def test_serialbase_port_without_in_waiting_drives_a_cobolt(cobolt_state: FakeCobolt) -> None:
    port = ForeignPort(cobolt_state.answer, b"\r")
    assert not hasattr(port, "in_waiting") and not hasattr(port, "reset_input_buffer")
    laser = CoboltLaser(port, device_max_power_w=0.1, max_power_w=0.05, timeout_s=TIMEOUT_S)
    assert port.received[:3] == ["@cobas 0", "l?", "l0"] and not cobolt_state.emission
    laser.set_power_w(0.02)
    assert laser.power_setpoint_w == pytest.approx(0.02)
    laser.close()
    assert port.received[-1] == "l0"
    assert port.is_open and port.timeout == 1.0  # the caller's port, left open with its own timeout


def test_serialbase_port_without_in_waiting_drives_an_obis(obis_state: FakeObis) -> None:
    port = ForeignPort(obis_state.answer, b"\r\n")
    with ObisLaser(port, max_power_w=0.02, timeout_s=TIMEOUT_S) as laser:
        laser.set_power_w(0.01)
        assert laser.power_setpoint_w == pytest.approx(0.01)
    assert port.received[-1] == ObisLaser.OFF_COMMAND
    assert port.is_open and port.timeout == 1.0


def test_closed_foreign_port_is_a_disconnect_not_a_valueerror(cobolt_state: FakeCobolt) -> None:
    port = ForeignPort(cobolt_state.answer, b"\r")
    port.close()
    with pytest.raises(DeviceDisconnected, match="foreign0 is gone: I/O operation on closed file"):
        CoboltLaser(port, device_max_power_w=0.1, timeout_s=TIMEOUT_S)
    assert port.timeout == 1.0


def test_port_closed_under_an_open_laser_is_a_disconnect(cobolt_state: FakeCobolt) -> None:
    port = ForeignPort(cobolt_state.answer, b"\r")
    laser = CoboltLaser(port, device_max_power_w=0.1, timeout_s=TIMEOUT_S)
    port.close()
    with pytest.raises(DeviceDisconnected) as caught:
        laser.set_power_w(0.01)
    assert any("could not be turned off" in note for note in caught.value.__notes__)
    laser.close()  # the vanished port was reported already: close does not raise again
    assert port.timeout == 1.0


def test_closed_pyserial_loop_port_is_a_disconnect() -> None:
    port = serial.serial_for_url("loop://", timeout=0.5)
    port.close()
    with pytest.raises(DeviceDisconnected):
        CoboltLaser(port, device_max_power_w=0.1, timeout_s=TIMEOUT_S)
    assert port.timeout == 0.5


def test_loop_port_echo_is_a_timeout_and_the_port_is_given_back() -> None:
    """loop:// echoes `@cobas 0\r`, never a line: a bounded timeout, and the caller's port handed back."""
    port = serial.serial_for_url("loop://", timeout=0.5)
    with pytest.raises(DeviceTimeout, match=r"@cobas 0: no answer within 0\.2 s"):
        CoboltLaser(port, device_max_power_w=0.1, timeout_s=TIMEOUT_S)
    assert port.is_open and port.timeout == 0.5
    port.close()


def test_foreign_exception_at_open_is_mapped_and_emergency_off_survives_a_second_one(
    cobolt_state: FakeCobolt,
) -> None:
    # "@cobas 0", "l?", "l0" and its read-back "l?" pass (the laser is confirmed off); then "sn?" raises
    port = ForeignPort(cobolt_state.answer, b"\r", fail_after=4)
    with pytest.raises(DeviceError, match="RuntimeError: bridge firmware hiccup") as caught:
        CoboltLaser(port, device_max_power_w=0.1, timeout_s=TIMEOUT_S)
    assert type(caught.value) is DeviceError  # not a leaked RuntimeError
    assert any("not acknowledged" in note for note in caught.value.__notes__)  # the off write failed too
    assert port.timeout == 1.0  # the port was released even so


def test_foreign_exception_in_operation_then_close_releases_the_port(cobolt_state: FakeCobolt) -> None:
    port = ForeignPort(cobolt_state.answer, b"\r")
    laser = CoboltLaser(port, device_max_power_w=0.1, timeout_s=TIMEOUT_S)
    port.fail_after = port.writes  # every write from now on raises RuntimeError
    with pytest.raises(DeviceError, match="bridge firmware hiccup"):
        laser.set_power_w(0.01)
    with pytest.raises(DeviceError):  # emission cannot be confirmed off: close says so ...
        laser.close()
    assert port.timeout == 1.0  # ... and still gives the caller's port back


def test_port_missing_read_is_refused_by_name() -> None:
    class NoRead:
        timeout = 1.0

        def write(self, data: bytes) -> int:
            return len(data)

    with pytest.raises(TypeError, match="has no read"):
        SerialLineTransport(NoRead(), "test device")  # type: ignore[arg-type]


def test_device_max_power_above_the_heads_maximum_is_refused_at_open(cobolt_state: FakeCobolt) -> None:
    port = ForeignPort(cobolt_state.answer, b"\r")
    with pytest.raises(ValueError, match=r"device_max_power_w = 0.2 W is above the head's own maximum of 0.1 W"):
        CoboltLaser(port, device_max_power_w=0.2, timeout_s=TIMEOUT_S)
    assert not cobolt_state.emission
    assert not any(command.startswith("p ") for command in port.received)  # no setpoint was ever tried


def test_device_max_power_trusted_when_the_head_does_not_report_one(cobolt_state: FakeCobolt) -> None:
    cobolt_state.reports_rated = False
    port = ForeignPort(cobolt_state.answer, b"\r")
    with CoboltLaser(port, device_max_power_w=0.2, max_power_w=0.05, timeout_s=TIMEOUT_S) as laser:
        assert laser.device_max_power_w == 0.2 and laser.power_range_w == (0.0, 0.05)
