"""The laser's lifecycle on a Cobolt laser behind a pty (the driver speaks its real protocol): every transition
read back and recorded, a stop during arming refusing the on command at the last moment, and what a laser that
is stuck on, answers garbage or vanishes does to it."""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "drivers"))
from fake_cobolt import FakeCobolt

from speckle_lab.acquisition.datafile.layout import EventKind
from speckle_lab.acquisition.laser_lifecycle import ArmingStopped, LaserLifecycle, LaserState, lifecycle_of
from speckle_lab.drivers import LaserOffFailed
from speckle_lab.drivers.lasers import CoboltLaser

POWER_W = 0.01


@pytest.fixture
def cobolt() -> Iterator[FakeCobolt]:
    with FakeCobolt() as device:
        yield device


@pytest.fixture
def laser(cobolt: FakeCobolt) -> Iterator[CoboltLaser]:
    laser = CoboltLaser(cobolt.port_name, device_max_power_w=0.1, max_power_w=0.1, timeout_s=0.5)
    yield laser
    with contextlib.suppress(Exception):  # a double that was made to fail: its close may fail too
        laser.close()


def commands_from(cobolt: FakeCobolt, command: str) -> list[str]:
    """The commands the laser received from the last `command` on."""
    received = cobolt.received
    return received[len(received) - 1 - received[::-1].index(command) :]


def test_every_transition_is_read_back_and_recorded(cobolt: FakeCobolt, laser: CoboltLaser) -> None:
    lifecycle = lifecycle_of(laser)
    assert lifecycle_of(laser) is lifecycle  # one lifecycle per laser, shared by every caller
    transitions = lifecycle.record()
    lifecycle.arm(lifecycle.stops, POWER_W)
    assert lifecycle.state is LaserState.EMITTING and cobolt.emission
    assert commands_from(cobolt, "l1") == ["l1", "l?", "l?", "pa?"]  # on, read back (driver, lifecycle), power
    assert lifecycle.switch_off("at the end") and lifecycle.state is LaserState.OFF and not cobolt.emission
    assert commands_from(cobolt, "l0") == ["l0", "l?"]
    recorded = transitions.take()
    assert [t.kind for t in recorded] == [
        EventKind.LASER_OFF,  # the driver found it emitting at connect (the double starts on), read it back off
        EventKind.LASER_ARMING,
        EventKind.LASER_ON,
        EventKind.LASER_OFF,
    ]
    assert "at connect" in recorded[0].message and "read back off" in recorded[0].message
    assert f"{POWER_W:g} W read back" in recorded[1].message and "read back on" in recorded[2].message
    assert recorded[3].message == "at the end: off command sent, read back off"
    assert transitions.take() == []


def test_a_stop_from_another_thread_during_arming_refuses_the_on_command(
    cobolt: FakeCobolt, laser: CoboltLaser
) -> None:
    lifecycle = lifecycle_of(laser)
    since = lifecycle.stops
    # the last round trip before `l1`: the driver's own interlock check, after the lifecycle's status read
    cobolt.on_command("ilk?", lambda command: lifecycle.request_stop("LASER OFF"), nth=2)
    with pytest.raises(ArmingStopped, match="LASER OFF"):
        lifecycle.arm(since, POWER_W)
    assert "l1" not in cobolt.received and not cobolt.emission
    assert cobolt.received[-2:] == ["l0", "l?"] and lifecycle.state is LaserState.OFF
    lifecycle.arm(lifecycle.stops, POWER_W)  # a later arming (a new command) is not held by that stop
    assert cobolt.emission


def test_a_laser_stuck_on_is_an_alarm_and_is_never_armed_again(cobolt: FakeCobolt, laser: CoboltLaser) -> None:
    lifecycle = lifecycle_of(laser)
    transitions = lifecycle.record()
    lifecycle.arm(lifecycle.stops, POWER_W)
    cobolt.stuck_on = True
    assert not lifecycle.switch_off("on stop")
    assert lifecycle.state is LaserState.ALARM and cobolt.emission
    assert "still reports emission" in lifecycle.alarm and "key switch" in lifecycle.alarm
    assert lifecycle.alarm.startswith("ALARM: ")
    assert transitions.take()[-1].kind is EventKind.LASER_OFF_FAILED
    sent = len(cobolt.received)
    with pytest.raises(LaserOffFailed, match="refusing to switch on"):
        lifecycle.arm(lifecycle.stops, POWER_W)
    assert "l1" not in cobolt.received[sent:]


def test_garbage_is_never_read_as_off(cobolt: FakeCobolt, laser: CoboltLaser) -> None:
    """The noise has a digit in it: "the first number in the reply" would have read it as a state."""
    lifecycle = lifecycle_of(laser)
    lifecycle.arm(lifecycle.stops, POWER_W)
    cobolt.garbage = True
    assert not lifecycle.switch_off("on stop")
    assert "not confirmed off" in lifecycle.alarm and "expected 0 or 1" in lifecycle.alarm
    assert cobolt.received[-1] == "l0"  # the driver's emergency off after the unreadable read-back


def test_a_port_gone_after_a_read_back_off_is_known_off_and_no_alarm(cobolt: FakeCobolt, laser: CoboltLaser) -> None:
    lifecycle = lifecycle_of(laser)
    transitions = lifecycle.record()
    assert lifecycle.switch_off("before the darks")
    cobolt.disappear()
    assert lifecycle.switch_off("at the end")
    assert lifecycle.failures == [] and lifecycle.state is LaserState.OFF
    last = transitions.take()[-1]
    assert last.kind is EventKind.LASER_OFF and "known off" in last.message and "DeviceDisconnected" in last.message


def test_a_port_gone_while_emitting_is_an_alarm(cobolt: FakeCobolt, laser: CoboltLaser) -> None:
    lifecycle = lifecycle_of(laser)
    lifecycle.arm(lifecycle.stops, POWER_W)
    cobolt.disappear()
    assert not lifecycle.switch_off("on stop")
    assert "not confirmed off" in lifecycle.alarm and "gone" in lifecycle.alarm


def test_a_keyboard_interrupt_in_the_switch_off_waits_for_the_read_back(cobolt: FakeCobolt, laser: CoboltLaser) -> None:
    """Ctrl-C with nothing but Python's own handler (the study, a script): the interrupt lands in the middle of
    the off command's round trip; the read-back still happens, then the interrupt goes on."""
    lifecycle: LaserLifecycle = lifecycle_of(laser)
    lifecycle.arm(lifecycle.stops, POWER_W)
    main = threading.main_thread().ident

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGUSR1, interrupt)
    try:
        cobolt.on_command("l0", lambda command: signal.pthread_kill(main, signal.SIGUSR1))
        with pytest.raises(KeyboardInterrupt):
            lifecycle.switch_off("on Ctrl-C")
    finally:
        signal.signal(signal.SIGUSR1, previous)
    assert not cobolt.emission and lifecycle.state is LaserState.OFF
    assert "l?" in commands_from(cobolt, "l0")  # read back after the interrupted off command
