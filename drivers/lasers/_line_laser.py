"""What the line-protocol lasers share: one transaction at a time, and emission off after any failure."""

from __future__ import annotations

import logging
import threading
from abc import abstractmethod
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

from speckle_lab.drivers.device import DeviceIdentity
from speckle_lab.drivers.errors import DeviceDisconnected, DeviceError, EmissionVetoed, LaserFault, LaserOffFailed
from speckle_lab.drivers.laser import Laser
from speckle_lab.drivers.lasers.replies import parse_decimal
from speckle_lab.drivers.transport import LineTransport

logger = logging.getLogger(__name__)

#: How long the emergency emission-off waits for its acknowledgement: the failure is reported either way.
EMERGENCY_REPLY_S = 0.2


class LineLaser(Laser):
    """A laser driven by command lines over a `LineTransport`.

    Every public operation runs inside `_operation`: one lock (the GUI polls while the scheduler sets power)
    and, when anything inside fails, the off command is sent before the error propagates, so a laser
    never keeps emitting behind a failed driver. `close` turns emission off and releases the port. Switching
    emission is one such operation (`_emission_exchange`): the readiness queries, the veto and the on command.
    """

    #: The command that stops emission (the one that starts it: `Laser.ON_COMMAND`).
    OFF_COMMAND: str = ""
    #: Said after "emission did not start" when the on command's read-back says off: the query, what to check.
    NOT_EMITTING: str = ""

    def __init__(
        self, transport: LineTransport, identity: DeviceIdentity, min_power_w: float, max_power_w: float
    ) -> None:
        super().__init__(min_power_w, max_power_w, identity)
        self._transport = transport
        self._lock = threading.RLock()
        self._depth = 0
        self._closed = False
        self._disconnected = False
        transport.device = str(identity)

    @property
    def port_name(self) -> str:
        return self._transport.port_name

    @contextmanager
    def _operation(self) -> Iterator[None]:
        """One transaction with the device; on any failure, emission off first, then the error."""
        with self._lock:
            self._depth += 1
            try:
                yield
            except BaseException as error:
                if isinstance(error, EmissionVetoed):  # refused before anything was sent: nothing to undo
                    raise
                if self._depth == 1 and not self._transport.closed:
                    self._disconnected |= not emergency_off(self._transport, self.OFF_COMMAND, error)
                    logger.warning("%s failed; emission off attempted: %s", self._transport.label, error)
                raise
            finally:
                self._depth -= 1

    def _emission_exchange(self) -> AbstractContextManager[object]:
        return self._operation()

    def _check_ready_to_emit(self) -> None:
        """Emission only when the laser reports no fault and a closed interlock."""
        fault = self._fault()
        if fault is not None:
            raise LaserFault(self._transport.label, self.ON_COMMAND, f"the laser reports a fault: {fault}")
        if not self._interlock_closed():
            raise LaserFault(self._transport.label, self.ON_COMMAND, "the interlock is open")

    def _switch_emission(self, on: bool) -> None:
        """The on command, then read back (it must really emit); or the off command."""
        if not on:
            self._command(self.OFF_COMMAND)
            return
        self._command(self.ON_COMMAND)
        if not self._emitting():
            raise LaserFault(self._transport.label, self.ON_COMMAND, f"emission did not start {self.NOT_EMITTING}")

    @abstractmethod
    def _fault(self) -> str | None:
        """The fault the laser reports (one line naming the query), or None."""

    @abstractmethod
    def _interlock_closed(self) -> bool: ...

    @abstractmethod
    def _emitting(self) -> bool:
        """Whether the laser reads back emitting."""

    @abstractmethod
    def _command(self, command: str) -> None:
        """Send a setting and check the device acknowledged it."""

    @abstractmethod
    def _query(self, command: str) -> str:
        """Send a query and return the device's value."""

    def _number(self, command: str, unit: str = "") -> float:
        """A query answered by a decimal number (and `unit`, where the vendor appends one); anything else, line
        noise with a digit in it included, is a `DeviceError` naming the reply."""
        return parse_decimal(self._transport.label, command, self._query(command), unit)

    def close(self) -> None:
        """Emission off, then release the port; raises only when emission could not be confirmed off.

        A second close, or a close after the port vanished (already reported), does nothing more.
        """
        with self._lock:
            if self._closed:
                return
            self._closed = True
            try:
                if not self._disconnected:
                    self._command(self.OFF_COMMAND)
            finally:
                self._transport.close()


def emergency_off(transport: LineTransport, off_command: str, error: BaseException) -> bool:
    """Best effort after a failure: send the off command, wait briefly for the reply, never raise
    (whatever the port throws), so the caller always goes on to release the port.

    The outcome is attached to `error` as a note, so the operator reads whether emission is known off.
    Returns False when the port is gone (nothing more can be sent).
    """
    gone = f"emission could not be turned off: {transport.port_name} is gone; check the laser"
    if isinstance(error, DeviceDisconnected):
        error.add_note(gone)
        return False
    try:
        transport.flush(off_command)
        transport.send(off_command)
        transport.read_line(off_command, min(EMERGENCY_REPLY_S, transport.timeout_s))
    except DeviceDisconnected:
        error.add_note(gone)
        return False
    except Exception as off_error:  # best effort against anything: the caller must still get to close the port
        error.add_note(f"emission off ({off_command!r}) sent after the failure, not acknowledged: {off_error}")
    else:
        error.add_note(f"emission off ({off_command!r}) sent after the failure")
    return True


def switch_off_at_connect(
    label: str, switch_off: Callable[[], None], read_emission: Callable[[], bool], was_emitting: bool | None
) -> None:
    """The switch-off a line laser makes when it is opened, read back: the laser is off only when it says so.

    `was_emitting` is what the laser reported just before (None: not asked). The read-back is made even when the
    off command's reply was wrong (the laser may have switched off all the same), not when the port is gone.
    A laser that still reports emission, or that was (or may have been) emitting and cannot be confirmed off,
    raises `LaserOffFailed`: the alarm, before anything else is done. One that had reported off and then
    failed raises the device error itself: its state is known (off) and the port or the line is the problem.
    """
    error: DeviceError | None = None
    try:
        switch_off()
    except DeviceError as failed:
        error = failed
    still_on: bool | None = None
    if not isinstance(error, DeviceDisconnected):
        try:
            still_on = read_emission()
        except DeviceError as failed:
            error = error or failed
    if still_on is False:
        return
    if still_on:
        raise LaserOffFailed(label, "at connect: the laser still reports emission after the off command")
    assert error is not None
    if was_emitting is False:
        raise error
    before = "it was emitting" if was_emitting else "its emission state was not known"
    raise LaserOffFailed(label, f"at connect ({before}): the switch-off was not confirmed: {error.reason}") from error
