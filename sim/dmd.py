"""A simulated DMD: shows patterns on the optical table and posts trigger-out events for sequences."""

from __future__ import annotations

import threading
import time

import numpy as np

from speckle_lab.drivers import DMD, DeviceError, DeviceIdentity, DeviceTimeout, DmdGeometry, OutOfRange
from speckle_lab.sim.table import OpticalTable, PatternInputs, macropixels_to_inputs, patterns_to_inputs


class SimulatedDMD(DMD):
    """Binary and 8-bit patterns; sequences run instantly unless the table is real-time paced."""

    def __init__(
        self,
        table: OpticalTable,
        max_pattern_rate_hz: float = 1e6 / 44.0,
        max_sequence_frames: int = 100_000,
        realtime: bool = False,
    ) -> None:
        rows, cols = table.geometry.mirror_shape
        identity = DeviceIdentity("dmd", "speckle-lab", f"SimDMD {cols}x{rows}", "SIM-D-0001", "1.0", "sim")
        super().__init__(identity, table.geometry.mirror_shape, max_pattern_rate_hz)
        self._table = table
        self._geometry = table.geometry
        self._max_sequence_frames = int(max_sequence_frames)
        self._realtime = realtime
        self._sequence: PatternInputs | None = None
        self._picture_time_s = 0.0
        self._trigger_out = True
        self._running_until: float | None = None
        self._lock = threading.Lock()
        self._shown: np.ndarray = np.zeros(self._geometry.mirror_shape, dtype=np.bool_)
        self._last_pattern: np.ndarray = self._shown

    @property
    def trigger_out_line(self) -> str:
        """`TriggeredSequences`: sequences post trigger events to the simulated camera through the table."""
        return "simulated table"

    @property
    def shown_pattern(self) -> np.ndarray:
        """The pattern on the mirrors now (for previews)."""
        return self._shown

    def show(self, pattern: np.ndarray) -> None:
        patterns = self.check_patterns(pattern, "show")
        with self._lock:
            self._running_until = None
            self._table.stop_runs()  # showing a pattern halts a running sequence: no more trigger-out events
            self._shown = patterns[0].copy()
            self._table.show(patterns_to_inputs(patterns, self._geometry, self._table.coherent_gray))

    def show_macropixels(self, image: np.ndarray, geometry: DmdGeometry) -> None:
        if geometry != self._geometry:  # another layout than the table's: through the mirrors, as hardware would
            super().show_macropixels(image, geometry)
            return
        images = self.check_macropixels(image, geometry, "show")
        with self._lock:
            self._running_until = None
            self._table.stop_runs()
            self._shown = geometry.to_mirrors(images[:1])[0]
            self._table.show(macropixels_to_inputs(images[:1], self._table.coherent_gray))

    def load_sequence(
        self,
        patterns: np.ndarray,
        picture_time_us: float,
        trigger_in: bool = False,
        trigger_out: bool = True,
    ) -> None:
        patterns = self.check_patterns(patterns, "load sequence")
        command = f"load sequence of {len(patterns)} patterns"
        self._check_sequence(len(patterns), picture_time_us, trigger_in, command)
        inputs = patterns_to_inputs(patterns, self._geometry, self._table.coherent_gray)
        self._store_sequence(inputs, patterns[-1].copy(), picture_time_us, trigger_out)

    def load_macropixels(
        self,
        images: np.ndarray,
        geometry: DmdGeometry,
        picture_time_us: float,
        trigger_in: bool = False,
        trigger_out: bool = True,
    ) -> None:
        """The table works in macropixels: the images become inputs directly, never mirror patterns."""
        if geometry != self._geometry:
            super().load_macropixels(images, geometry, picture_time_us, trigger_in, trigger_out)
            return
        command = f"load sequence of {len(images)} macropixel images"
        images = self.check_macropixels(images, geometry, command)
        self._check_sequence(len(images), picture_time_us, trigger_in, command)
        inputs = macropixels_to_inputs(images, self._table.coherent_gray)
        self._store_sequence(inputs, geometry.to_mirrors(images[-1:])[0], picture_time_us, trigger_out)

    def _check_sequence(self, length: int, picture_time_us: float, trigger_in: bool, command: str) -> None:
        self.check_picture_time_us(picture_time_us, command)
        if trigger_in:
            raise OutOfRange(str(self.identity), command, "the simulated DMD has no trigger input; use trigger_out")
        if length > self._max_sequence_frames:
            raise OutOfRange(
                str(self.identity), command, f"the on-board memory holds {self._max_sequence_frames} patterns"
            )

    def _store_sequence(
        self, inputs: PatternInputs, last_pattern: np.ndarray, picture_time_us: float, trigger_out: bool
    ) -> None:
        with self._lock:
            self._sequence = inputs
            self._last_pattern = last_pattern
            self._picture_time_s = picture_time_us * 1e-6
            self._trigger_out = trigger_out

    def start(self, repeat: int = 1) -> None:
        with self._lock:
            if self._sequence is None:
                raise OutOfRange(str(self.identity), "start", "no sequence is loaded")
            if repeat < 0:
                raise OutOfRange(str(self.identity), f"start(repeat={repeat})", "repeat must be >= 0")
            count = None if repeat == 0 else repeat * len(self._sequence)
            if self._trigger_out:
                self._table.start_run(self._sequence, count, self._picture_time_s)
            else:
                last = self._sequence.planes[-1:]
                self._table.show(PatternInputs(last, self._sequence.weights, self._sequence.coherent_gray))
            self._shown = self._last_pattern
            duration = float("inf") if count is None else count * self._picture_time_s
            self._running_until = time.monotonic() + duration if self._realtime or count is None else None

    def stop(self) -> None:
        with self._lock:
            self._running_until = None
            self._table.stop_runs()

    def wait(self, timeout_s: float | None = None) -> None:
        until = self._running_until
        if until is None:
            return
        left = until - time.monotonic()
        if timeout_s is None and left == float("inf"):
            raise DeviceError(str(self.identity), "wait", "the sequence repeats until stop(); give a timeout")
        if timeout_s is not None and left > timeout_s:
            time.sleep(max(timeout_s, 0))
            raise DeviceTimeout(str(self.identity), "wait", f"the sequence still runs after {timeout_s} s")
        time.sleep(max(left, 0))

    def state(self) -> dict[str, object]:
        return {
            **super().state(),
            "sequence_loaded": self._sequence is not None,
            "sequence_length": 0 if self._sequence is None else len(self._sequence),
        }

    def close(self) -> None:
        self.stop()
