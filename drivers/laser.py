"""The laser contract: a power range enforced in the driver and emission that is off after close."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from speckle_lab.drivers.device import Device, DeviceIdentity
from speckle_lab.drivers.errors import EmissionVetoed, OutOfRange

#: Asked at the last moment before an emission-on command: a reason to refuse it, or None to let it go.
EmissionVeto = Callable[[], "str | None"]


@dataclass(frozen=True)
class LaserStatus:
    """What the laser says about itself."""

    emission: bool
    fault: str | None  # None when the laser reports no fault
    interlock_closed: bool
    hours: float | None = None


class Laser(Device):
    """A CW laser with a settable output power.

    Backends implement the `_` methods; the public methods hold the checks every laser shares:
    `set_power_w` refuses a value outside the range (never clips) and leaves the setpoint unchanged.
    Backends pass the power range (and their identity, once known) to the constructor.

    Every backend calls `_check_emission_veto(command)` immediately before it sends its emission-on command
    (after its own fault and interlock checks, under its own lock): a stop asked for from another thread or a
    signal handler while the laser is being armed then refuses the on command itself (`EmissionVetoed`),
    however many round trips the arming had left. The lifecycle (`acquisition.laser_lifecycle`) installs the
    veto; a laser without one switches on as asked.
    """

    _emission_veto: EmissionVeto | None = None

    def __init__(self, min_power_w: float, max_power_w: float, identity: DeviceIdentity | None = None) -> None:
        super().__init__(identity)
        if not 0 <= min_power_w <= max_power_w:
            raise ValueError(f"laser power range [{min_power_w}, {max_power_w}] W is not a valid range")
        self._min_power_w = float(min_power_w)
        self._max_power_w = float(max_power_w)

    @property
    def power_range_w(self) -> tuple[float, float]:
        """The allowed setpoints: the device's own limits narrowed by the configured safety limit."""
        return self._min_power_w, self._max_power_w

    def set_power_w(self, power_w: float) -> None:
        low, high = self.power_range_w
        if not low <= power_w <= high:
            raise OutOfRange(str(self.identity), f"set power {power_w!r} W", f"allowed range is [{low}, {high}] W")
        self._set_power_w(float(power_w))

    @property
    @abstractmethod
    def power_setpoint_w(self) -> float: ...

    @property
    @abstractmethod
    def measured_power_w(self) -> float: ...

    @property
    @abstractmethod
    def emission(self) -> bool: ...

    @abstractmethod
    def set_emission(self, on: bool) -> None: ...

    def set_emission_veto(self, veto: EmissionVeto | None) -> None:
        """Install (None: remove) the check made at the last moment before every emission-on command."""
        self._emission_veto = veto

    def _check_emission_veto(self, command: str) -> None:
        """Raise `EmissionVetoed` (nothing sent) when the veto refuses; backends call it right before `command`."""
        veto = self._emission_veto
        reason = veto() if veto is not None else None
        if reason:
            raise EmissionVetoed(str(self.identity), command, f"not sent: {reason}")

    @abstractmethod
    def status(self) -> LaserStatus: ...

    @abstractmethod
    def _set_power_w(self, power_w: float) -> None: ...

    def state(self) -> dict[str, Any]:
        status = self.status()
        return {
            "power_setpoint_w": self.power_setpoint_w,
            "measured_power_w": self.measured_power_w,
            "power_range_w": list(self.power_range_w),
            "emission": status.emission,
            "fault": status.fault,
            "interlock_closed": status.interlock_closed,
            "hours": status.hours,
        }
