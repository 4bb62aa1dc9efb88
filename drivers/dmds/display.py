"""A DMD driven as a display (e.g. a TI LightCrafter in video mode on HDMI): a frameless full-screen Qt
window on the DMD's screen, painting each pattern pixel for pixel (one pattern pixel per mirror).

A display has no sequencer and no trigger lines: `load_sequence` stores the patterns and `start` shows
them one after another on a timer (not locked to the display's refresh), so the capture engine runs it
in step mode: `show(pattern)`, then a software-triggered camera frame. `show` returns once the window
painted the pattern; the projector's own latency (a frame or two) is what the plan's `settle_s` is for.

Every Qt call runs on the GUI thread: the DMD may be driven from any thread (the capture engine runs
off the UI thread); calls from another thread are queued to the GUI thread and waited for, with a
timeout (`DeviceTimeout`, never a hang when the GUI thread's event loop is not running). Without a
QApplication in the process, one is created in the thread that opens the DMD, which then drives Qt
itself while it waits (the command line); calls from other threads then need that thread's event loop.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from speckle_lab.drivers.device import DeviceIdentity
from speckle_lab.drivers.dmd import DMD
from speckle_lab.drivers.errors import DeviceError, DeviceTimeout, OutOfRange

STEP_MODE_HINT = "use step mode (show() per pattern with a software-triggered camera)"


@dataclass
class _Run:
    total: int | None  # frames to show; None: until stop()
    duration_s: float
    done: threading.Event = field(default_factory=threading.Event)  # set when the run ends or is stopped
    missed: list[int] = field(default_factory=list)  # frame indices whose paint event did not run


class DisplayDMD(DMD):
    """A DMD seen as a screen. `mirror_shape` defaults to the screen's size in device pixels (e.g. 1080 x
    1920); a smaller shape opens a frameless window of that size at the screen's top-left corner."""

    def __init__(
        self,
        screen_index: int = 0,
        mirror_shape: tuple[int, int] | None = None,
        max_pattern_rate_hz: float | None = None,
        present_timeout_s: float = 2.0,
    ) -> None:
        self._label = f"display DMD on screen {screen_index}"
        try:
            from speckle_lab.drivers.dmds import display_window as qt
        except ImportError as error:
            raise DeviceError(self._label, "import PySide6", f"{error}: install the 'gui' extra") from None
        self._qt = qt
        self._timeout_s = float(present_timeout_s)
        self._identity: DeviceIdentity | None = None
        self._closed = False
        self._window: Any = None
        self._player: Any = None
        self._run: _Run | None = None
        self._sequence: np.ndarray | None = None
        self._picture_time_us = 0.0
        self._image_id = 0
        self._presented = 0
        self._shown: np.ndarray | None = None
        self._app = qt.application()
        self._invoker = qt.Invoker()
        if not qt.in_gui_thread(self._app):
            self._invoker.moveToThread(self._app.thread())
        self._on_gui("open", lambda: self._open(screen_index, mirror_shape, max_pattern_rate_hz))

    # -- the GUI thread -------------------------------------------------------------------------------
    def _on_gui(self, command: str, function: Any) -> Any:
        """Run `function` on the GUI thread: directly when already there, else queued and waited for."""
        if self._qt.in_gui_thread(self._app):
            return function()
        call = self._qt.Call(function)
        self._invoker.request.emit(call)
        if not call.done.wait(self._timeout_s):
            call.cancelled = True
            raise DeviceTimeout(
                self._name, command, f"the Qt GUI thread did not run it within {self._timeout_s} s (no event loop?)"
            )
        if call.error is not None:
            raise call.error
        return call.result

    @property
    def _name(self) -> str:
        return str(self._identity) if self._identity is not None else self._label

    def _open(self, screen_index: int, mirror_shape: tuple[int, int] | None, rate_hz: float | None) -> None:
        screens = self._qt.screens()
        if not 0 <= screen_index < len(screens):
            listed = ", ".join(
                f"{i}: {s.name() or '?'} {s.size().width()}x{s.size().height()}" for i, s in enumerate(screens)
            )
            raise OutOfRange(self._label, "open", f"no screen {screen_index}; screens are {listed or 'none'}")
        screen = screens[screen_index]
        dpr = screen.devicePixelRatio()
        if dpr != int(dpr):
            raise OutOfRange(
                self._label, "open", f"screen scale factor {dpr} is fractional: pixels cannot map 1:1 (set it to 100%)"
            )
        geometry = screen.geometry()
        screen_shape = (round(geometry.height() * dpr), round(geometry.width() * dpr))
        shape = tuple(mirror_shape) if mirror_shape is not None else screen_shape
        if len(shape) != 2 or not (0 < shape[0] <= screen_shape[0] and 0 < shape[1] <= screen_shape[1]):
            raise OutOfRange(self._label, "open", f"mirror shape {shape} does not fit the {screen_shape} pixel screen")
        self._dpr = dpr
        self._screen_index = screen_index
        name = " ".join(part for part in (screen.manufacturer(), screen.model()) if part) or screen.name() or "screen"
        identity = DeviceIdentity(
            "dmd", "display", f"{name} {shape[1]}x{shape[0]}", screen.serialNumber() or f"screen {screen_index}",
            "", "display",
        )  # fmt: skip
        super().__init__(identity, (int(shape[0]), int(shape[1])), float(rate_hz or screen.refreshRate() or 60.0))
        self._window = self._qt.PatternWindow(screen, *self._mirror_shape)
        if self._mirror_shape == screen_shape:
            self._window.showFullScreen()
        else:
            self._window.show()
        try:
            self._present(np.zeros(self._mirror_shape, dtype=np.bool_), "open")
        except DeviceError:
            self._window.close()
            self._window.deleteLater()
            raise

    def _present(self, pattern: np.ndarray, command: str) -> None:
        """Paint `pattern` and wait (driving Qt) until its paint event ran: the presentation check."""
        self._image_id += 1
        image_id = self._image_id
        deadline = time.monotonic() + self._timeout_s
        presented = self._window.present(self._qt.to_image(pattern, self._dpr), image_id)
        while not presented:
            if time.monotonic() > deadline:
                raise DeviceTimeout(
                    self._name, command, f"the window did not paint within {self._timeout_s} s (hidden or not exposed?)"
                )
            self._qt.process_events()
            time.sleep(0.001)
            presented = self._window.painted_id == image_id or self._window.present(
                self._qt.to_image(pattern, self._dpr), image_id
            )
        self._presented += 1
        self._shown = pattern
        self._qt.process_events()  # a thread without an event loop (the command line) still answers the window system

    def _present_frame(self, index: int) -> None:
        """One sequence frame, from the player's timer: no waiting there; a frame not painted is recorded."""
        assert self._sequence is not None and self._run is not None
        pattern = self._sequence[index % len(self._sequence)]
        self._image_id += 1
        if self._window.present(self._qt.to_image(pattern, self._dpr), self._image_id):
            self._presented += 1
            self._shown = pattern
        else:
            self._run.missed.append(index)

    def _halt(self) -> None:
        if self._player is not None:
            self._player.stop()
            self._player.deleteLater()
            self._player = None
        if self._run is not None:
            self._run.done.set()

    # -- the DMD contract -----------------------------------------------------------------------------
    @property
    def max_pattern_rate_hz(self) -> float:
        """The display's refresh rate: no pattern can change faster."""
        return super().max_pattern_rate_hz

    @property
    def window(self) -> Any:
        """The Qt window (for previews and tests); touch it on the GUI thread only."""
        return self._window

    @property
    def shown_pattern(self) -> np.ndarray | None:
        """The last pattern the window painted."""
        return self._shown

    def _require_open(self, command: str) -> None:
        if self._closed:
            raise DeviceError(self._name, command, "the DMD is closed")

    def show(self, pattern: np.ndarray) -> None:
        """Stop any sequence and paint `pattern`; returns once the window painted it."""
        patterns = self.check_patterns(pattern, "show")
        self._require_open("show")
        frame = patterns[0].copy()

        def show_now() -> None:
            self._halt()
            self._present(frame, "show")

        self._on_gui("show", show_now)

    def load_sequence(
        self,
        patterns: np.ndarray,
        picture_time_us: float,
        trigger_in: bool = False,
        trigger_out: bool = True,
    ) -> None:
        """Store the patterns for `start`. A display has no trigger lines: `trigger_in` or `trigger_out`
        raise `OutOfRange`; the capture engine uses step mode with this DMD."""
        patterns = self.check_patterns(patterns, "load sequence")
        command = f"load sequence of {len(patterns)} patterns"
        self.check_picture_time_us(picture_time_us, command)
        if trigger_in:
            raise OutOfRange(self._name, command, f"a display has no trigger input; {STEP_MODE_HINT}")
        if trigger_out:
            raise OutOfRange(self._name, command, f"a display has no trigger output; {STEP_MODE_HINT}")
        self._require_open(command)
        stored = patterns.copy()

        def store() -> None:
            self._halt()
            self._sequence, self._picture_time_us = stored, float(picture_time_us)
            self._run = None

        self._on_gui(command, store)

    def start(self, repeat: int = 1) -> None:
        """Show the stored patterns one after another, each for the picture time (0: until `stop`)."""
        command = f"start(repeat={repeat})"
        self._require_open(command)
        if repeat < 0:
            raise OutOfRange(self._name, command, "repeat must be >= 0")

        def start_now() -> None:
            if self._sequence is None:
                raise OutOfRange(self._name, command, "no sequence is loaded")
            self._halt()
            total = None if repeat == 0 else repeat * len(self._sequence)
            duration_s = math.inf if total is None else total * self._picture_time_us * 1e-6
            self._run = _Run(total, duration_s)
            run = self._run
            self._player = self._qt.Player(
                round(self._picture_time_us / 1000.0), total, self._present_frame, run.done.set
            )
            self._player.start()

        self._on_gui(command, start_now)

    def stop(self) -> None:
        if not self._closed:
            self._on_gui("stop", self._halt)

    def wait(self, timeout_s: float | None = None) -> None:
        """Block until the sequence has shown its last frame for its picture time. A frame the window
        did not paint raises `DeviceError` here."""
        run = self._run
        if run is None:
            return
        command = f"wait(timeout_s={timeout_s})"
        if run.done.is_set():
            timeout_s = 0.0
        elif timeout_s is None:
            if run.total is None:
                raise DeviceError(self._name, command, "the sequence repeats until stop(); give a timeout")
            timeout_s = run.duration_s + self._timeout_s
        if self._qt.in_gui_thread(self._app):
            deadline = time.monotonic() + timeout_s
            while not run.done.is_set() and time.monotonic() < deadline:
                self._qt.process_events()
                time.sleep(0.0005)
        else:
            run.done.wait(timeout_s)
        if not run.done.is_set():
            raise DeviceTimeout(self._name, command, f"the sequence still runs after {timeout_s} s")
        if run.missed:
            raise DeviceError(self._name, command, f"frames {run.missed[:10]} of the sequence were not painted")

    def state(self) -> dict[str, Any]:
        return {
            **super().state(),
            "screen_index": self._screen_index,
            "presented_frames": self._presented,
            "sequence_length": 0 if self._sequence is None else len(self._sequence),
            "running": self._run is not None and not self._run.done.is_set(),
        }

    def grab(self) -> np.ndarray:
        """What the window paints now, `[row, col, rgb]` uint8 (gray patterns have r = g = b)."""
        self._require_open("grab")
        return self._on_gui("grab", lambda: self._qt.grab_rgb(self._window))

    def close(self) -> None:
        """Stop any sequence and close the window (the QApplication stays)."""
        if self._closed:
            return
        self._closed = True

        def close_now() -> None:
            self._halt()
            if self._window is not None:
                self._window.close()
                self._window.deleteLater()
            self._invoker.deleteLater()

        self._on_gui("close", close_now)
