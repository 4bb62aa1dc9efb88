"""Protocol tests in the style of PyMeasure's `expected_protocol`: a scripted exchange, checked line by line.

The stateful doubles (`fake_cobolt.py`, `fake_obis.py`, pyvisa-sim) answer whatever is asked; these check *what*
is asked, in which order, byte for byte: every command the driver writes must be the next one of the script,
and gets the script's reply; at the end nothing of the script may be left unsent. Replies are the vendors'
(manuals, and the vendors' own libraries where those quote them). A command that is not the next one raises
`ProtocolMismatch`, a BaseException, so no `except Exception` of the transport or the driver's emergency
switch-off turns it into an ordinary device error.

`ProtocolPort` stands for a pyserial port, `ProtocolResource` for a pyvisa message-based resource; the
drivers accept either as an open port.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator, Sequence

#: One exchange: the command line as sent (without terminator) and the reply lines (None: no reply).
Exchange = tuple[str, str | Sequence[str] | None]


class ProtocolMismatch(BaseException):
    """The driver wrote something other than the next command of the script."""


class _Script:
    def __init__(self, exchanges: Sequence[Exchange]) -> None:
        self.pending = list(exchanges)
        self.sent: list[str] = []
        self.mismatch: ProtocolMismatch | None = None  # the first one: what follows it (a switch-off) is noise

    def next_reply(self, command: str) -> list[str]:
        self.sent.append(command)
        if self.mismatch is None and not self.pending:
            self.mismatch = ProtocolMismatch(f"sent {command!r} after the end of the script (sent: {self.sent[:-1]})")
        elif self.mismatch is None and self.pending[0][0] != command:
            expected = self.pending[0][0]
            self.mismatch = ProtocolMismatch(f"sent {command!r}, expected {expected!r} (exchange {len(self.sent)})")
        if self.mismatch is not None:
            raise self.mismatch
        _, reply = self.pending.pop(0)
        if reply is None:
            return []
        return [reply] if isinstance(reply, str) else list(reply)

    def check_done(self) -> None:
        assert self.pending == [], f"never sent: {[command for command, _ in self.pending]}"


class ProtocolPort:
    """A pyserial-compatible port playing `exchanges`: commands end with `eol_out`, reply lines with `\\r\\n`."""

    def __init__(self, exchanges: Sequence[Exchange], eol_out: bytes) -> None:
        self.script = _Script(exchanges)
        self.timeout: float | None = 1.0
        self._eol_out = eol_out
        self._written = b""
        self._replies = b""

    def write(self, data: bytes) -> int:
        self._written += bytes(data)
        while self._eol_out in self._written:
            line, self._written = self._written.split(self._eol_out, 1)
            for reply in self.script.next_reply(line.decode("ascii")):
                self._replies += reply.encode("ascii") + b"\r\n"
        return len(data)

    @property
    def in_waiting(self) -> int:
        return len(self._replies)

    def read(self, size: int = 1) -> bytes:
        if not self._replies:  # a real port blocks up to its timeout; a short nap keeps the transport's loop cheap
            time.sleep(min(self.timeout or 0.0, 0.002))
            return b""
        data, self._replies = self._replies[:size], self._replies[size:]
        return data

    def reset_input_buffer(self) -> None:
        self._replies = b""

    def close(self) -> None:
        pass


class _VisaTimeout(Exception):
    """Stands for pyvisa's VisaIOError(VI_ERROR_TMO) when pyvisa is absent."""


class ProtocolResource:
    """A pyvisa message-based resource playing `exchanges` (terminations are the resource's business)."""

    resource_name = "ASRL1::INSTR"

    def __init__(self, exchanges: Sequence[Exchange]) -> None:
        self.script = _Script(exchanges)
        self.timeout = 1000
        self.read_termination = self.write_termination = "\n"
        self._lines: list[str] = []

    def write(self, message: str) -> int:
        self._lines += self.script.next_reply(message)
        return len(message)

    def read(self) -> str:
        if self._lines:
            return self._lines.pop(0)
        try:
            from pyvisa import constants, errors
        except ImportError:  # pragma: no cover - pyvisa is a dev dependency
            raise _VisaTimeout("timeout") from None
        raise errors.VisaIOError(constants.StatusCode.error_timeout)

    def flush(self, mask: object) -> None:
        self._lines.clear()

    def close(self) -> None:
        pass


@contextlib.contextmanager
def expected_protocol(exchanges: Sequence[Exchange], *, eol_out: bytes = b"\r\n") -> Iterator[ProtocolPort]:
    """A `ProtocolPort` for the driver; on leaving, every exchange must have happened."""
    port = ProtocolPort(exchanges, eol_out)
    yield port
    port.script.check_done()


@contextlib.contextmanager
def expected_visa_protocol(exchanges: Sequence[Exchange]) -> Iterator[ProtocolResource]:
    """A `ProtocolResource` for the driver; on leaving, every exchange must have happened."""
    resource = ProtocolResource(exchanges)
    yield resource
    resource.script.check_done()
