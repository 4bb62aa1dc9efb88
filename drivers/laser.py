"""The laser contract: a power range enforced in the driver and emission that is off after close."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any, ClassVar, final

from speckle_lab.drivers.device import Device, DeviceIdentity
from speckle_lab.drivers.errors import EmissionVetoed, OutOfRange

#: Asked at the last moment before an emission-on command: a reason to refuse it, or None to let it go.
EmissionVeto = Callable[[], "str | None"]
#: What a laser backend may not define: the emission template of `Laser` and the veto it asks.
SEALED = ("set_emission", "set_emission_veto", "_check_emission_veto")


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

    `set_emission` is written here, once, and no backend replaces it (a subclass that defines it, or the veto
    methods, is refused when its class is created). Inside the backend's `_emission_exchange` (its lock: one
    transaction with the device) it runs the backend's `_check_ready_to_emit` (the fault and interlock queries:
    every round trip before the on command), then asks the emission veto, then calls `_switch_emission(True)`,
    whose first command is the on command (`ON_COMMAND`). So every backend asks the veto immediately before its
    on command on the wire, whether or not its author knew of the veto: a stop asked for from another thread or
    a signal handler while the laser is being armed refuses the on command itself (`EmissionVetoed`, nothing
    sent), however many round trips the arming had left. The lifecycle (`acquisition.laser_lifecycle`) installs
    the veto; a laser without one switches on as asked. Off is `_switch_emission(False)`, never vetoed.
    """

    #: How errors name the emission-on command; a line laser's is the command on the wire (`l1`).
    ON_COMMAND: ClassVar[str] = "emission on"
    _emission_veto: EmissionVeto | None = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        defined = [name for name in SEALED if name in vars(cls)]
        if defined:
            raise TypeError(
                f"{cls.__module__}.{cls.__qualname__} defines {', '.join(defined)}: a laser backend implements "
                "_check_ready_to_emit and _switch_emission, and Laser.set_emission asks the emission veto between "
                "them (docs/drivers.md, Adding a laser)"
            )

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

    @final
    def set_emission(self, on: bool) -> None:
        """Emission on or off. On: the backend's readiness checks (`LaserFault` when faulted or the interlock is
        open), then the veto (`EmissionVetoed`, nothing sent), then the on command, as one exchange."""
        with self._emission_exchange():
            if on:
                self._check_ready_to_emit()
                self._check_emission_veto(self.ON_COMMAND)
            self._switch_emission(bool(on))

    @final
    def set_emission_veto(self, veto: EmissionVeto | None) -> None:
        """Install (None: remove) the check made at the last moment before every emission-on command."""
        self._emission_veto = veto

    @final
    def _check_emission_veto(self, command: str) -> None:
        """Raise `EmissionVetoed` (nothing sent) when the veto refuses; asked by `set_emission` only."""
        veto = self._emission_veto
        reason = veto() if veto is not None else None
        if reason:
            raise EmissionVetoed(str(self.identity), command, f"not sent: {reason}")

    def _emission_exchange(self) -> AbstractContextManager[object]:
        """The backend's lock around one switch of emission: the readiness queries, the veto and the on command
        as one transaction. A backend with a lock (or a transaction) returns it; by default nothing is held."""
        return nullcontext()

    @abstractmethod
    def _check_ready_to_emit(self) -> None:
        """Raise `LaserFault` (naming `ON_COMMAND`) when the laser reports a fault or an open interlock. Every
        round trip a backend makes before its on command belongs here: it runs before the veto. A laser that
        cannot tell returns without asking."""

    @abstractmethod
    def _switch_emission(self, on: bool) -> None:
        """Send the on (`on`) or off command, as the first command, then read back what the backend reads back
        (`LaserFault` when emission did not start). Called by `set_emission` only; for on, right after the veto."""

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
