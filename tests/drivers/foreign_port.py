"""A serial port as other projects write their doubles: a `serial.SerialBase` subclass with only
`read`/`write` (no `in_waiting`, no `reset_input_buffer`), answering in-process from a device double.

It behaves like an `io` object once closed (`ValueError: I/O operation on closed file`), and `fail_after`
makes it raise a foreign exception (not `OSError`) from the n-th write on, as a buggy USB bridge might.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import serial


class ForeignPort(serial.SerialBase):
    """Command lines ending in `eol_in` go to `answer`; its reply lines come back `\\r\\n`-terminated."""

    def __init__(self, answer: Callable[[str], list[str]], eol_in: bytes, *, fail_after: int | None = None) -> None:
        super().__init__(port=None, timeout=1.0)
        self.name = "foreign0"
        self._answer = answer
        self._eol_in = eol_in
        self._pending = b""
        self._replies = bytearray()
        self.fail_after = fail_after
        self.writes = 0
        self.received: list[str] = []
        self.is_open = True  # SerialBase.open is not implemented: this double is born open

    def open(self) -> None:  # pragma: no cover - born open
        self.is_open = True

    def _reconfigure_port(self, force_update: bool = False) -> None:
        """Nothing to reconfigure: the timeout is read by `read` itself."""

    def close(self) -> None:
        self.is_open = False

    def write(self, data: bytes) -> int:
        if not self.is_open:
            raise ValueError("I/O operation on closed file")
        self.writes += 1
        if self.fail_after is not None and self.writes > self.fail_after:
            raise RuntimeError("bridge firmware hiccup")
        self._pending += bytes(data)
        while self._eol_in in self._pending:
            raw, self._pending = self._pending.split(self._eol_in, 1)
            command = raw.decode("ascii").strip()
            self.received.append(command)
            for line in self._answer(command):
                self._replies += line.encode("ascii") + b"\r\n"
        return len(data)

    def read(self, size: int = 1) -> bytes:
        if not self.is_open:
            raise ValueError("I/O operation on closed file")
        if not self._replies:
            time.sleep(self.timeout or 0)  # a blocking read that times out empty, as pyserial's does
            return b""
        out = bytes(self._replies[:size])
        del self._replies[:size]
        return out
