"""Pause, resume and abort a running capture from any thread (the GUI, a signal handler)."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator


class CaptureAborted(Exception):
    """Raised inside the capture loop when an abort was requested."""


class CaptureControl:
    """Thread-safe switches the capture loop checks between blocks.

    `on_abort` listeners hear an abort the moment it is asked for (the laser's lifecycle: an arming in flight
    then never sends its on command); they run in the caller's context, a signal handler included, so they
    must only set flags. `waiting_on_devices` marks where the run only waits for its devices (a block being
    captured): the one place a second signal may stop it at once (`interruptible`); everywhere else (the laser
    being switched off and read back, the file being written) the stop already under way runs to its end.
    """

    def __init__(self) -> None:
        self._running = threading.Event()
        self._running.set()
        self._abort = threading.Event()
        self.abort_reason = ""
        self._listeners: list[Callable[[str], None]] = []
        self._waiting_on_devices = 0

    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    def abort(self, reason: str = "aborted by the operator") -> None:
        self.abort_reason = reason
        for listener in tuple(self._listeners):
            listener(reason)
        self._abort.set()
        self._running.set()

    def on_abort(self, listener: Callable[[str], None]) -> None:
        """Call `listener(reason)` at every abort from now on (at once if one was asked for already)."""
        self._listeners.append(listener)
        if self.aborted:
            listener(self.abort_reason)

    @contextlib.contextmanager
    def waiting_on_devices(self) -> Iterator[None]:
        """While inside: the run only waits for its devices, and a second stop signal may interrupt it."""
        self._waiting_on_devices += 1
        try:
            yield
        finally:
            self._waiting_on_devices -= 1

    @property
    def interruptible(self) -> bool:
        return self._waiting_on_devices > 0

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    @property
    def aborted(self) -> bool:
        return self._abort.is_set()

    def checkpoint(self, on_pause: object = None) -> None:
        """Block while paused; raise `CaptureAborted` once an abort was requested."""
        if self._abort.is_set():
            raise CaptureAborted(self.abort_reason)
        if not self._running.is_set() and callable(on_pause):
            on_pause()
        while not self._running.wait(0.1):
            pass
        if self._abort.is_set():
            raise CaptureAborted(self.abort_reason)
