"""Pause, resume and abort a running capture from any thread (the GUI, a signal handler)."""

from __future__ import annotations

import threading


class CaptureAborted(Exception):
    """Raised inside the capture loop when an abort was requested."""


class CaptureControl:
    """Thread-safe switches the capture loop checks between blocks."""

    def __init__(self) -> None:
        self._running = threading.Event()
        self._running.set()
        self._abort = threading.Event()
        self.abort_reason = ""

    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    def abort(self, reason: str = "aborted by the operator") -> None:
        self.abort_reason = reason
        self._abort.set()
        self._running.set()

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
