"""A reply is exactly what the vendor documents, or an error naming the device, the command and the reply.

The grammar's unit tests (drivers/lasers/replies.py: the valid forms of the Cobolt and OBIS replies, noise with
digits in it, empty and cut lines), then the same replies through the drivers on their pty doubles: line noise
answering a power, hours or fault query is a `DeviceError` and the laser is switched off, never a number.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fake_cobolt import NOISE, FakeCobolt
from fake_obis import FakeObis

from speckle_lab.drivers import DeviceError
from speckle_lab.drivers.lasers import CoboltLaser, ObisLaser
from speckle_lab.drivers.lasers.replies import parse_decimal, parse_hex_32, parse_integer

DEVICE, COMMAND = "Cobolt laser on /dev/pts/9", "pa?"

#: Decimal replies as the vendors send them: Cobolt `p?`/`pa?` (W), `hrs?`, `gmlp?` (mW); OBIS powers in NR2
#: and NR3 ("5.00000E-02"), hours; and what else the grammar allows (a sign, a bare integer, a leading point).
DECIMALS = {
    "0.0500": 0.05,
    "0.0490": 0.049,
    "1234.50": 1234.5,
    "100.0": 100.0,
    "5.000E-02": 0.05,
    "1.10000E-01": 0.11,
    "4.98000e-02": 0.0498,
    "5e-2": 0.05,
    "100": 100.0,
    "100.": 100.0,
    ".5": 0.5,
    "-0.0001": -0.0001,
    "+1.5E+01": 15.0,
}
#: Noise, empty and cut lines, a unit where none is documented, and what Python's float() would take.
NOT_DECIMALS = [
    NOISE,  # the double's line noise: a "3" in it
    "",
    "5.000E",  # a cut line
    "5.000E-",
    "-",
    ".",
    "E-02",
    "0.05 W",
    "1234 h",
    "3$",
    "1.2.3",
    "0x10",
    "1_000",
    "inf",
    "nan",
    "Infinity",
    "1e999",  # overflows to inf
    "\u0663",  # ARABIC-INDIC DIGIT THREE: float() reads it as 3
    " 0.05",
    "OK",
]


@pytest.mark.parametrize("reply", list(DECIMALS))
def test_decimal_replies_in_the_documented_forms(reply: str) -> None:
    assert parse_decimal(DEVICE, COMMAND, reply) == pytest.approx(DECIMALS[reply])


@pytest.mark.parametrize("reply", NOT_DECIMALS)
def test_anything_else_is_an_error_naming_device_command_and_reply(reply: str) -> None:
    with pytest.raises(DeviceError) as caught:
        parse_decimal(DEVICE, COMMAND, reply)
    error = caught.value
    assert (error.device, error.command) == (DEVICE, COMMAND)
    assert str(error) == f"{DEVICE}: {COMMAND}: expected a decimal number, got {reply!r}"


def test_a_unit_follows_the_number_where_the_vendor_appends_one() -> None:
    """OBIS temperatures read "25.02C"; the unit alone, another unit, or noise before it are errors."""
    assert parse_decimal(DEVICE, "SOUR:TEMP:DIOD?", "25.02C", "C") == pytest.approx(25.02)
    assert parse_decimal(DEVICE, "SOUR:TEMP:DIOD?", "25.02", "C") == pytest.approx(25.02)
    for reply in ("C", "25.02F", "25.02CC", "~#3C", "", "2.5E+01 C"):
        with pytest.raises(DeviceError, match=r"expected a decimal number \(optionally followed by 'C'\), got"):
            parse_decimal(DEVICE, "SOUR:TEMP:DIOD?", reply, "C")


@pytest.mark.parametrize(("reply", "value"), [("0", 0), ("1", 1), ("4", 4), ("10", 10)])
def test_integer_replies(reply: str, value: int) -> None:
    """Cobolt `f?` (0 no fault, 1, 3, 4) and `gam?` (0, 1, 2) are codes in decimal digits."""
    assert parse_integer(DEVICE, "f?", reply) == value


@pytest.mark.parametrize("reply", [NOISE, "", "1.0", "-1", "+1", "1 ", "0x1", "\u0663", "OK"])
def test_not_an_integer(reply: str) -> None:
    with pytest.raises(DeviceError) as caught:
        parse_integer(DEVICE, "f?", reply)
    assert str(caught.value) == f"{DEVICE}: f?: expected an integer, got {reply!r}"


@pytest.mark.parametrize(("reply", "value"), [("00000010", 0x10), ("0", 0), ("FFFFFFFF", 2**32 - 1), ("0a1B", 0xA1B)])
def test_hexadecimal_bit_fields(reply: str, value: int) -> None:
    """OBIS `SYST:STAT?` and `SYST:FAUL?`: a 32-bit field printed in hexadecimal."""
    assert parse_hex_32(DEVICE, "SYST:FAUL?", reply) == value


@pytest.mark.parametrize("reply", [NOISE, "", "0x10", "-1", "+1", "123456789", "1 0", "G", "OK", "~"])
def test_not_a_hexadecimal_bit_field(reply: str) -> None:
    with pytest.raises(DeviceError) as caught:
        parse_hex_32(DEVICE, "SYST:FAUL?", reply)
    assert str(caught.value).endswith(f"got {reply!r}") and caught.value.command == "SYST:FAUL?"


# -- through the drivers, on their doubles --------------------------------------------------------------------
@pytest.fixture
def cobolt() -> Iterator[FakeCobolt]:
    with FakeCobolt() as device:
        yield device


@pytest.fixture
def obis() -> Iterator[FakeObis]:
    with FakeObis() as device:
        yield device


def _fails_on_noise(laser: CoboltLaser | ObisLaser, read: Callable[[], object], command: str) -> DeviceError:
    with pytest.raises(DeviceError) as caught:
        read()
    error = caught.value
    assert error.command == command and str(laser.identity) in error.device and repr(NOISE) in error.reason
    return error


@pytest.mark.parametrize(
    ("command", "read"),
    [
        ("pa?", lambda laser: laser.measured_power_w),
        ("p?", lambda laser: laser.power_setpoint_w),
        ("hrs?", lambda laser: laser.status()),
        ("f?", lambda laser: laser.status()),
    ],
)
def test_cobolt_noise_during_emission_is_an_error_and_the_laser_goes_off(
    cobolt: FakeCobolt, command: str, read: Callable[[CoboltLaser], object]
) -> None:
    """The lenient reader took the 3 of the noise: 3 W measured, 3 h, fault code 3 ("interlock error")."""
    with CoboltLaser(cobolt.port_name, device_max_power_w=0.1, max_power_w=0.05, timeout_s=0.3) as laser:
        laser.set_emission(True)
        cobolt.quirk(command, reply=[NOISE])
        error = _fails_on_noise(laser, lambda: read(laser), command)
        assert not cobolt.emission and cobolt.received[-1] == "l0"
        assert any("emission off ('l0') sent" in note for note in error.__notes__)


def test_cobolt_noise_to_the_fault_query_before_the_on_command_never_sends_it(cobolt: FakeCobolt) -> None:
    with CoboltLaser(cobolt.port_name, device_max_power_w=0.1, timeout_s=0.3) as laser:
        sent = len(cobolt.received)
        cobolt.quirk("f?", reply=[NOISE])
        _fails_on_noise(laser, lambda: laser.set_emission(True), "f?")
        assert "l1" not in cobolt.received[sent:] and not cobolt.emission


@pytest.mark.parametrize("command", ["gmlp?", "gam?"])
def test_cobolt_noise_at_open_is_an_error_not_a_rated_power_or_a_mode(cobolt: FakeCobolt, command: str) -> None:
    """Noise answering `gmlp?` is no "does not report its rated power" (which a configured rated power would
    then pass unchecked): it is the error; the laser stays off."""
    cobolt.quirk(command, reply=[NOISE])
    with pytest.raises(DeviceError) as caught:
        CoboltLaser(cobolt.port_name, device_max_power_w=0.1, timeout_s=0.3)
    assert caught.value.command == command and repr(NOISE) in caught.value.reason
    assert not cobolt.emission


@pytest.mark.parametrize(
    ("command", "read"),
    [
        ("SOUR:POW:LEV?", lambda laser: laser.measured_power_w),
        ("SOUR:POW:LEV:IMM:AMPL?", lambda laser: laser.power_setpoint_w),
        ("SYST:DIOD:HOUR?", lambda laser: laser.status()),
        ("SYST:FAUL?", lambda laser: laser.status()),
        ("SYST:STAT?", lambda laser: laser.system_status()),
        ("SOUR:TEMP:DIOD?", lambda laser: laser.temperatures_c()),
    ],
)
def test_obis_noise_during_emission_is_an_error_and_the_laser_goes_off(
    obis: FakeObis, command: str, read: Callable[[ObisLaser], object]
) -> None:
    with ObisLaser(obis.port_name, max_power_w=0.05, timeout_s=0.3) as laser:
        laser.set_emission(True)
        obis.quirk(command, reply=[NOISE, "OK"])
        _fails_on_noise(laser, lambda: read(laser), command)
        assert not obis.emission and obis.received[-1] == ObisLaser.OFF_COMMAND


def test_obis_readings_in_the_documented_forms(obis: FakeObis) -> None:
    """NR3 powers, temperatures with their unit, hours, hexadecimal status words."""
    with ObisLaser(obis.port_name, max_power_w=0.05, timeout_s=0.3) as laser:
        laser.set_power_w(0.02)
        laser.set_emission(True)
        obis.quirk("SOUR:POW:LEV?", reply=["1.98000E-02", "OK"])
        assert laser.measured_power_w == pytest.approx(0.0198)
        assert laser.temperatures_c() == {"diode": pytest.approx(25.02), "base": pytest.approx(23.4)}
        assert laser.status().hours == pytest.approx(321.5) and laser.system_status() == 0x10
