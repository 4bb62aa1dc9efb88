"""A simulated Cobolt 04/06-series laser on a pty: `cmd\\r` in, one `\\r\\n` line out, as the real one.

Besides the laser's faults it rehearses what a broken laser or link does to the software: `stuck_on` (the
laser acknowledges `l0` with OK and keeps emitting), `garbage` (every answer is line noise, digits included,
as a wrong baud rate or a failing cable gives), and `vanish_now` / `disappear` (the port is gone).
"""

from __future__ import annotations

from fake_pty import PtyDevice

ILLEGAL = "Syntax error: illegal command"
#: Line noise: printable, with a digit, so a reader that takes "the first number in the reply" is fooled.
NOISE = "~#3$%&k"


class FakeCobolt(PtyDevice):
    """The laser's state and its answers; `inject_fault` and `interlock_open` rehearse the safety paths."""

    def __init__(self, rated_mw: float = 100.0, model: str | None = "06-01 532nm", reports_rated: bool = True) -> None:
        super().__init__(eol_in=b"\r")
        self.rated_mw = rated_mw
        self.model = model  # None: `glm?` is an illegal command, as on some models
        self.reports_rated = reports_rated  # False: `gmlp?` is an illegal command
        self.emission = True  # a laser left on by someone else: the driver must turn it off at connect
        self.setpoint_w = 0.01
        self.fault = 0
        self.interlock_open = False
        self.key_switch_on = True
        self.autostart = True
        self.hours = 1234.5
        self.stuck_on = False  # acknowledges l0 and keeps emitting
        self.garbage = False  # answers every command with line noise

    def inject_fault(self, code: int) -> None:
        self.fault = code
        self.emission = False

    def answer(self, command: str) -> list[str]:
        if self.garbage:
            return [NOISE]
        queries = {
            "l?": lambda: str(int(self.emission)),
            "p?": lambda: f"{self.setpoint_w:.4f}",
            "pa?": lambda: f"{self.setpoint_w * 0.98 if self.emission else 0.0:.4f}",
            "f?": lambda: str(self.fault),
            "ilk?": lambda: str(int(self.interlock_open)),
            "hrs?": lambda: f"{self.hours:.2f}",
            "sn?": lambda: "20417",
            "gfv?": lambda: "9.001",
            "@cobas?": lambda: str(int(self.autostart)),
        }
        if command in queries:
            return [queries[command]()]
        if command == "glm?":
            return [self.model if self.model is not None else ILLEGAL]
        if command == "gmlp?":
            return [f"{self.rated_mw:.1f}" if self.reports_rated else ILLEGAL]
        return [self._setting(command)]

    def _setting(self, command: str) -> str:
        name, _, argument = command.partition(" ")
        if command == "l1":
            # acknowledged either way; the laser only starts when nothing prevents it
            self.emission = not self.autostart and self.fault == 0 and not self.interlock_open and self.key_switch_on
        elif command == "l0":
            self.emission = self.emission and self.stuck_on
        elif command == "cf":
            self.fault = 0
        elif name == "@cobas" and argument in ("0", "1"):
            self.autostart = argument == "1"
        elif name == "p" and argument:
            try:
                power_w = float(argument)
            except ValueError:
                return ILLEGAL
            if not 0 <= power_w <= self.rated_mw / 1000:
                return "Error: value out of range"
            self.setpoint_w = power_w
        else:
            return ILLEGAL
        return "OK"
