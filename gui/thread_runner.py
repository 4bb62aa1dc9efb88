"""A QObject whose work runs on one plain worker thread: started, polled and joined the same way by the
capture and training runners."""

from __future__ import annotations

import threading

from PySide6.QtCore import QObject


class ThreadRunner(QObject):
    """Subclasses implement `_run`; `start` runs it on a thread named `thread_name`."""

    thread_name = "worker"
    daemon = False

    def __init__(self) -> None:
        super().__init__()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=self.thread_name, daemon=self.daemon)
        self._thread.start()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def wait(self, timeout_s: float | None = None) -> bool:
        """Join the worker for at most `timeout_s`; True once it has ended."""
        if self._thread is not None:
            self._thread.join(timeout_s)
        return not self.running

    def _run(self) -> None:
        raise NotImplementedError
