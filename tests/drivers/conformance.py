"""The backends each contract's conformance suite runs on, each on its realistic double.

A subject opens one backend and says how to provoke what the suite checks on it: which read of the device
can be made to time out (a silent double) and what the device itself reports after `close`. A new backend
gets the whole suite by adding one subject here; a hook it cannot offer (a simulated laser cannot go
silent) is None and that check is skipped with the reason.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from speckle_lab.drivers import DMD, Camera, Laser
from speckle_lab.lab.bench import Bench, build_bench
from speckle_lab.lab.bench_config import BenchConfig

TIMEOUT_S = 0.3
BOUND_S = TIMEOUT_S + 0.2 + 0.6  # the timeout, an emergency emission-off's short wait, scheduling slack

SMALL_SIM_BENCH = {
    "dmd": {"mirror_rows": 32, "mirror_cols": 32, "macropixel_mirrors": 2, "side_macropixels": 8},
    "camera": {"rows": 16, "cols": 16},
    "medium": {"grain_px": 1.0},
}


@contextlib.contextmanager
def sim_bench() -> Iterator[Bench]:
    with build_bench(BenchConfig().with_changes(**SMALL_SIM_BENCH), "conformance sim bench") as bench:
        yield bench


@dataclass
class LaserSubject:
    laser: Laser
    emitting: Callable[[], bool] | None  # what the device itself says, also after close (None: cannot be asked)
    silence: Callable[[], Callable[[], object]] | None  # makes the device silent; returns the read that times out
    refuse: Callable[[], tuple[Callable[[], object], str]] | None = None  # the device answers the read with an
    # error; returns the read and its command
    wire: Callable[[], list[str]] | None = None  # every command the device received so far, in order (None: the
    # double does not log them)


@dataclass
class DmdSubject:
    dmd: DMD


@dataclass
class CameraSubject:
    camera: Camera


# -- lasers ------------------------------------------------------------------------------------------------
@contextlib.contextmanager
def sim_laser(request: pytest.FixtureRequest) -> Iterator[LaserSubject]:
    with sim_bench() as bench:
        laser = bench.laser

        def refuse() -> tuple[Callable[[], object], str]:
            laser.inject_fault("overtemperature")  # as a real head's fault: emission stops at once
            return (lambda: laser.set_emission(True)), "emission on"

        yield LaserSubject(laser, lambda: laser.emission, None, refuse)


@contextlib.contextmanager
def cobolt_laser(request: pytest.FixtureRequest) -> Iterator[LaserSubject]:
    from fake_cobolt import FakeCobolt

    from speckle_lab.drivers.lasers import CoboltLaser

    with FakeCobolt() as device:
        laser = CoboltLaser(device.port_name, device_max_power_w=0.1, max_power_w=0.05, timeout_s=TIMEOUT_S)

        def silence() -> Callable[[], object]:
            device.quirk("pa?", silent=True)
            return lambda: laser.measured_power_w

        def refuse() -> tuple[Callable[[], object], str]:
            device.quirk("pa?", reply=["Error: laser busy"])
            return (lambda: laser.measured_power_w), "pa?"

        try:
            yield LaserSubject(laser, lambda: device.emission, silence, refuse, lambda: list(device.received))
        finally:
            _close_quietly(laser)


@contextlib.contextmanager
def obis_laser(request: pytest.FixtureRequest) -> Iterator[LaserSubject]:
    from fake_obis import FakeObis

    from speckle_lab.drivers.lasers import ObisLaser

    with FakeObis() as device:
        laser = ObisLaser(device.port_name, max_power_w=0.05, timeout_s=TIMEOUT_S)

        def silence() -> Callable[[], object]:
            device.quirk("SOUR:POW:LEV?", silent=True)
            return lambda: laser.measured_power_w

        def refuse() -> tuple[Callable[[], object], str]:
            device.quirk("SOUR:POW:LEV?", reply=["ERR-100"])
            return (lambda: laser.measured_power_w), "SOUR:POW:LEV?"

        try:
            yield LaserSubject(laser, lambda: device.emission, silence, refuse, lambda: list(device.received))
        finally:
            _close_quietly(laser)


@contextlib.contextmanager
def obis_visa_sim_laser(request: pytest.FixtureRequest) -> Iterator[LaserSubject]:
    pytest.importorskip("pyvisa_sim")
    from speckle_lab.drivers.lasers import ObisLaser

    backend = f"{Path(__file__).with_name('obis_sim.yaml')}@sim"
    laser = ObisLaser("ASRL1::INSTR", visa_backend=backend, max_power_w=0.08, timeout_s=0.5)
    try:  # pyvisa-sim's state lives in the closed session: the device cannot be asked after close
        yield LaserSubject(laser, None, None)
    finally:
        _close_quietly(laser)


LASERS = {"sim": sim_laser, "cobolt": cobolt_laser, "obis": obis_laser, "obis-pyvisa-sim": obis_visa_sim_laser}


# -- DMDs --------------------------------------------------------------------------------------------------
@contextlib.contextmanager
def sim_dmd(request: pytest.FixtureRequest) -> Iterator[DmdSubject]:
    with sim_bench() as bench:
        yield DmdSubject(bench.dmd)


@contextlib.contextmanager
def alp4_dmd(request: pytest.FixtureRequest) -> Iterator[DmdSubject]:
    import fake_alp4

    from speckle_lab.drivers.dmds import Alp4DMD

    dll_class = fake_alp4.install(request.getfixturevalue("monkeypatch"))
    dmd = Alp4DMD(device_number=dll_class.serial)
    try:
        yield DmdSubject(dmd)
    finally:
        _close_quietly(dmd)
    assert dll_class.instances[-1].violations == []  # every DLL call matched alp.h


@contextlib.contextmanager
def display_dmd(request: pytest.FixtureRequest) -> Iterator[DmdSubject]:
    pytest.importorskip("PySide6.QtWidgets", reason="PySide6 (the 'gui' extra) is not installed")
    request.getfixturevalue("qapp")
    from speckle_lab.drivers.dmds import DisplayDMD

    dmd = DisplayDMD(screen_index=0, mirror_shape=(24, 40), present_timeout_s=1.0)
    try:
        yield DmdSubject(dmd)
    finally:
        _close_quietly(dmd)


DMDS = {"sim": sim_dmd, "alp4": alp4_dmd, "display": display_dmd}


# -- cameras -----------------------------------------------------------------------------------------------
@contextlib.contextmanager
def sim_camera(request: pytest.FixtureRequest) -> Iterator[CameraSubject]:
    with sim_bench() as bench:
        yield CameraSubject(bench.camera)


@contextlib.contextmanager
def genicam_camera(request: pytest.FixtureRequest) -> Iterator[CameraSubject]:
    from test_genicam_tlsimu import MONO, _tlsimu

    from speckle_lab.drivers.cameras import GenICamCamera

    camera = GenICamCamera(_tlsimu(), serial=MONO)
    try:
        yield CameraSubject(camera)
    finally:
        _close_quietly(camera)


CAMERAS = {"sim": sim_camera, "genicam": genicam_camera}


def _close_quietly(device: Any) -> None:
    with contextlib.suppress(Exception):
        device.close()
