"""A simulated Cobolt 04/06-series laser on a pty: `cmd\\r` in, one `\\r\\n` line out, as the real one.

Commands and replies as Cobolt's own pycobolt sends and parses them (and the 06-01 series manual lists them):
`l1`/`l0`/`l?`, `p <W>`/`p?`/`pa?`, `cp`/`ci`/`em` and `gam?` (0 constant current, 1 constant power,
2 modulation), `f?`, `cf`, `ilk?`, `hrs?`, `sn?`, `gfv?`, `glm?`, `gmlp?`, `@cobas`. The output follows the
operating mode: only in constant power does it regulate to `p`; in constant current it is what the drive current
gives, in modulation what the (here unconnected) modulation input asks for.

Besides the laser's faults the double rehearses what a broken laser or link does to the software: `stuck_on` (the
laser acknowledges `l0` with OK and keeps emitting), `garbage` (every answer is line noise, digits included,
as a wrong baud rate or a failing cable gives), and `vanish_now` / `disappear` (the port is gone).
"""

from __future__ import annotations

from fake_pty import PtyDevice

ILLEGAL = "Syntax error: illegal command"
#: Line noise: printable, with a digit, so a reader that takes "the first number in the reply" is fooled.
NOISE = "~#3$%&k"
CONSTANT_CURRENT, CONSTANT_POWER, MODULATION = 0, 1, 2


class FakeCobolt(PtyDevice):
    """The laser's state and its answers; `inject_fault` and `interlock_open` rehearse the safety paths."""

    def __init__(
        self,
        rated_mw: float = 100.0,
        model: str | None = "06-01 532nm",
        reports_rated: bool = True,
        mode: int = CONSTANT_CURRENT,
    ) -> None:
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
        self.mode = mode  # left in constant current by someone else: the driver must send cp
        self.reports_mode = True  # False: `gam?` is an illegal command (older firmware)
        self.sticky_mode = False  # True: `cp` is acknowledged but the mode does not change (a faulty head)
        self.current_mode_power_w = 0.042  # what the drive current gives in constant current, whatever p says

    def inject_fault(self, code: int) -> None:
        self.fault = code
        self.emission = False

    def output_w(self) -> float:
        """The light out: regulated to the setpoint (within 2 %) only in constant-power mode."""
        if not self.emission:
            return 0.0
        return {CONSTANT_POWER: self.setpoint_w * 0.98, CONSTANT_CURRENT: self.current_mode_power_w}.get(self.mode, 0.0)

    def answer(self, command: str) -> list[str]:
        if self.garbage:
            return [NOISE]
        queries = {
            "l?": lambda: str(int(self.emission)),
            "p?": lambda: f"{self.setpoint_w:.4f}",
            "pa?": lambda: f"{self.output_w():.4f}",
            "f?": lambda: str(self.fault),
            "ilk?": lambda: str(int(self.interlock_open)),
            "hrs?": lambda: f"{self.hours:.2f}",
            "sn?": lambda: "20417",
            "gfv?": lambda: "9.001",
            "@cobas?": lambda: str(int(self.autostart)),
        }
        if command in queries:
            return [queries[command]()]
        if command == "gam?":
            return [str(self.mode) if self.reports_mode else ILLEGAL]
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
        elif command in ("cp", "ci", "em"):
            if not self.sticky_mode:
                self.mode = {"ci": CONSTANT_CURRENT, "cp": CONSTANT_POWER, "em": MODULATION}[command]
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
