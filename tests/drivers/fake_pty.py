"""A device double behind a pseudo-terminal: the driver opens its tty name exactly as it would a real port.

A thread reads the master side, splits command lines and writes the answers of `answer` (a subclass
holds the device's state). `quirk` scripts what real serial links do: replies in pieces, late replies,
error replies, unsolicited extra lines; `disappear` closes the master side as if the cable were pulled.
`on_command` runs a test's action when a given command arrives, before it is answered (a signal to the
program at an exact point of its protocol, a cable pulled in the middle of a round trip); `replies` logs
every command with what the device answered.
"""

from __future__ import annotations

import os
import select
import threading
import time
import tty
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Self


@dataclass
class Quirk:
    reply: list[str] | None = None  # replaces the device's answer (the device state is then untouched)
    delay_s: float = 0.0  # answer this late
    extra_lines: tuple[str, ...] = ()  # unsolicited lines after the answer (stale for the next command)
    silent: bool = False  # no answer at all
    times: int = 1  # how many commands it applies to


@dataclass
class Trigger:
    """`action(command)` when the `nth` `command` arrives, counted from the first `after` command (if given)."""

    command: str
    action: Callable[[str], None]
    nth: int = 1
    after: str | None = None
    seen_after: bool = field(default=False, init=False)
    count: int = field(default=0, init=False)

    def fires(self, command: str) -> bool:
        if self.after is not None and not self.seen_after:
            self.seen_after = command == self.after
            return False
        if command != self.command:
            return False
        self.count += 1
        return self.count == self.nth


class PtyDevice:
    """Base of the pty doubles: subclasses implement `answer(command) -> reply lines`."""

    def __init__(self, eol_in: bytes, eol_out: bytes = b"\r\n") -> None:
        self._eol_in = eol_in
        self._eol_out = eol_out
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)  # no echo, no line editing: the far end sees bytes as sent
        self.port_name = os.ttyname(self._slave)
        self.received: list[str] = []  # every command line, in order
        self.replies: list[tuple[str, list[str] | None]] = []  # each command and its answer (None: not answered)
        self._triggers: list[Trigger] = []
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

    def on_command(
        self, command: str, action: Callable[[str], None], *, nth: int = 1, after: str | None = None
    ) -> None:
        """Run `action(command)` on the device thread when the `nth` `command` arrives (counted from the first
        `after` command, when given), before the device answers it."""
        with self._lock:
            self._triggers.append(Trigger(command, action, nth, after))

    def vanish_now(self) -> None:
        """From the device thread (a trigger's action): the cable is pulled now; the command being handled and
        every later one go unanswered, and the driver's next read or write fails."""
        self._vanish.set()

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
            while self._eol_in in buffer and not self._vanish.is_set():
                raw, buffer = buffer.split(self._eol_in, 1)
                self._handle(raw.decode("ascii", errors="replace").strip())
            self._busy = False

    def _handle(self, command: str) -> None:
        self.received.append(command)
        with self._lock:
            fired = [trigger for trigger in self._triggers if trigger.fires(command)]
            quirk = self._quirks.get(command)
            if quirk is not None:
                quirk.times -= 1
                if quirk.times <= 0:
                    del self._quirks[command]
        for trigger in fired:
            trigger.action(command)
        if self._vanish.is_set() or (quirk is not None and quirk.silent):
            self.replies.append((command, None))
            return
        lines = quirk.reply if quirk is not None and quirk.reply is not None else self.answer(command)
        self.replies.append((command, list(lines)))
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
