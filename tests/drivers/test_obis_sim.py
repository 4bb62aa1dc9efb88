"""The OBIS driver through pyvisa against pyvisa-sim devices (obis_sim.yaml): handshake OK lines, ERR replies."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from speckle_lab.drivers import DeviceDisconnected, DeviceError, LaserFault, OutOfRange
from speckle_lab.drivers.lasers import ObisLaser

pytest.importorskip("pyvisa_sim")
BACKEND = f"{Path(__file__).with_name('obis_sim.yaml')}@sim"


@pytest.fixture
def resource() -> Iterator[Any]:
    """An open pyvisa resource on the healthy simulated head, as a caller would hand it over."""
    import pyvisa

    manager = pyvisa.ResourceManager(BACKEND)
    resource = manager.open_resource("ASRL1::INSTR", timeout=1000)
    yield resource
    resource.close()
    manager.close()


def test_identity_limits_and_power_by_resource_name() -> None:
    with ObisLaser("ASRL1::INSTR", visa_backend=BACKEND, max_power_w=0.08, timeout_s=0.5) as laser:
        identity = laser.identity
        assert (identity.vendor, identity.model) == ("Coherent, Inc", "OBIS 405nm 100mW LX")
        assert (identity.serial, identity.firmware) == ("OB405-SIM", "V3.1.2")
        assert laser.power_range_w == (0.001, 0.08)
        assert laser.port_name == "ASRL1::INSTR"
        laser.set_power_w(0.05)
        assert laser.power_setpoint_w == pytest.approx(0.05)
        with pytest.raises(OutOfRange):
            laser.set_power_w(0.09)
        assert laser.power_setpoint_w == pytest.approx(0.05)
        assert laser.measured_power_w == pytest.approx(0.0498)


def test_emission_status_and_close_on_an_open_resource(resource: Any) -> None:
    laser = ObisLaser(resource, timeout_s=0.5)
    assert laser.power_range_w == (0.001, 0.11)
    laser.set_emission(True)
    assert laser.emission
    status = laser.status()
    assert (status.emission, status.fault, status.interlock_closed, status.hours) == (True, None, True, 1024.25)
    assert laser.system_status() == 0x10
    assert laser.temperatures_c() == {"diode": 25.0, "base": 22.5}
    laser.close()
    # the resource is still the caller's and open; the head was told to stop emitting
    assert resource.query("SOUR:AM:STAT?") == "OFF" and resource.read() == "OK"


def test_open_interlock_missing_commands_and_err_replies() -> None:
    with ObisLaser("ASRL2::INSTR", visa_backend=BACKEND, timeout_s=0.5) as laser:
        assert laser.identity.serial == "unknown"  # SYST:INF:SNUM? answered ERR-100: tolerated
        assert laser.power_range_w == (0.0005, 0.044)
        with pytest.raises(LaserFault, match="interlock is open"):
            laser.set_emission(True)
        with pytest.raises(DeviceError, match=r"SOUR:AM:EXT DIG: the laser replied ERR-100") as caught:
            laser.set_modulation("digital")
        assert any("emission off" in note for note in caught.value.__notes__)
        assert laser.modulation == "cw"


def test_missing_resource_is_a_disconnection_naming_it() -> None:
    pytest.importorskip("pyvisa_py")  # pyvisa-sim opens any name; pyvisa-py, like a real VISA, refuses
    with pytest.raises(DeviceDisconnected, match="ASRL/dev/no-such-obis::INSTR"):
        ObisLaser("ASRL/dev/no-such-obis::INSTR", visa_backend="@py")


def test_bad_settings_are_refused_before_opening() -> None:
    with pytest.raises(ValueError, match="modulation"):
        ObisLaser("ASRL1::INSTR", visa_backend=BACKEND, modulation="analog")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_power_w"):
        ObisLaser("ASRL1::INSTR", visa_backend=BACKEND, max_power_w=0)
    with pytest.raises(ValueError, match="below the laser's minimum"):
        ObisLaser("ASRL1::INSTR", visa_backend=BACKEND, max_power_w=0.0001)
