"""The exact exchanges of the serial and VISA laser drivers: open, set power, on, off, close.

Each script is what the vendor documents, in the order the driver must send it (docs/drivers.md says why each
step is there). The stateful doubles test behaviour; these pin the bytes on the wire.
"""

from __future__ import annotations

import pytest
from protocol import ProtocolMismatch, expected_protocol, expected_visa_protocol

from speckle_lab.drivers import OutOfRange
from speckle_lab.drivers.lasers import CoboltLaser, ObisLaser

# Cobolt 06-01 series: `cmd\r` out, one `\r\n` line back; settings answer "OK" (manual; pycobolt's send_cmd).
COBOLT_OPEN = [
    ("@cobas 0", "OK"),  # autostart off: emission under remote control
    ("l?", "1"),  # it was left emitting
    ("l0", "OK"),
    ("l?", "0"),  # the switch-off read back (the laser's lifecycle: off is known, not assumed)
    ("cp", "OK"),  # constant-power mode ...
    ("gam?", "1"),  # ... read back: 1 = constant power
    ("sn?", "20417"),
    ("gfv?", "9.001"),
    ("glm?", "0532-06-01-0100-700"),
    ("gmlp?", "100.0"),  # rated power, mW
]
COBOLT_SET_POWER = [("p 0.02000", "OK")]  # watts
COBOLT_ON = [("f?", "0"), ("ilk?", "0"), ("l1", "OK"), ("l?", "1")]  # no fault, interlock closed, on, read back
COBOLT_OFF = [("l0", "OK")]
COBOLT_CLOSE = [("l0", "OK")]

# OBIS: `\r\n` both ways, handshake on: a setting answers "OK", a query its value then "OK" (OBIS manual).
OBIS_OPEN = [
    ("SYST:COMM:HAND ON", "OK"),
    ("*IDN?", ["Coherent, Inc - OBIS 532nm 50mW LS - V1.0.1 - Oct 14 2014", "OK"]),
    ("SYST:INF:SNUM?", ["C12345", "OK"]),
    ("SOUR:POW:LIM:LOW?", ["0.00500", "OK"]),
    ("SOUR:POW:LIM:HIGH?", ["0.05500", "OK"]),
    ("SOUR:AM:STAT?", ["ON", "OK"]),  # it was left emitting
    ("SOUR:AM:STAT OFF", "OK"),
    ("SOUR:AM:STAT?", ["OFF", "OK"]),  # the switch-off read back
    ("SOUR:AM:INT CWP", "OK"),  # CW, constant power
]
OBIS_SET_POWER = [("SOUR:POW:LEV:IMM:AMPL 0.02000", "OK")]
OBIS_ON = [
    ("SYST:FAUL?", ["00000000", "OK"]),
    ("SYST:LOCK?", ["ON", "OK"]),  # ON: interlock closed
    ("SOUR:AM:STAT ON", "OK"),
    ("SOUR:AM:STAT?", ["ON", "OK"]),
]
OBIS_OFF = [("SOUR:AM:STAT OFF", "OK")]
OBIS_CLOSE = [("SOUR:AM:STAT OFF", "OK")]


def test_cobolt_open_set_power_on_off_close() -> None:
    script = COBOLT_OPEN + COBOLT_SET_POWER + COBOLT_ON + COBOLT_OFF + COBOLT_CLOSE
    with expected_protocol(script, eol_out=b"\r") as port:
        laser = CoboltLaser(port, device_max_power_w=0.1, max_power_w=0.05, timeout_s=0.2)
        assert laser.emission_at_open and laser.operating_mode == "constant power"
        laser.set_power_w(0.02)
        laser.set_emission(True)
        laser.set_emission(False)
        laser.close()


def test_cobolt_refused_power_sends_nothing() -> None:
    with expected_protocol([*COBOLT_OPEN, *COBOLT_CLOSE], eol_out=b"\r") as port:
        laser = CoboltLaser(port, device_max_power_w=0.1, max_power_w=0.05, timeout_s=0.2)
        with pytest.raises(OutOfRange):
            laser.set_power_w(0.06)
        laser.close()


@pytest.mark.parametrize("link", ["serial", "visa"])
def test_obis_open_set_power_on_off_close(link: str) -> None:
    script = OBIS_OPEN + OBIS_SET_POWER + OBIS_ON + OBIS_OFF + OBIS_CLOSE
    protocol = expected_protocol(script) if link == "serial" else expected_visa_protocol(script)
    with protocol as port:
        laser = ObisLaser(port, max_power_w=0.05, timeout_s=0.2)
        assert laser.power_range_w == (0.005, 0.05) and laser.identity.serial == "C12345"
        laser.set_power_w(0.02)
        laser.set_emission(True)
        laser.set_emission(False)
        laser.close()


def test_a_wrong_command_fails_the_protocol_test() -> None:
    """The helper can fail: a driver that skipped `cp` would be caught at the first command after `l0`."""
    skipped_cp = [exchange for exchange in COBOLT_OPEN if exchange[0] not in ("cp", "gam?")]
    with (
        pytest.raises(ProtocolMismatch, match=r"sent 'cp', expected 'sn\?'"),
        expected_protocol(skipped_cp, eol_out=b"\r") as port,
    ):
        CoboltLaser(port, device_max_power_w=0.1, timeout_s=0.2)
    with pytest.raises(AssertionError, match="never sent"), expected_protocol(COBOLT_OPEN + COBOLT_CLOSE) as port:
        pass
