"""What every device has: an identity, a state to show, and a close that leaves it safe."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self


@dataclass(frozen=True)
class DeviceIdentity:
    """Who the device is, as written into every data file."""

    kind: str  # "laser", "dmd" or "camera"
    vendor: str
    model: str
    serial: str
    firmware: str = ""
    backend: str = ""

    def as_dict(self) -> dict[str, str]:
        return {
            "kind": self.kind,
            "vendor": self.vendor,
            "model": self.model,
            "serial": self.serial,
            "firmware": self.firmware,
            "backend": self.backend,
        }

    def __str__(self) -> str:
        return f"{self.vendor} {self.model} (serial {self.serial}, {self.backend})"


class Device(ABC):
    """Base of the three contracts. A device is a context manager; leaving it closes it safely.

    A backend hands its identity to the constructor once it knows it (after connecting, for real devices)."""

    _identity: DeviceIdentity | None = None

    def __init__(self, identity: DeviceIdentity | None = None) -> None:
        if identity is not None:
            self._identity = identity

    @property
    def identity(self) -> DeviceIdentity:
        if self._identity is None:
            raise RuntimeError(f"{type(self).__name__} did not pass its identity to the Device constructor")
        return self._identity

    @abstractmethod
    def state(self) -> dict[str, Any]:
        """The settings and readings an operator wants to see, as plain values."""

    @abstractmethod
    def close(self) -> None:
        """Release the device, leaving it safe (laser emission off, DMD halted, camera stopped)."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
