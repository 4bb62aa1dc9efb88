"""Switching emission off, and knowing it is off: a failed switch-off is an alarm, never swallowed.

The scheduler, the capture service and the GUI all end a run through `switch_off`: it sends the off command,
then reads the emission state back. Anything but a confirmed "off" raises `LaserOffFailed`, which the
scheduler records in the data file and the command line / the panel show as an alarm (the operator must
then use the laser's key switch or interlock; see docs/bench.md).
"""

from __future__ import annotations

import logging

from speckle_lab.drivers import DeviceError, Laser

log = logging.getLogger("speckle_lab.safety")


class LaserOffFailed(DeviceError):
    """Emission could not be switched off, or not confirmed off: an alarm for the operator."""

    def __init__(self, device: str, reason: str) -> None:
        super().__init__(device, "emission off", reason)

    @property
    def alarm(self) -> str:
        return (
            f"ALARM: the laser may still be emitting ({self}); switch it off with its key switch or "
            "interlock and check it"
        )


def switch_off(laser: Laser) -> None:
    """Emission off, confirmed by reading it back; `LaserOffFailed` (also logged as critical) otherwise."""
    name = _name(laser)
    try:
        laser.set_emission(False)
        still_on = laser.emission
    except Exception as error:  # any failure of the off command is the alarm, whatever its type
        failure = LaserOffFailed(name, f"{type(error).__name__}: {error}")
        log.critical(failure.alarm)
        raise failure from error
    if still_on:
        failure = LaserOffFailed(name, "the laser still reports emission on after the off command")
        log.critical(failure.alarm)
        raise failure


def _name(laser: Laser) -> str:
    try:
        return str(laser.identity)
    except Exception:  # an identity that cannot be read must not hide the alarm
        return type(laser).__name__
