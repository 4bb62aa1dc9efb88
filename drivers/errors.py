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
