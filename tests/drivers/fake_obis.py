"""A simulated Coherent OBIS on a pty: `\\r\\n` lines; with handshake on, `OK` after every reply, `ERR-nnn` errors."""

from __future__ import annotations

from fake_pty import PtyDevice

UNRECOGNIZED = "ERR-100"
REFUSED = "ERR-220"  # "Invalid parameter" in the OBIS manual's error table (ERR-350 is a queue overflow)


class FakeObis(PtyDevice):
    """The laser's state and its answers. Handshake starts off: the driver must switch it on."""

    IDN = "Coherent, Inc - OBIS 532nm 50mW LS - V1.2.3 - Jan 07 2021"

    def __init__(self) -> None:
        super().__init__(eol_in=b"\r\n")
        self.handshake = False
        self.low_w, self.high_w = 0.0005, 0.055
        self.emission = True  # left on by someone else: the driver turns it off at connect
        self.setpoint_w = 0.01
        self.modulation = "digital"
        self.fault = 0
        self.interlock_closed = True
        self.status_bits = 0x10
        self.stuck_on = False  # acknowledges the off command and keeps emitting

    def inject_fault(self, bits: int) -> None:
        self.fault = bits
        self.emission = False

    def answer(self, command: str) -> list[str]:
        if command == "SYST:COMM:HAND ON":
            self.handshake = True
            return ["OK"]
        value = self._query(command) if command.endswith("?") else self._setting(command)
        if value is None or value.startswith("ERR"):
            return [value or UNRECOGNIZED]
        if not self.handshake:
            return [] if value == "OK" else [value]
        return [value] if value == "OK" else [value, "OK"]

    def _query(self, command: str) -> str | None:
        on_off = {True: "ON", False: "OFF"}
        answers = {
            "*IDN?": lambda: self.IDN,
            "SYST:INF:SNUM?": lambda: "OB532-0042",
            "SOUR:POW:LIM:LOW?": lambda: f"{self.low_w:.5f}",
            "SOUR:POW:LIM:HIGH?": lambda: f"{self.high_w:.5f}",
            "SOUR:POW:LEV:IMM:AMPL?": lambda: f"{self.setpoint_w:.5f}",
            "SOUR:POW:LEV?": lambda: f"{self.setpoint_w * 0.99 if self.emission else 0.0:.5E}",
            "SOUR:AM:STAT?": lambda: on_off[self.emission],
            "SYST:STAT?": lambda: f"{self.status_bits:08X}",
            "SYST:FAUL?": lambda: f"{self.fault:08X}",
            "SYST:LOCK?": lambda: on_off[self.interlock_closed],
            "SOUR:TEMP:DIOD?": lambda: "25.02C",
            "SOUR:TEMP:BAS?": lambda: "23.40C",
            "SYST:DIOD:HOUR?": lambda: "321.50",
        }
        answer = answers.get(command)
        return answer() if answer is not None else None

    def _setting(self, command: str) -> str | None:
        name, _, argument = command.partition(" ")
        if command == "SOUR:AM:STAT ON":
            self.emission = self.fault == 0 and self.interlock_closed
        elif command == "SOUR:AM:STAT OFF":
            self.emission = self.emission and self.stuck_on
        elif command == "SOUR:AM:INT CWP":
            self.modulation = "cw"
        elif command == "SOUR:AM:EXT DIG":
            self.modulation = "digital"
        elif name == "SOUR:POW:LEV:IMM:AMPL":
            try:
                power_w = float(argument)
            except ValueError:
                return REFUSED
            if not self.low_w <= power_w <= self.high_w:
                return REFUSED
            self.setpoint_w = power_w
        else:
            return None
        return "OK"
