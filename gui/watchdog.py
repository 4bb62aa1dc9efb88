"""How responsive is the window? A timer on the UI thread that measures the longest gap between its ticks.

A tick that comes late means the event loop was busy (or blocked) for that long: the figure the panel's target
is stated in (the UI thread never blocked 100 ms or more) is `max_stall_ms`, measured through an operator's
session by `benchmarks/gui_responsiveness.py` against an idle window in the same run.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QObject, Qt, QTimer

LATE_TICK_MS = 30.0  # a tick later than this is kept in `late_ticks`, with when it came


class EventLoopWatchdog(QObject):
    """Ticks every `interval_ms` on the thread it lives on; `max_stall_ms` is the worst lateness seen."""

    def __init__(self, interval_ms: int = 10, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.interval_ms = interval_ms
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._tick)
        self.reset()

    def reset(self) -> None:
        self._last_s: float | None = None
        self.max_gap_ms = 0.0
        self.ticks = 0
        self.gaps_over_100_ms = 0
        self.late_ticks: list[tuple[float, float]] = []  # (time.perf_counter() at the tick, stall in ms)

    def start(self) -> None:
        self._last_s = time.perf_counter()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()
        self._tick()

    @property
    def max_stall_ms(self) -> float:
        """The longest time the event loop could not serve the timer beyond its interval."""
        return max(0.0, self.max_gap_ms - self.interval_ms)

    def _tick(self) -> None:
        now = time.perf_counter()
        if self._last_s is not None:
            gap_ms = (now - self._last_s) * 1e3
            self.max_gap_ms = max(self.max_gap_ms, gap_ms)
            self.gaps_over_100_ms += gap_ms - self.interval_ms > 100
            if gap_ms - self.interval_ms > LATE_TICK_MS:
                self.late_ticks.append((now, gap_ms - self.interval_ms))
        self._last_s = now
        self.ticks += 1
