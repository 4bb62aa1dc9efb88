"""Coherent OBIS lasers: SCPI-like lines (`\\r\\n`) with handshake on, over pyvisa or a serial port.

With handshake on, a setting is answered `OK`, a query by its value and then `OK`, and a refusal by
`ERR-nnn`; the driver reads both lines of every query so no `OK` is left behind for the next command.
"""

from __future__ import annotations

import contextlib
from typing import Any, Literal

from speckle_lab.drivers.device import DeviceIdentity
from speckle_lab.drivers.errors import DeviceError, DeviceTimeout
from speckle_lab.drivers.laser import LaserStatus
from speckle_lab.drivers.lasers._line_laser import LineLaser, emergency_off, switch_off_at_connect
from speckle_lab.drivers.lasers.replies import parse_decimal, parse_hex_32
from speckle_lab.drivers.transport import (
    LineTransport,
    SerialLineTransport,
    VisaLineTransport,
    open_serial_port,
    open_visa_resource,
)

#: The error codes whose meaning the driver adds to the message (the OBIS manual's error table); others are
#: reported as the laser sent them.
ERRORS = {
    100: "unrecognized command",
    102: "syntax error",
    109: "parameter missing",
    200: "execution error",
    203: "command protected",
    220: "invalid parameter",
    221: "settings conflict",
    241: "device unavailable",
    310: "system error",
    400: "query unavailable",
}

Modulation = Literal["cw", "digital"]
MODULATION_COMMANDS: dict[str, str] = {"cw": "SOUR:AM:INT CWP", "digital": "SOUR:AM:EXT DIG"}


def _check(transport: LineTransport, command: str, line: str) -> str:
    if line.upper().startswith("ERR"):
        code = line[3:].lstrip("-").strip()
        meaning = ERRORS.get(int(code)) if code.isdigit() else None
        raise DeviceError(transport.label, command, f"the laser replied {line}" + (f" ({meaning})" if meaning else ""))
    return line


def obis_command(transport: LineTransport, command: str) -> None:
    """A setting: the laser answers `OK` (or `ERR-nnn`)."""
    reply = _check(transport, command, transport.query(command))
    if reply != "OK":
        raise DeviceError(transport.label, command, f"expected OK, got {reply!r}")


def obis_query(transport: LineTransport, command: str) -> str:
    """A query: the value line, then `OK`."""
    value = _check(transport, command, transport.query(command))
    ack = _check(transport, command, transport.read_line(command))
    if ack != "OK":
        raise DeviceError(transport.label, command, f"expected OK after the reply {value!r}, got {ack!r}")
    return value


def obis_on(transport: LineTransport, command: str) -> bool:
    """A query answered ON or OFF, exactly: nothing else is read as a state."""
    reply = obis_query(transport, command)
    if reply not in ("ON", "OFF"):
        raise DeviceError(transport.label, command, f"expected ON or OFF, got {reply!r}")
    return reply == "ON"


class ObisLaser(LineLaser):
    """A Coherent OBIS laser.

    `port` is a VISA resource name (contains "::", e.g. "ASRL3::INSTR" or "ASRL/dev/ttyACM0::INSTR",
    opened with `pyvisa.ResourceManager(visa_backend)`: "" for the system VISA, "@py", "file.yaml@sim"),
    any other name is a serial port opened with pyserial, or an open pyvisa resource, or an open
    pyserial-compatible port; objects passed in open stay the caller's to close (a pyvisa resource gets
    `\\r\\n` terminations). The power range is the laser's own `SOUR:POW:LIM:LOW?/HIGH?` narrowed by
    `max_power_w`. Opening switches handshake on, emission off and the modulation to `modulation`.
    """

    ON_COMMAND = "SOUR:AM:STAT ON"
    OFF_COMMAND = "SOUR:AM:STAT OFF"
    NOT_EMITTING = "(SOUR:AM:STAT? = OFF)"

    def __init__(
        self,
        port: str | Any,
        *,
        max_power_w: float | None = None,
        modulation: Modulation = "cw",
        visa_backend: str = "",
        baudrate: int = 115200,
        timeout_s: float = 1.0,
    ) -> None:
        if max_power_w is not None and not max_power_w > 0:
            raise ValueError(f"OBIS laser: max_power_w must be > 0 W, got {max_power_w}")
        if modulation not in MODULATION_COMMANDS:
            raise ValueError(f"OBIS laser: modulation must be one of {sorted(MODULATION_COMMANDS)}, got {modulation!r}")
        transport = _open(port, visa_backend, baudrate, timeout_s)
        try:
            identity, low_w, high_w = _connect(transport, modulation)
            limit_w = high_w if max_power_w is None else min(high_w, max_power_w)
            if limit_w < low_w:
                raise ValueError(
                    f"{transport.label}: max_power_w = {max_power_w} W is below the laser's minimum of {low_w} W"
                )
        except BaseException as error:
            try:
                if not transport.closed:
                    emergency_off(transport, self.OFF_COMMAND, error)
            finally:
                transport.close()  # the caller's port gets its timeout back whatever happened
            raise
        super().__init__(transport, identity, low_w, limit_w)
        self.device_power_limits_w = (low_w, high_w)
        self._modulation: Modulation = modulation

    def _command(self, command: str) -> None:
        obis_command(self._transport, command)

    def _query(self, command: str) -> str:
        return obis_query(self._transport, command)

    def _set_power_w(self, power_w: float) -> None:
        with self._operation():
            self._command(f"SOUR:POW:LEV:IMM:AMPL {power_w:.5f}")

    @property
    def power_setpoint_w(self) -> float:
        with self._operation():
            return self._number("SOUR:POW:LEV:IMM:AMPL?")

    @property
    def measured_power_w(self) -> float:
        with self._operation():
            return self._number("SOUR:POW:LEV?")

    @property
    def emission(self) -> bool:
        with self._operation():
            return self._on("SOUR:AM:STAT?")

    def _interlock_closed(self) -> bool:
        return self._on("SYST:LOCK?")

    def _emitting(self) -> bool:
        return self._on("SOUR:AM:STAT?")

    @property
    def modulation(self) -> Modulation:
        return self._modulation

    def set_modulation(self, modulation: Modulation) -> None:
        """CW power control (`cw`) or on/off by the external digital input (`digital`)."""
        if modulation not in MODULATION_COMMANDS:
            raise ValueError(f"{self._transport.label}: modulation must be one of {sorted(MODULATION_COMMANDS)}")
        with self._operation():
            self._command(MODULATION_COMMANDS[modulation])
            self._modulation = modulation

    def status(self) -> LaserStatus:
        with self._operation():
            return LaserStatus(
                emission=self._on("SOUR:AM:STAT?"),
                fault=self._fault(),
                interlock_closed=self._on("SYST:LOCK?"),
                hours=self._number("SYST:DIOD:HOUR?"),
            )

    def system_status(self) -> int:
        """`SYST:STAT?`: the laser's status bit field."""
        with self._operation():
            return parse_hex_32(self._transport.label, "SYST:STAT?", self._query("SYST:STAT?"))

    def temperatures_c(self) -> dict[str, float]:
        """Diode and base plate temperatures, degrees Celsius (the laser appends the unit: "25.02C")."""
        with self._operation():
            return {"diode": self._number("SOUR:TEMP:DIOD?", "C"), "base": self._number("SOUR:TEMP:BAS?", "C")}

    def state(self) -> dict[str, Any]:
        state = super().state()
        state["modulation"] = self._modulation
        state["temperatures_c"] = self.temperatures_c()
        return state

    def _on(self, command: str) -> bool:
        return obis_on(self._transport, command)

    def _fault(self) -> str | None:
        code = parse_hex_32(self._transport.label, "SYST:FAUL?", self._query("SYST:FAUL?"))
        return None if code == 0 else f"fault bits 0x{code:08X} (SYST:FAUL?)"


def _open(port: str | Any, visa_backend: str, baudrate: int, timeout_s: float) -> LineTransport:
    label = "OBIS laser"
    if isinstance(port, str) and "::" in port:
        resource = open_visa_resource(port, label, visa_backend, baudrate, timeout_s)
        return VisaLineTransport(resource, label, timeout_s=timeout_s, owns_resource=True)
    if isinstance(port, str):
        raw = open_serial_port(port, label, baudrate, timeout_s)
        return SerialLineTransport(raw, label, timeout_s=timeout_s, eol_out=b"\r\n", owns_port=True)
    if hasattr(port, "read_termination"):  # an open pyvisa resource
        port.read_termination = "\r\n"
        port.write_termination = "\r\n"
        return VisaLineTransport(port, label, timeout_s=timeout_s)
    return SerialLineTransport(port, label, timeout_s=timeout_s, eol_out=b"\r\n")


def _connect(transport: LineTransport, modulation: Modulation) -> tuple[DeviceIdentity, float, float]:
    """Handshake on, who the laser is, its limits; then emission off (read back: a laser that was emitting and
    cannot be confirmed off is `LaserOffFailed`, the alarm) and the modulation mode."""
    command = "SYST:COMM:HAND ON"
    transport.flush(command)
    transport.send(command)
    with contextlib.suppress(DeviceTimeout):  # a laser whose handshake was off may not acknowledge it
        _check(transport, command, transport.read_line(command))
    identity = _identity(transport, obis_query(transport, "*IDN?"))
    transport.device = str(identity)
    low_w = parse_decimal(transport.label, "SOUR:POW:LIM:LOW?", obis_query(transport, "SOUR:POW:LIM:LOW?"))
    high_w = parse_decimal(transport.label, "SOUR:POW:LIM:HIGH?", obis_query(transport, "SOUR:POW:LIM:HIGH?"))
    if not 0 <= low_w <= high_w:
        raise DeviceError(transport.label, "SOUR:POW:LIM:HIGH?", f"implausible power limits [{low_w}, {high_w}] W")

    def emitting() -> bool:
        return obis_on(transport, "SOUR:AM:STAT?")

    def switch_off() -> None:
        obis_command(transport, ObisLaser.OFF_COMMAND)

    switch_off_at_connect(transport.label, switch_off, emitting, emitting())
    obis_command(transport, MODULATION_COMMANDS[modulation])
    return identity, low_w, high_w


def _identity(transport: LineTransport, idn: str) -> DeviceIdentity:
    """`*IDN?` reads "Coherent, Inc - OBIS 532nm 50mW LS - V1.0.1 - Oct 14 2014"; the serial is asked apart."""
    parts = [part.strip() for part in idn.split(" - ")] if " - " in idn else [p.strip() for p in idn.split(",")]
    vendor = parts[0] if parts and parts[0] else "Coherent"
    model = parts[1] if len(parts) > 1 else idn
    firmware = parts[2] if len(parts) > 2 else ""
    try:
        serial = obis_query(transport, "SYST:INF:SNUM?")
    except DeviceError as error:
        if type(error) is not DeviceError:
            raise  # a timeout or a vanished port is no "not supported"
        serial = "unknown"
    return DeviceIdentity("laser", vendor, model, serial, firmware, "obis")
