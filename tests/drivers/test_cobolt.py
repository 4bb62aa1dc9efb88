"""The Cobolt driver against a simulated Cobolt on a pseudo-terminal, opened with pyserial like a real port."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
from fake_cobolt import CONSTANT_CURRENT, CONSTANT_POWER, MODULATION, FakeCobolt

from speckle_lab.drivers import DeviceDisconnected, DeviceError, DeviceTimeout, LaserFault, OutOfRange
from speckle_lab.drivers.lasers import CoboltLaser

TIMEOUT_S = 0.3
#: A timeout, plus the emergency emission-off's short wait, plus scheduling slack: never a hang.
BOUND_S = TIMEOUT_S + 0.2 + 0.4


@pytest.fixture
def cobolt() -> Iterator[FakeCobolt]:
    with FakeCobolt() as device:
        yield device


def open_laser(device: FakeCobolt, **kwargs: object) -> CoboltLaser:
    settings: dict[str, object] = {"device_max_power_w": 0.1, "max_power_w": 0.05, "timeout_s": TIMEOUT_S}
    return CoboltLaser(device.port_name, **(settings | kwargs))  # type: ignore[arg-type]


@pytest.fixture
def laser(cobolt: FakeCobolt) -> Iterator[CoboltLaser]:
    laser = open_laser(cobolt)
    yield laser
    with contextlib.suppress(DeviceError):
        laser.close()


def test_connect_takes_remote_control_turns_emission_off_and_identifies(cobolt: FakeCobolt) -> None:
    assert cobolt.emission and cobolt.autostart  # left on, in autostart, by someone else
    with open_laser(cobolt) as laser:
        assert cobolt.received[:4] == ["@cobas 0", "l?", "l0", "l?"]  # the switch-off is read back
        assert not cobolt.autostart and not cobolt.emission
        assert laser.emission_at_open  # it was left on: `speckle-lab devices` says so
        identity = laser.identity
        assert (identity.kind, identity.vendor, identity.model) == ("laser", "Cobolt", "06-01 532nm")
        assert (identity.serial, identity.firmware, identity.backend) == ("20417", "9.001", "cobolt")
        assert laser.power_range_w == (0.0, 0.05)
        assert laser.port_name == cobolt.port_name


@pytest.mark.parametrize("left_in", [CONSTANT_CURRENT, MODULATION])
def test_open_enters_constant_power_so_the_output_follows_p(left_in: int) -> None:
    """A head left in constant current or modulation ignores `p` until `cp`: the driver sends it and reads it back."""
    with FakeCobolt(mode=left_in) as cobolt:
        cobolt.emission, cobolt.setpoint_w = True, 0.03
        assert cobolt.output_w() != pytest.approx(0.03 * 0.98)  # the double is faithful: p is not regulated
        with open_laser(cobolt) as laser:
            assert cobolt.received[cobolt.received.index("l0") + 1 :][:3] == [
                "l?",
                "cp",
                "gam?",
            ]  # off read back, then cp
            assert cobolt.mode == CONSTANT_POWER and laser.operating_mode == "constant power"
            laser.set_power_w(0.02)
            laser.set_emission(True)
            assert laser.measured_power_w == pytest.approx(0.0196, abs=1e-4)
            assert laser.state()["operating_mode"] == "constant power"


def test_a_head_that_stays_out_of_constant_power_is_refused_and_left_off(cobolt: FakeCobolt) -> None:
    cobolt.sticky_mode = True  # acknowledges cp, stays in constant current
    with pytest.raises(DeviceError, match=r"gam\?: still in constant current mode after cp \(gam\? = 0\)"):
        open_laser(cobolt)
    assert not cobolt.emission and cobolt.received[-1] == "l0"  # emission off after the failed open


def test_a_head_without_gam_is_accepted_on_cp_and_says_it_was_not_read_back(cobolt: FakeCobolt) -> None:
    cobolt.reports_mode = False
    with open_laser(cobolt) as laser:
        assert cobolt.mode == CONSTANT_POWER
        assert laser.operating_mode.startswith("constant power (cp acknowledged; gam? not supported")


def test_missing_model_query_is_tolerated(cobolt: FakeCobolt) -> None:
    cobolt.model = None
    with open_laser(cobolt) as laser:
        assert laser.identity.model == "04/06 series"


def test_rated_power_asked_when_not_configured(cobolt: FakeCobolt) -> None:
    with open_laser(cobolt, device_max_power_w=None, max_power_w=None) as laser:
        assert laser.power_range_w == (0.0, 0.1)  # gmlp? = 100 mW
    with open_laser(cobolt, device_max_power_w=None, max_power_w=0.04) as laser:
        assert laser.power_range_w == (0.0, 0.04)


def test_no_rated_power_anywhere_is_a_configuration_error(cobolt: FakeCobolt) -> None:
    cobolt.reports_rated = False
    with pytest.raises(ValueError, match="device_max_power_w"):
        open_laser(cobolt, device_max_power_w=None)
    with open_laser(cobolt) as laser:  # the failed attempt released the port
        assert laser.identity.serial == "20417"


@pytest.mark.parametrize("bad", [0.0, -0.01])
def test_nonpositive_limits_are_refused(cobolt: FakeCobolt, bad: float) -> None:
    with pytest.raises(ValueError, match="max_power_w"):
        open_laser(cobolt, max_power_w=bad)


def test_missing_port_is_a_disconnection_naming_it() -> None:
    with pytest.raises(DeviceDisconnected, match="/dev/no-such-cobolt"):
        CoboltLaser("/dev/no-such-cobolt", device_max_power_w=0.1)


def test_power_setpoint_within_range(laser: CoboltLaser, cobolt: FakeCobolt) -> None:
    laser.set_power_w(0.03)
    assert cobolt.setpoint_w == pytest.approx(0.03)
    assert laser.power_setpoint_w == pytest.approx(0.03)
    laser.set_power_w(0.05)  # the limit itself is allowed
    assert cobolt.setpoint_w == pytest.approx(0.05)


@pytest.mark.parametrize("power_w", [0.0500001, 0.08, -0.001])
def test_power_above_the_configured_limit_is_refused_setpoint_unchanged(
    laser: CoboltLaser, cobolt: FakeCobolt, power_w: float
) -> None:
    laser.set_power_w(0.02)
    sent = len(cobolt.received)
    with pytest.raises(OutOfRange, match=r"\[0.0, 0.05\] W"):
        laser.set_power_w(power_w)
    assert cobolt.received[sent:] == []  # nothing reached the laser
    assert laser.power_setpoint_w == pytest.approx(0.02)


def test_power_above_the_rated_power_is_refused(cobolt: FakeCobolt) -> None:
    with open_laser(cobolt, max_power_w=0.5) as laser:  # a configured limit above the laser's rating
        assert laser.power_range_w == (0.0, 0.1)
        with pytest.raises(OutOfRange):
            laser.set_power_w(0.2)
        assert cobolt.setpoint_w == pytest.approx(0.01)


def test_emission_on_off_and_measured_power(laser: CoboltLaser, cobolt: FakeCobolt) -> None:
    laser.set_power_w(0.04)
    assert not laser.emission
    assert laser.measured_power_w == 0.0
    laser.set_emission(True)
    assert cobolt.emission and laser.emission
    assert laser.measured_power_w == pytest.approx(0.0392, abs=1e-4)
    status = laser.status()
    assert (status.emission, status.fault, status.interlock_closed, status.hours) == (True, None, True, 1234.5)
    state = laser.state()
    assert state["power_range_w"] == [0.0, 0.05] and state["emission"] is True
    laser.set_emission(False)
    assert not cobolt.emission and not laser.emission


def test_fault_refuses_emission_until_cleared(laser: CoboltLaser, cobolt: FakeCobolt) -> None:
    cobolt.inject_fault(1)
    with pytest.raises(LaserFault, match="temperature error"):
        laser.set_emission(True)
    assert "l1" not in cobolt.received and not cobolt.emission
    assert laser.status().fault == "temperature error (f? = 1)"
    laser.clear_fault()
    assert laser.status().fault is None
    laser.set_emission(True)
    assert cobolt.emission


def test_open_interlock_refuses_emission(laser: CoboltLaser, cobolt: FakeCobolt) -> None:
    cobolt.interlock_open = True
    with pytest.raises(LaserFault, match="interlock is open") as caught:
        laser.set_emission(True)
    assert cobolt.port_name in str(caught.value) and caught.value.command == "l1"
    assert not cobolt.emission and "l1" not in cobolt.received
    assert laser.status().interlock_closed is False


def test_emission_that_does_not_start_is_a_fault(laser: CoboltLaser, cobolt: FakeCobolt) -> None:
    cobolt.key_switch_on = False
    with pytest.raises(LaserFault, match="did not start"):
        laser.set_emission(True)
    assert cobolt.received[-1] == "l0"  # and the driver made sure it stays off


def test_close_turns_emission_off_and_releases_the_port(cobolt: FakeCobolt) -> None:
    laser = open_laser(cobolt)
    laser.set_emission(True)
    laser.close()
    assert cobolt.received[-1] == "l0" and not cobolt.emission
    laser.close()  # a second close does nothing
    assert cobolt.received[-1] == "l0"
    with pytest.raises(DeviceDisconnected, match="closed"):
        laser.set_emission(True)
    assert not cobolt.emission


def test_leaving_the_context_turns_emission_off(cobolt: FakeCobolt) -> None:
    with pytest.raises(KeyError), open_laser(cobolt) as laser:
        laser.set_emission(True)
        raise KeyError("the caller failed")
    assert not cobolt.emission and cobolt.received[-1] == "l0"


def test_device_error_mid_operation_leaves_emission_off(laser: CoboltLaser, cobolt: FakeCobolt) -> None:
    laser.set_emission(True)
    cobolt.quirk("p 0.02000", reply=["Error: laser busy"])
    with pytest.raises(DeviceError, match="Error: laser busy") as caught:
        laser.set_power_w(0.02)
    error = caught.value
    assert error.command == "p 0.02000" and cobolt.port_name in error.device and "Cobolt" in error.device
    assert not cobolt.emission and cobolt.received[-1] == "l0"
    assert any("emission off" in note for note in error.__notes__)


def test_replies_in_pieces(cobolt: FakeCobolt) -> None:
    cobolt.chunk_size, cobolt.chunk_delay_s = 1, 0.002
    with open_laser(cobolt) as laser:
        assert laser.identity.serial == "20417"
        laser.set_power_w(0.025)
        assert laser.power_setpoint_w == pytest.approx(0.025)


def test_late_answer_is_a_bounded_timeout_naming_port_and_command(laser: CoboltLaser, cobolt: FakeCobolt) -> None:
    laser.set_power_w(0.03)
    laser.set_emission(True)
    cobolt.quirk("p?", delay_s=1.0)
    start = time.monotonic()
    with pytest.raises(DeviceTimeout) as caught:
        _ = laser.power_setpoint_w
    assert time.monotonic() - start < BOUND_S
    message = str(caught.value)
    assert cobolt.port_name in message and "p?" in message and "0.3 s" in message
    cobolt.wait_idle()  # the late answer and the emergency l0 were processed ...
    assert not cobolt.emission
    assert laser.power_setpoint_w == pytest.approx(0.03)  # ... and their replies flushed as stale


def test_silent_device_is_a_timeout(laser: CoboltLaser, cobolt: FakeCobolt) -> None:
    cobolt.quirk("pa?", silent=True)
    start = time.monotonic()
    with pytest.raises(DeviceTimeout, match=r"pa\?"):
        _ = laser.measured_power_w
    assert time.monotonic() - start < BOUND_S


def test_stale_extra_line_is_flushed_before_the_next_command(laser: CoboltLaser, cobolt: FakeCobolt) -> None:
    laser.set_power_w(0.02)
    cobolt.quirk("p?", extra_lines=("0.9999", "OK"))
    assert laser.power_setpoint_w == pytest.approx(0.02)
    cobolt.wait_idle()
    assert laser.power_setpoint_w == pytest.approx(0.02)
    assert laser.status().interlock_closed


def test_vanished_device_is_a_clear_error_never_a_hang(laser: CoboltLaser, cobolt: FakeCobolt) -> None:
    laser.set_emission(True)
    cobolt.disappear()
    start = time.monotonic()
    with pytest.raises((DeviceDisconnected, DeviceTimeout)) as caught:
        _ = laser.power_setpoint_w
    assert time.monotonic() - start < BOUND_S
    assert cobolt.port_name in str(caught.value)
    assert any("emission" in note for note in getattr(caught.value, "__notes__", []))
    start = time.monotonic()
    with contextlib.suppress(DeviceError):
        laser.close()
    assert time.monotonic() - start < BOUND_S


def test_an_open_serial_port_can_be_passed_in(cobolt: FakeCobolt) -> None:
    serial = pytest.importorskip("serial")
    port = serial.Serial(cobolt.port_name, 115200, timeout=0.5)
    try:
        with CoboltLaser(port, device_max_power_w=0.1, timeout_s=TIMEOUT_S) as laser:
            laser.set_power_w(0.06)
            laser.set_emission(True)
            assert cobolt.emission and laser.power_setpoint_w == pytest.approx(0.06)
        assert not cobolt.emission
        assert port.is_open and port.timeout == 0.5  # the caller's port, as the caller left it
    finally:
        port.close()


def test_lasers_import_without_vendor_packages() -> None:
    code = (
        "import sys; sys.modules['serial'] = None; sys.modules['pyvisa'] = None\n"
        "import drivers.lasers, drivers.transport; print('ok')"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=60)
    assert result.returncode == 0, result.stderr


def test_opening_by_name_without_pyserial_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "serial", None)
    with pytest.raises(ImportError, match=r"speckle-lab\[serial\]"):
        CoboltLaser("/dev/ttyUSB0", device_max_power_w=0.1)
