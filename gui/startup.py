"""Start-up behind the window: the window shows first, then the bench opens (on the device thread) and what the
worker threads would otherwise import mid-run loads on a thread of its own.

An import holds the interpreter lock while it runs, so one on a worker thread in the middle of a capture or a
reconstruction would stall the window; done here, once, while the operator looks at a window that has just
opened (and whose bench is still opening), it costs a few sluggish moments instead of seconds of no window at
all. torch is the largest: the Reconstruct page runs its net in this process (training has its own process).
`MainWindow.ready` says when all of it is loaded; a Load pressed before waits for the import to end.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from PySide6.QtCore import QObject, Signal

log = logging.getLogger(__name__)


def warm_up() -> None:
    """Import what the device, capture and reconstruction threads use (torch among it)."""
    import speckle_lab.acquisition.targets.bundled
    import speckle_lab.acquisition.targets.diversity
    import speckle_lab.acquisition.targets.files
    import speckle_lab.acquisition.targets.generators
    import speckle_lab.acquisition.targets.prepare
    import speckle_lab.model.evaluate
    import speckle_lab.model.metrics  # noqa: F401


class BehindTheWindow(QObject):
    """Opens the bench and loads the rest once the window is up; `loaded(seconds)` on the UI thread after."""

    loaded = Signal(float)

    def __init__(self, start_bench: Callable[[], None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._start_bench = start_bench
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._start_bench()
        self._thread = threading.Thread(target=self._load, name="warm-up", daemon=True)
        self._thread.start()

    def _load(self) -> None:
        started = time.perf_counter()
        try:
            warm_up()
        except Exception:  # the page that needs it says so when it runs; the panel itself works without
            log.exception("loading the panel's modules failed")
        self.loaded.emit(time.perf_counter() - started)
