"""A device double behind a pseudo-terminal: the driver opens its tty name exactly as it would a real port.

A thread reads the master side, splits command lines and writes the answers of `answer` (a subclass
holds the device's state). `quirk` scripts what real serial links do: replies in pieces, late replies,
error replies, unsolicited extra lines; `disappear` closes the master side as if the cable were pulled.
"""

from __future__ import annotations

import os
import select
import threading
import time
import tty
from dataclasses import dataclass
from typing import Self


@dataclass
class Quirk:
    reply: list[str] | None = None  # replaces the device's answer (the device state is then untouched)
    delay_s: float = 0.0  # answer this late
    extra_lines: tuple[str, ...] = ()  # unsolicited lines after the answer (stale for the next command)
    silent: bool = False  # no answer at all
    times: int = 1  # how many commands it applies to


class PtyDevice:
    """Base of the pty doubles: subclasses implement `answer(command) -> reply lines`."""

    def __init__(self, eol_in: bytes, eol_out: bytes = b"\r\n") -> None:
        self._eol_in = eol_in
        self._eol_out = eol_out
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)  # no echo, no line editing: the far end sees bytes as sent
        self.port_name = os.ttyname(self._slave)
        self.received: list[str] = []  # every command line, in order
        self.chunk_size = 0  # > 0: write each answer in pieces of this many bytes ...
        self.chunk_delay_s = 0.0  # ... this far apart
        self._quirks: dict[str, Quirk] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._vanish = threading.Event()
        self._gone = threading.Event()
        self._busy = False
        self._thread = threading.Thread(target=self._run, name=f"pty device {self.port_name}", daemon=True)

    def answer(self, command: str) -> list[str]:
        raise NotImplementedError

    def start(self) -> Self:
        self._thread.start()
        return self

    def quirk(self, command: str, **kwargs: object) -> None:
        """Script the next answer(s) to `command` (see `Quirk`)."""
        with self._lock:
            self._quirks[command] = Quirk(**kwargs)  # type: ignore[arg-type]

    def disappear(self, timeout_s: float = 2.0) -> None:
        """Close the master side, as a pulled USB cable does; the tty name stays but I/O fails."""
        self._vanish.set()
        if not self._gone.wait(timeout_s):
            raise RuntimeError("the pty device thread did not close its side")

    def wait_idle(self, timeout_s: float = 2.0) -> None:
        """Until every command sent so far is answered (late answers included)."""
        deadline = time.monotonic() + timeout_s
        quiet = 0
        while time.monotonic() < deadline:
            pending = not self._gone.is_set() and bool(select.select([self._master], [], [], 0)[0])
            quiet = 0 if self._busy or pending else quiet + 1
            if quiet >= 3:
                return
            time.sleep(0.01)
        raise RuntimeError("the pty device stayed busy")

    def close(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(2.0)
        if not self._gone.is_set():
            os.close(self._master)
            self._gone.set()
        os.close(self._slave)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _run(self) -> None:
        buffer = b""
        while not self._stop.is_set():
            if self._vanish.is_set():
                os.close(self._master)  # closed by this thread only: no select on a reused descriptor
                self._gone.set()
                return
            ready = select.select([self._master], [], [], 0.01)[0]
            if not ready:
                continue
            self._busy = True
            try:
                data = os.read(self._master, 4096)
            except OSError:
                return
            buffer += data
            while self._eol_in in buffer:
                raw, buffer = buffer.split(self._eol_in, 1)
                self._handle(raw.decode("ascii", errors="replace").strip())
            self._busy = False

    def _handle(self, command: str) -> None:
        self.received.append(command)
        with self._lock:
            quirk = self._quirks.get(command)
            if quirk is not None:
                quirk.times -= 1
                if quirk.times <= 0:
                    del self._quirks[command]
        if quirk is not None and quirk.silent:
            return
        lines = quirk.reply if quirk is not None and quirk.reply is not None else self.answer(command)
        if quirk is not None and quirk.delay_s and self._stop.wait(quirk.delay_s):
            return
        extra = list(quirk.extra_lines) if quirk is not None else []
        self._write(b"".join(line.encode("ascii") + self._eol_out for line in [*lines, *extra]))

    def _write(self, data: bytes) -> None:
        try:
            if self.chunk_size <= 0:
                os.write(self._master, data)
                return
            for start in range(0, len(data), self.chunk_size):
                os.write(self._master, data[start : start + self.chunk_size])
                if self._stop.wait(self.chunk_delay_s):
                    return
        except OSError:
            pass  # the driver side is closed
