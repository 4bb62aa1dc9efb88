"""Cobolt 04/06-series lasers over a serial line: `cmd\\r` out, one `\\r\\n`-terminated reply line back."""

from __future__ import annotations

from typing import Any

from speckle_lab.drivers.device import DeviceIdentity
from speckle_lab.drivers.errors import DeviceError
from speckle_lab.drivers.laser import LaserStatus
from speckle_lab.drivers.lasers._line_laser import LineLaser, emergency_off, switch_off_at_connect
from speckle_lab.drivers.lasers.replies import parse_decimal, parse_integer
from speckle_lab.drivers.transport import LineTransport, SerialLineTransport, SerialPort, open_serial_port

#: `f?` codes; 0 is no fault.
FAULTS = {1: "temperature error", 3: "interlock error", 4: "constant power time out"}
#: `gam?` (get operating mode) codes: Cobolt's own pycobolt (`CoboltLaser.get_mode`) and the 06-01 manual.
OPERATING_MODES = {0: "constant current", 1: "constant power", 2: "modulation"}
CONSTANT_POWER = 1


def cobolt_reply(transport: LineTransport, command: str) -> str:
    """Send `command`, return its reply line; "Syntax error: ..." and "Error: ..." replies raise."""
    reply = transport.query(command)
    if reply.lower().startswith(("syntax error", "error")):
        raise DeviceError(transport.label, command, f"the laser replied {reply!r}")
    return reply


def cobolt_flag(transport: LineTransport, command: str) -> bool:
    """A state query answered "0" or "1" (`l?`: emission off/on; `ilk?`: interlock closed/open). Nothing else is
    taken: line noise with a digit in it must never read as "off"."""
    reply = cobolt_reply(transport, command)
    if reply not in ("0", "1"):
        raise DeviceError(transport.label, command, f"expected 0 or 1, got {reply!r}")
    return reply == "1"


def cobolt_command(transport: LineTransport, command: str) -> None:
    """A setting: the laser acknowledges with "OK"."""
    reply = cobolt_reply(transport, command)
    if reply != "OK":
        raise DeviceError(transport.label, command, f"expected OK, got {reply!r}")


class CoboltLaser(LineLaser):
    """A Cobolt 04/06-series laser (115200 8N1).

    `port` is a port name (a device path, COMn, or a pyserial URL) or an open pyserial-compatible port,
    which stays the caller's to close. The laser does not report its rated power on every model:
    `device_max_power_w` gives it (else `gmlp?`, in mW, is used); a `device_max_power_w` above what the head
    reports is refused at open (ValueError), never found later as a refused setpoint; `max_power_w` is the
    configured safety limit, and the allowed setpoints are [0, min of the two]. Opening disables autostart
    (`@cobas 0`, so emission is under remote control), reads whether the laser was emitting
    (`emission_at_open`: a laser left on by a killed program or by hand, which `speckle-lab devices` reports),
    turns emission off and enters constant-power mode (`cp`, read back with `gam?`): a 06-series laser left in
    constant-current or modulation mode (by hand, CoboltMonitor or another program) does not regulate to the
    `p` setpoint, so the power this driver sets would not be the power on the sample. A head that answers
    `gam?` with anything but constant power is refused at open; one without `gam?` (older firmware) is
    accepted on `cp`'s OK, and `operating_mode` says it was not read back.
    """

    ON_COMMAND = "l1"
    OFF_COMMAND = "l0"
    NOT_EMITTING = "(l? = 0): check the key switch"

    def __init__(
        self,
        port: str | SerialPort,
        *,
        device_max_power_w: float | None = None,
        max_power_w: float | None = None,
        baudrate: int = 115200,
        timeout_s: float = 1.0,
    ) -> None:
        for name, value in (("device_max_power_w", device_max_power_w), ("max_power_w", max_power_w)):
            if value is not None and not value > 0:
                raise ValueError(f"Cobolt laser: {name} must be > 0 W, got {value}")
        label = "Cobolt laser"
        owns = isinstance(port, str)
        raw = open_serial_port(port, label, baudrate, timeout_s) if isinstance(port, str) else port
        transport = SerialLineTransport(raw, label, timeout_s=timeout_s, eol_out=b"\r", owns_port=owns)
        try:
            identity, rated_w, self.emission_at_open, self.operating_mode = _connect(transport, device_max_power_w)
        except BaseException as error:
            try:
                if not transport.closed:
                    emergency_off(transport, self.OFF_COMMAND, error)
            finally:
                transport.close()  # the caller's port gets its timeout back whatever happened
            raise
        limit_w = rated_w if max_power_w is None else min(rated_w, max_power_w)
        super().__init__(transport, identity, 0.0, limit_w)
        self.device_max_power_w = rated_w

    def _command(self, command: str) -> None:
        cobolt_command(self._transport, command)

    def _query(self, command: str) -> str:
        return cobolt_reply(self._transport, command)

    def _set_power_w(self, power_w: float) -> None:
        with self._operation():
            self._command(f"p {power_w:.5f}")

    @property
    def power_setpoint_w(self) -> float:
        with self._operation():
            return self._number("p?")

    @property
    def measured_power_w(self) -> float:
        with self._operation():
            return self._number("pa?")

    @property
    def emission(self) -> bool:
        with self._operation():
            return cobolt_flag(self._transport, "l?")

    def _emitting(self) -> bool:
        return cobolt_flag(self._transport, "l?")

    def status(self) -> LaserStatus:
        with self._operation():
            return LaserStatus(
                emission=cobolt_flag(self._transport, "l?"),
                fault=self._fault(),
                interlock_closed=self._interlock_closed(),
                hours=self._number("hrs?"),
            )

    def state(self) -> dict[str, Any]:
        return {**super().state(), "operating_mode": self.operating_mode}

    def clear_fault(self) -> None:
        """`cf`: clear a latched fault (the cause must be gone; emission stays off)."""
        with self._operation():
            self._command("cf")

    def _fault(self) -> str | None:
        code = parse_integer(self._transport.label, "f?", self._query("f?"))
        return None if code == 0 else f"{FAULTS.get(code, 'fault')} (f? = {code})"

    def _interlock_closed(self) -> bool:
        return not cobolt_flag(self._transport, "ilk?")


def _constant_power_mode(transport: LineTransport) -> str:
    """`cp`, then `gam?` must read constant power; returns the mode as read back (or that it could not be)."""
    cobolt_command(transport, "cp")
    try:
        reply = cobolt_reply(transport, "gam?")
    except DeviceError as error:
        if type(error) is not DeviceError:
            raise  # a timeout or a vanished port is no "not supported"
        return "constant power (cp acknowledged; gam? not supported, not read back)"
    code = parse_integer(transport.label, "gam?", reply)
    if code != CONSTANT_POWER:
        mode = OPERATING_MODES.get(code, f"unknown mode {code}")
        raise DeviceError(
            transport.label, "gam?", f"still in {mode} mode after cp (gam? = {code}): it would not regulate to p"
        )
    return OPERATING_MODES[CONSTANT_POWER]


def _connect(transport: LineTransport, device_max_power_w: float | None) -> tuple[DeviceIdentity, float, bool, str]:
    """Remote control, whether it was emitting, emission off (read back), constant power; then who the laser is
    and its rated power. A laser that was emitting and cannot be confirmed off is `LaserOffFailed` (the alarm).
    Returns the identity, the rated power (W), whether it was emitting and the operating mode read back."""
    cobolt_command(transport, "@cobas 0")

    def emitting() -> bool:
        return cobolt_flag(transport, "l?")

    was_emitting = emitting()
    switch_off_at_connect(transport.label, lambda: cobolt_command(transport, "l0"), emitting, was_emitting)
    mode = _constant_power_mode(transport)
    serial = cobolt_reply(transport, "sn?")
    firmware = cobolt_reply(transport, "gfv?")
    try:
        model = cobolt_reply(transport, "glm?")
    except DeviceError as error:
        if type(error) is not DeviceError:
            raise  # a timeout or a vanished port is no "not supported"
        model = "04/06 series"
    identity = DeviceIdentity("laser", "Cobolt", model, serial, firmware, "cobolt")
    transport.device = str(identity)
    rated_mw: float | None = None
    try:
        rated_reply = cobolt_reply(transport, "gmlp?")
    except DeviceError as error:
        if type(error) is not DeviceError:
            raise  # a timeout or a vanished port is no "not supported"
        not_reported = error.reason
    else:  # an answer that is not a number (line noise) is an error, never "not reported"
        rated_mw, not_reported = parse_decimal(transport.label, "gmlp?", rated_reply), ""
    if rated_mw is not None and not rated_mw > 0:
        rated_mw, not_reported = None, f"it reports {rated_mw} mW"
    if device_max_power_w is None:
        if rated_mw is None:
            raise ValueError(
                f"{transport.label} does not report its rated power (gmlp?: {not_reported}); give device_max_power_w"
            )
        return identity, rated_mw / 1000.0, was_emitting, mode
    if rated_mw is not None and device_max_power_w > rated_mw / 1000.0 * (1 + 1e-9):
        raise ValueError(
            f"{transport.label}: device_max_power_w = {device_max_power_w} W is above the head's own maximum of "
            f"{rated_mw / 1000.0:g} W (gmlp? = {rated_mw:g} mW); give at most that"
        )
    return identity, float(device_max_power_w), was_emitting, mode
