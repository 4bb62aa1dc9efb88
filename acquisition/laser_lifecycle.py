"""The laser's lifecycle, written once: off, arming, emitting, switching off, alarm.

Every caller that switches a laser on or off goes through the one `LaserLifecycle` of that laser
(`lifecycle_of(laser)`): the capture run (so the command line, `--resume`, the capture queue, the study and the
panel's captures) and the panel's own laser buttons and LASER OFF. What it guarantees:

- Every switch-off is read back (the off command, then the emission state): the laser is OFF only when it says
  so. A laser that still reports emission is an ALARM; so is one that cannot be read back after it may have
  emitted. One that cannot be read back but was read back off before, with no on command sent since, is known
  off: the failure is recorded, not an alarm (the port is the problem, not the light).
- A stop may be asked for from any thread or from a signal handler (`request_stop`: flags only, no I/O, no
  lock). An arming in flight then never sends its on command: the driver asks the lifecycle at the last moment
  (the laser's emission veto, `Laser._check_emission_veto`), however many serial round trips arming had left.
- A KeyboardInterrupt arriving inside a switch-off is held until the read-back is done, then raised again.
- Every transition is a `LaserTransition`; a capture subscribes (`record`) and writes them into its data file
  as events (`laser_arming`, `laser_on`, `laser_off`, `laser_off_failed`), whichever thread made them.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from dataclasses import dataclass
from enum import StrEnum

from speckle_lab.acquisition.control import CaptureAborted
from speckle_lab.acquisition.datafile.layout import EventKind
from speckle_lab.drivers import DeviceDisconnected, DeviceError, Laser, LaserFault, LaserOffFailed

log = logging.getLogger("speckle_lab.safety")

#: A switch-off interrupted (KeyboardInterrupt) this many times in a row gives up, unconfirmed: an alarm.
SWITCH_OFF_ATTEMPTS = 3


class LaserState(StrEnum):
    OFF = "off"
    ARMING = "arming"
    EMITTING = "emitting"
    SWITCHING_OFF = "switching_off"
    ALARM = "alarm"


@dataclass(frozen=True)
class LaserTransition:
    """One change of state, as read back from the laser: an event of the data file."""

    kind: EventKind
    state: LaserState  # the state entered
    message: str
    time_s: float  # seconds since the epoch


class ArmingStopped(CaptureAborted):
    """A stop was asked for while the laser was being armed: the on command was never sent, the laser is off."""


class TransitionLog:
    """The transitions one subscriber (a capture) has not written yet; filled from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: list[LaserTransition] = []

    def add(self, transition: LaserTransition) -> None:
        with self._lock:
            self._pending.append(transition)

    def take(self) -> list[LaserTransition]:
        with self._lock:
            pending, self._pending = self._pending, []
        return pending


def _describe(error: BaseException) -> str:
    """One line: the command and what went wrong (a device error names the laser already, around it)."""
    if isinstance(error, DeviceError):
        return f"{error.command}: {error.reason} ({type(error).__name__})"
    return f"{type(error).__name__}: {error}"


class LaserLifecycle:
    """The state of one laser and every transition of it. Use `lifecycle_of(laser)`: one per laser.

    `switch_off` may be called from any thread (the panel's LASER OFF while a capture thread arms); the driver
    serialises its own commands. State changes are made under a short lock, never held across device I/O.
    """

    def __init__(self, laser: Laser) -> None:
        self._laser_ref = weakref.ref(laser)
        self._name = _name(laser)
        self._lock = threading.Lock()
        self._state = LaserState.OFF
        self._may_emit = True  # until a read-back says off: whether an on command may have gone out since
        self._stops = 0
        self._stop_reason = ""
        self._arming_since: int | None = None
        self._on_sent = False  # whether the arming in flight passed the veto (its on command went out)
        self._subscribers: list[TransitionLog] = []
        self._connect_note: LaserTransition | None = None
        self.failures: list[LaserOffFailed] = []  # every alarm, oldest first
        if getattr(laser, "emission_at_open", False):  # the driver found it emitting, switched it off, read it back
            message = "at connect: the laser was found emitting; switched off and read back off"
            self._connect_note = LaserTransition(EventKind.LASER_OFF, LaserState.OFF, message, time.time())
        laser.set_emission_veto(self._veto)

    # -- what callers read ----------------------------------------------------------------------------
    @property
    def laser(self) -> Laser:
        laser = self._laser_ref()
        if laser is None:
            raise RuntimeError(f"{self._name}: the laser of this lifecycle was closed and released")
        return laser

    @property
    def state(self) -> LaserState:
        return self._state

    @property
    def stops(self) -> int:
        """How many stops were asked for so far: an arming refuses every stop asked for after its `since`."""
        return self._stops

    @property
    def alarm(self) -> str:
        """The last alarm line ("" when no switch-off ever failed)."""
        return self.failures[-1].alarm if self.failures else ""

    def record(self) -> TransitionLog:
        """Subscribe: every transition from now on is added to the returned log (the first subscriber also gets
        the note that the laser was found emitting at connect). `forget` it when done."""
        log_ = TransitionLog()
        with self._lock:
            self._subscribers.append(log_)
            note, self._connect_note = self._connect_note, None
        if note is not None:
            log_.add(note)
        return log_

    def forget(self, log_: TransitionLog) -> None:
        with self._lock:
            if log_ in self._subscribers:
                self._subscribers.remove(log_)

    # -- stop (any thread, a signal handler included) -------------------------------------------------
    def request_stop(self, reason: str) -> None:
        """A stop was asked for: an arming begun before it never sends its on command. Flags only: safe in a
        signal handler and from any thread."""
        self._stop_reason = reason
        self._stops += 1

    def _veto(self) -> str | None:
        """Asked by the driver under its lock, right before its on command."""
        since = self._arming_since
        if since is not None and self._stops != since:
            return f"a stop was asked for while the laser was being armed ({self._stop_reason})"
        self._may_emit = self._on_sent = True  # the on command goes out now
        return None

    # -- on ---------------------------------------------------------------------------------------------
    def arm(self, since: int, power_w: float | None = None) -> None:
        """OFF -> ARMING -> EMITTING: set the power (when given) and read it back, check fault and interlock,
        switch emission on and read it back on, with the measured power. A stop asked for after `since` (take
        `stops` when the command is given) aborts it before the on command: `ArmingStopped`, the laser switched
        off and read back. Any other failure switches it off too, then propagates."""
        with self._lock:
            if self._state is LaserState.ALARM:
                raise LaserOffFailed(self._name, "refusing to switch on: its last switch-off was not confirmed")
            self._arming_since = since
            self._on_sent = False
            self._state = LaserState.ARMING
        laser = self.laser
        try:
            self._check_stop(since)
            if power_w is not None:
                laser.set_power_w(power_w)
            setpoint_w = laser.power_setpoint_w
            status = laser.status()
            if status.fault is not None or not status.interlock_closed:
                raise LaserFault(self._name, "arming", status.fault or "interlock open")
            self._transition(
                EventKind.LASER_ARMING,
                LaserState.ARMING,
                f"setpoint {setpoint_w:.6g} W read back; no fault, interlock closed",
            )
            self._check_stop(since)
            laser.set_emission(True)  # the driver asks `_veto` right before its on command
            self._may_emit = True
            on, measured_w = laser.emission, laser.measured_power_w
            if not on:
                raise LaserFault(self._name, "emission on", "the laser reads back off after the on command")
        except BaseException as error:
            self._arming_since = None
            stopped = self._stops != since
            if stopped:
                when = "after" if self._on_sent else "before"
                where = f"arming stopped {when} the on command ({self._stop_reason})"
            else:
                where = f"arming failed ({_describe(error)})"
            self.switch_off(where)
            if stopped and isinstance(error, Exception):
                raise ArmingStopped(self._stop_reason) from error
            raise
        self._arming_since = None
        self._transition(
            EventKind.LASER_ON,
            LaserState.EMITTING,
            f"emission on, read back on; measured {measured_w:.6g} W (setpoint {setpoint_w:.6g} W)",
        )

    def _check_stop(self, since: int) -> None:
        if self._stops != since:
            raise ArmingStopped(self._stop_reason)

    # -- off --------------------------------------------------------------------------------------------
    def switch_off(self, where: str) -> bool:
        """-> SWITCHING_OFF -> OFF, or ALARM. The off command, then the emission state read back. Returns True
        when the laser is known off; False is an alarm (in `failures`, logged as critical, recorded).

        A KeyboardInterrupt inside is held until the read-back is done, then raised again."""
        with self._lock:
            self._state = LaserState.SWITCHING_OFF
        problem, still_on, held = self._off_and_read_back()
        if still_on is False:
            self._may_emit = False
            note = f" (the off command itself failed: {problem})" if problem else ""
            self._transition(EventKind.LASER_OFF, LaserState.OFF, f"{where}: off command sent, read back off{note}")
            ok = True
        elif still_on is None and not self._may_emit:
            message = (
                f"{where}: not read back ({problem}); known off: read back off before, and no on command sent since"
            )
            self._transition(EventKind.LASER_OFF, LaserState.OFF, message)
            ok = True
        else:
            reason = f"not confirmed off: {problem}"
            if still_on:
                reason = "the laser still reports emission after the off command"
                reason += f" (the off command failed: {problem})" if problem else ""
            failure = LaserOffFailed(self._name, f"{where}: {reason}")
            self.failures.append(failure)
            log.critical(failure.alarm)
            self._transition(EventKind.LASER_OFF_FAILED, LaserState.ALARM, str(failure))
            ok = False
        if held is not None:
            raise held
        return ok

    def _off_and_read_back(self) -> tuple[str, bool | None, KeyboardInterrupt | None]:
        """(what failed, the emission read back or None when it could not be, a KeyboardInterrupt held)."""
        held: KeyboardInterrupt | None = None
        for _ in range(SWITCH_OFF_ATTEMPTS):
            problem = ""
            try:
                laser = self.laser
                try:
                    laser.set_emission(False)
                except DeviceDisconnected as gone:  # nothing more can be sent: no read-back possible
                    return _describe(gone), None, held
                except Exception as error:  # still read back: the laser may have switched off all the same
                    problem = _describe(error)
                try:
                    return problem, bool(laser.emission), held
                except Exception as error:
                    return "; ".join(filter(None, [problem, f"read-back {_describe(error)}"])), None, held
            except KeyboardInterrupt as interrupt:  # held: the read-back comes first
                held = held or interrupt
        return "interrupted before the read-back", None, held

    # -- recording --------------------------------------------------------------------------------------
    def _transition(self, kind: EventKind, state: LaserState, message: str) -> None:
        transition = LaserTransition(kind, state, message, time.time())
        with self._lock:
            self._state = state
            subscribers = tuple(self._subscribers)
        if kind is not EventKind.LASER_OFF_FAILED:
            log.info("%s: %s: %s", self._name, kind.value, message)
        for subscriber in subscribers:
            subscriber.add(transition)


def _name(laser: Laser) -> str:
    try:
        return str(laser.identity)
    except Exception:  # an identity that cannot be read must not hide an alarm
        return type(laser).__name__


_LIFECYCLES: weakref.WeakKeyDictionary[Laser, LaserLifecycle] = weakref.WeakKeyDictionary()
_LIFECYCLES_LOCK = threading.Lock()


def lifecycle_of(laser: Laser) -> LaserLifecycle:
    """The one lifecycle of `laser` (made on first use): every caller shares its state, stops and alarms."""
    with _LIFECYCLES_LOCK:
        lifecycle = _LIFECYCLES.get(laser)
        if lifecycle is None:
            lifecycle = _LIFECYCLES[laser] = LaserLifecycle(laser)
        return lifecycle
