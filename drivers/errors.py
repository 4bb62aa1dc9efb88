"""The errors every backend raises, so callers handle one family whatever the hardware."""

from __future__ import annotations


class DeviceError(RuntimeError):
    """A device refused or failed a command. The message names the device and the command."""

    def __init__(self, device: str, command: str, reason: str) -> None:
        self.device = device
        self.command = command
        self.reason = reason
        super().__init__(f"{device}: {command}: {reason}")


class DeviceTimeout(DeviceError):
    """The device did not answer (or no frame arrived) within the timeout: never a hang."""


class DeviceDisconnected(DeviceError):
    """The transport to the device is gone (cable pulled, port closed, process died)."""


class OutOfRange(DeviceError, ValueError):
    """A setting outside what the device (or the configured safety limit) allows; nothing was changed."""


class LaserFault(DeviceError):
    """The laser reports a fault or an open interlock and cannot emit."""


class EmissionVetoed(DeviceError):
    """The on command was not sent: the laser's emission veto refused it at the last moment (a stop was
    asked for while the laser was being armed). Nothing was changed on the device."""


class LaserOffFailed(DeviceError):
    """Emission could not be switched off, or not confirmed off: an alarm for the operator, never swallowed.

    The message says where and why, and what the operator must do (the key switch or the interlock)."""

    ADVICE = "the laser may still be emitting: switch it off with its key switch or interlock and check it"

    def __init__(self, device: str, reason: str) -> None:
        super().__init__(device, "emission off", f"{reason}; {self.ADVICE}")

    @property
    def alarm(self) -> str:
        """The alarm line the command line prints and the panel shows."""
        return f"ALARM: {self}"
