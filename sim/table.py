"""The simulated optical table: the one place where laser, DMD and camera meet.

The DMD writes what it shows (and the trigger events of a running sequence), the laser writes its
emitted power, and the camera computes each frame from the state at the time of its exposure.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from speckle_lab.drivers.dmd import DmdGeometry
from speckle_lab.sim.medium import Medium
from speckle_lab.sim.torch_backend import COMPUTE_NUMPY, TorchMedium, torch_device_name


@dataclass(frozen=True)
class PatternInputs:
    """DMD patterns reduced to macropixel amplitudes: `planes` `[frame, plane, input]`, one plane per
    bit plane of a gray pattern, each seen for a fraction `weights[plane]` of the picture time."""

    planes: np.ndarray
    weights: np.ndarray
    coherent_gray: bool = False

    def __len__(self) -> int:
        return self.planes.shape[0]


def patterns_to_inputs(patterns: np.ndarray, geometry: DmdGeometry, coherent_gray: bool = False) -> PatternInputs:
    """Average each macropixel's mirrors; gray patterns split into bit planes weighted 2^b / 255."""
    m = geometry.macropixel_mirrors
    top, left, span = geometry.active_top, geometry.active_left, geometry.active_side_mirrors
    active = patterns[:, top : top + span, left : left + span]
    if m > 1:
        corner = np.ascontiguousarray(active[:, ::m, ::m])
        if np.array_equal(corner.repeat(m, axis=1).repeat(m, axis=2), active):
            # Every macropixel shows one level on all its mirrors (the usual case): work per macropixel.
            active, m = corner, 1
    return _levels_to_inputs(active, geometry.side_macropixels, m, coherent_gray)


def macropixels_to_inputs(images: np.ndarray, coherent_gray: bool = False) -> PatternInputs:
    """Macropixel images `[frame, side, side]` (bool or uint8, one level per macropixel) as the DMD shows them:
    the same inputs as their mirror patterns give, without expanding them to mirrors and back."""
    return _levels_to_inputs(images, images.shape[1], 1, coherent_gray)


def _levels_to_inputs(active: np.ndarray, side: int, m: int, coherent_gray: bool) -> PatternInputs:
    """The active area `[frame, side * m, side * m]`, `m` mirrors a macropixel side, as inputs."""
    n = len(active)

    def reduce(binary: np.ndarray) -> np.ndarray:
        if m == 1:
            return binary.reshape(n, side * side).astype(np.float32)
        blocks = binary.reshape(n, side, m, side, m).sum(axis=(2, 4), dtype=np.float32)
        return blocks.reshape(n, side * side) / np.float32(m * m)

    if active.dtype == np.bool_:
        return PatternInputs(reduce(active)[:, None, :], np.ones(1, np.float32))
    if coherent_gray:
        gray = reduce(active.astype(np.float32)) / np.float32(255)
        return PatternInputs(gray[:, None, :], np.ones(1, np.float32), coherent_gray=True)
    if not np.any((active != 0) & (active != 255)):
        # 0/255 shows every bit plane with the same mirrors: identical to the binary pattern.
        return PatternInputs(reduce(active == 255)[:, None, :], np.ones(1, np.float32))
    bits = [b for b in range(8) if np.any(active & (1 << b))]
    planes = np.stack([reduce((active >> b) & 1) for b in bits], axis=1)
    weights = np.array([2**b / 255 for b in bits], dtype=np.float32)
    return PatternInputs(planes, weights)


@dataclass
class TriggerRun:
    """Trigger events of one started DMD sequence: event k shows pattern k mod len(inputs)."""

    inputs: PatternInputs
    count: int | None  # None: runs until stopped
    power_w: float
    start_s: float
    picture_time_s: float
    taken: int = 0

    def remaining(self) -> int | None:
        return None if self.count is None else self.count - self.taken


@dataclass
class TriggerBatch:
    """Events handed to the camera: which inputs, at which power and time."""

    inputs: list[tuple[PatternInputs, np.ndarray]] = field(default_factory=list)
    power_w: list[np.ndarray] = field(default_factory=list)
    timestamps_s: list[np.ndarray] = field(default_factory=list)


class OpticalTable:
    """Shared state of the simulated bench. Thread-safe: devices may be driven from several threads."""

    def __init__(
        self,
        medium: Medium,
        geometry: DmdGeometry,
        photons_per_joule: float = 5e9,
        coherent_gray: bool = False,
        compute: str = COMPUTE_NUMPY,
    ) -> None:
        """`compute`: "numpy", or "torch:<device>" to run the camera's fast path (GEMM, field, intensity, noise)
        in torch on that device (`sim.torch_backend`)."""
        torch_device_name(compute)  # checks the name
        if medium.n_inputs != geometry.n_inputs:
            raise ValueError(
                f"the medium has {medium.n_inputs} inputs but the DMD active area has {geometry.n_inputs} macropixels"
            )
        self.medium = medium
        self.geometry = geometry
        self.photons_per_joule = float(photons_per_joule)
        self.coherent_gray = coherent_gray
        self.compute = compute
        self._torch_medium: TorchMedium | None = None
        self._lock = threading.Condition()
        self._emitted_power_w = 0.0
        self._shown = PatternInputs(np.zeros((1, 1, geometry.n_inputs), np.float32), np.ones(1, np.float32))
        self._runs: deque[TriggerRun] = deque()
        self._listening = False

    # -- written by the laser and the DMD ---------------------------------------------------------
    def set_emitted_power_w(self, power_w: float) -> None:
        with self._lock:
            self._emitted_power_w = float(power_w)

    @property
    def emitted_power_w(self) -> float:
        with self._lock:
            return self._emitted_power_w

    def show(self, inputs: PatternInputs) -> None:
        with self._lock:
            self._shown = inputs

    def start_run(self, inputs: PatternInputs, count: int | None, picture_time_s: float) -> TriggerRun:
        """A DMD sequence starts; its trigger-out events reach the camera if it listens for them."""
        with self._lock:
            self._shown = PatternInputs(inputs.planes[-1:], inputs.weights, inputs.coherent_gray)
            run = TriggerRun(inputs, count, self._emitted_power_w, time.time(), picture_time_s)
            if self._listening:
                self._runs.append(run)
                self._lock.notify_all()
            return run

    def stop_runs(self) -> None:
        with self._lock:
            for run in self._runs:
                if run.count is None:
                    run.count = run.taken
            self._lock.notify_all()

    # -- read by the camera -----------------------------------------------------------------------
    def snapshot(self) -> tuple[PatternInputs, float]:
        """What the camera sees right now: the shown pattern and the emitted power."""
        with self._lock:
            return self._shown, self._emitted_power_w

    def listen_for_triggers(self, on: bool) -> None:
        with self._lock:
            self._listening = on
            if not on:
                self._runs.clear()

    def pending_triggers(self) -> int | None:
        with self._lock:
            total = 0
            for run in self._runs:
                left = run.remaining()
                if left is None:
                    return None
                total += left
            return total

    def take_triggers(self, n_events: int, timeout_s: float) -> TriggerBatch | None:
        """The next `n_events` trigger events, or None when they do not all arrive within the timeout
        (the events that did arrive stay queued)."""
        deadline = time.monotonic() + timeout_s
        with self._lock:
            while True:
                pending = self.pending_triggers()
                if pending is None or pending >= n_events:
                    break
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._lock.wait(left)
            batch = TriggerBatch()
            needed = n_events
            while needed:
                run = self._runs[0]
                remaining = run.remaining()
                k = needed if remaining is None else min(needed, remaining)
                events = np.arange(run.taken, run.taken + k)
                batch.inputs.append((run.inputs, events % len(run.inputs)))
                batch.power_w.append(np.full(k, run.power_w))
                batch.timestamps_s.append(run.start_s + events * run.picture_time_s)
                run.taken += k
                needed -= k
                if run.remaining() == 0:
                    self._runs.popleft()
            return batch

    # -- physics ----------------------------------------------------------------------------------
    def photons_per_intensity(self, power_w: np.ndarray | float, exposure_us: float) -> np.ndarray:
        """Mean photons per pixel per unit of relative intensity, `[frame, 1]` (or scalar)."""
        scale = np.asarray(power_w, dtype=np.float32) * np.float32(exposure_us * 1e-6 * self.photons_per_joule)
        return scale.reshape(-1, 1) if scale.ndim else scale

    def intensity(self, inputs: PatternInputs, rows: np.ndarray | None = None) -> np.ndarray:
        """Relative intensity `[frame, pixel]` (mean 1 with all macropixels on) of the selected rows:
        the incoherent sum of the bit planes' speckles, each weighted by its share of the picture time."""
        planes = inputs.planes if rows is None else inputs.planes[rows]
        if planes.shape[1] == 1:
            single = self.medium.intensities(planes[:, 0])
            if inputs.weights[0] != 1:  # a gray pattern with one bit plane in use, e.g. levels {0, 128}
                single *= inputs.weights[0]
            return single
        total = np.zeros((planes.shape[0], self.medium.n_outputs), np.float32)
        for p, weight in enumerate(inputs.weights):
            total += weight * self.medium.intensities(planes[:, p])
        return total

    @property
    def torch_medium(self) -> TorchMedium:
        """The medium on the torch device of `compute`, moved there on first use."""
        device = torch_device_name(self.compute)
        if device is None:
            raise ValueError("this optical table computes with numpy; it has no torch medium")
        with self._lock:
            if self._torch_medium is None:
                self._torch_medium = TorchMedium(self.medium, device)
            return self._torch_medium

    def describe(self) -> dict[str, object]:
        g = self.geometry
        return {
            "medium": self.medium.describe(),
            "compute": self.compute,
            "photons_per_joule": self.photons_per_joule,
            "coherent_gray": self.coherent_gray,
            "dmd_active_area": {
                "top": g.active_top,
                "left": g.active_left,
                "macropixel_mirrors": g.macropixel_mirrors,
                "side_macropixels": g.side_macropixels,
            },
        }
