"""A simulated camera: frames computed from the optical table through the EMVA 1288 sensor model."""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import Any

import numpy as np

from speckle_lab.drivers import (
    Camera,
    DeviceError,
    DeviceIdentity,
    DeviceTimeout,
    Frame,
    FrameBlock,
    OutOfRange,
    Roi,
    TriggerMode,
)
from speckle_lab.sim import torch_backend
from speckle_lab.sim.camera_model import SensorModel, noise_generators
from speckle_lab.sim.parallel import N_CHUNKS, map_row_chunks
from speckle_lab.sim.table import OpticalTable, PatternInputs, TriggerBatch
from speckle_lab.sim.torch_backend import COMPUTE_NUMPY

_PIECE_PIXELS = 2**18
_GEMM_ROWS = 256
_MIN_ROWS_PER_CORE_GEMM = 128  # fewer frames per core: one shared GEMM (OpenBLAS packs the whole matrix per call)


class SimulatedCamera(Camera):
    """Software trigger and free run expose the table's current state; hardware trigger makes one frame
    per DMD trigger-out event, computed in blocks (one matrix product per block) by `read_block`."""

    def __init__(
        self,
        table: OpticalTable,
        sensor: SensorModel | None = None,
        exposure_us: float = 40.0,
        gain_db: float = 0.0,
        max_gain_db: float = 24.0,
        readout_time_us: float = 5_000.0,
        seed: int = 0,
    ) -> None:
        self._sensor = sensor or SensorModel()
        rows, cols = table.medium.output_shape
        identity = DeviceIdentity(
            "camera", "speckle-lab", f"SimCam {cols}x{rows} {self._sensor.bit_depth}-bit", "SIM-C-0001", "1.0", "sim"
        )
        super().__init__(identity, table.medium.output_shape)
        self._table = table
        self._roi = Roi(0, 0, *self._sensor_shape)
        self._max_gain_db = float(max_gain_db)
        self._readout_time_us = float(readout_time_us)
        self._rngs = noise_generators(seed)
        self._seed = int(seed)
        self._torch_generator: Any = None  # a torch.Generator once the torch path runs (torch is imported lazily)
        self._mode = TriggerMode.SOFTWARE
        self._acquiring = False
        self._pending: deque[tuple[PatternInputs, float, float]] = deque()
        self._cond = threading.Condition()
        self._next_frame_id = 0
        self._next_free_run_s = 0.0
        self._injected_timeouts = 0
        self._injected_gaps = 0
        self._exposure_us = self._gain_db = 0.0
        self.set_exposure_us(exposure_us)
        self.set_gain_db(gain_db)

    @property
    def sensor(self) -> SensorModel:
        return self._sensor

    @property
    def bit_depth(self) -> int:
        return self._sensor.bit_depth

    @property
    def exposure_us(self) -> float:
        return self._exposure_us

    def set_exposure_us(self, exposure_us: float) -> None:
        if not 1.0 <= exposure_us <= 10_000_000.0:
            raise OutOfRange(str(self.identity), f"set exposure {exposure_us} us", "allowed range is [1, 1e7] us")
        self._exposure_us = float(exposure_us)

    @property
    def gain_db(self) -> float:
        return self._gain_db

    def set_gain_db(self, gain_db: float) -> None:
        if not 0.0 <= gain_db <= self._max_gain_db:
            raise OutOfRange(
                str(self.identity), f"set gain {gain_db} dB", f"allowed range is [0, {self._max_gain_db}] dB"
            )
        self._gain_db = float(gain_db)

    @property
    def roi(self) -> Roi:
        return self._roi

    @property
    def readout_time_us(self) -> float:
        """The sensor's readout time: frames come no faster than one per max(exposure, readout) (free run)."""
        return self._readout_time_us

    def set_roi(self, roi: Roi) -> None:
        self.check_roi(roi)
        self._require_stopped(f"set roi {roi}")
        self._roi = roi

    @property
    def trigger_mode(self) -> TriggerMode:
        return self._mode

    def set_trigger_mode(self, mode: TriggerMode) -> None:
        self._require_stopped(f"set trigger mode {mode}")
        self._mode = TriggerMode(mode)

    @property
    def acquiring(self) -> bool:
        return self._acquiring

    def _require_stopped(self, command: str) -> None:
        if self._acquiring:
            raise DeviceError(str(self.identity), command, "stop acquisition first")

    def start(self, n_buffers: int = 16) -> None:
        with self._cond:
            self._pending.clear()
            self._acquiring = True
            self._next_free_run_s = time.monotonic()
        self._table.listen_for_triggers(self._mode is TriggerMode.HARDWARE)

    def stop(self) -> None:
        self._table.listen_for_triggers(False)
        with self._cond:
            self._acquiring = False
            self._pending.clear()
            self._cond.notify_all()

    def software_trigger(self) -> None:
        if not self._acquiring or self._mode is not TriggerMode.SOFTWARE:
            raise DeviceError(str(self.identity), "software trigger", "the camera is not acquiring in software mode")
        inputs, power_w = self._table.snapshot()
        with self._cond:
            self._pending.append((inputs, power_w, time.time()))
            self._cond.notify_all()

    def inject_faults(self, timeouts: int = 0, frame_id_gaps: int = 0) -> None:
        """Rehearse what real cameras do at 3 a.m.: the next `timeouts` reads miss their triggers (the
        frames are lost and the read times out at once); the next `frame_id_gaps` reads skip a frame id
        in the middle of the block, as a camera that counted a spurious trigger or lost a frame."""
        with self._cond:
            self._injected_timeouts += timeouts
            self._injected_gaps += frame_id_gaps

    def read(self, timeout_s: float) -> Frame:
        block = self.read_block(1, timeout_s)
        return Frame(block.pixels[0], int(block.frame_ids[0]), float(block.timestamps_s[0]), block.exposure_us)

    def read_block(self, n_frames: int, timeout_s: float) -> FrameBlock:
        if not self._acquiring:
            raise DeviceError(str(self.identity), "read", "the camera is not acquiring; call start() first")
        if self._injected_timeouts:
            self._injected_timeouts -= 1
            self._table.take_triggers(self._table.pending_triggers() or 0, 0.0)
            with self._cond:
                self._pending.clear()
            raise DeviceTimeout(str(self.identity), f"read {n_frames} frames", "injected fault: triggers missed")
        if self._mode is TriggerMode.HARDWARE:
            batch = self._table.take_triggers(n_frames, timeout_s)
            if batch is None:
                raise DeviceTimeout(
                    str(self.identity),
                    f"read {n_frames} frames",
                    f"fewer than {n_frames} hardware triggers within {timeout_s} s "
                    f"({self._table.pending_triggers()} pending); is a DMD sequence running with trigger out?",
                )
            return self._expose_batch(batch)
        if self._mode is TriggerMode.FREE_RUN:
            return self._expose_free_run(n_frames)
        return self._expose_software(n_frames, timeout_s)

    def _expose_software(self, n_frames: int, timeout_s: float) -> FrameBlock:
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while len(self._pending) < n_frames:
                left = deadline - time.monotonic()
                if left <= 0 or not self._acquiring:
                    raise DeviceTimeout(
                        str(self.identity),
                        f"read {n_frames} frames",
                        f"{len(self._pending)} software triggers within {timeout_s} s",
                    )
                self._cond.wait(left)
            events = [self._pending.popleft() for _ in range(n_frames)]
        batch = TriggerBatch()
        for inputs, power_w, timestamp_s in events:
            batch.inputs.append((inputs, np.array([len(inputs) - 1])))
            batch.power_w.append(np.array([power_w]))
            batch.timestamps_s.append(np.array([timestamp_s]))
        return self._expose_batch(batch)

    def _expose_free_run(self, n_frames: int) -> FrameBlock:
        period_s = max(self._exposure_us, self._readout_time_us) * 1e-6
        batch = TriggerBatch()
        for _ in range(n_frames):
            wait_s = self._next_free_run_s - time.monotonic()
            if wait_s > 0:
                time.sleep(wait_s)
            self._next_free_run_s = max(self._next_free_run_s, time.monotonic()) + period_s
            inputs, power_w = self._table.snapshot()
            batch.inputs.append((inputs, np.array([len(inputs) - 1])))
            batch.power_w.append(np.array([power_w]))
            batch.timestamps_s.append(np.array([time.time()]))
        return self._expose_batch(batch)

    def _expose_batch(self, batch: TriggerBatch) -> FrameBlock:
        n = sum(len(rows) for _, rows in batch.inputs)
        roi = self._roi
        pixels = np.empty((n, roi.height, roi.width), dtype=self.dtype)
        if n == 0:
            return FrameBlock(pixels, np.empty(0, np.int64), np.empty(0), self._exposure_us)
        done = 0
        for (inputs, rows), power_w in zip(batch.inputs, batch.power_w, strict=True):
            scale = self._table.photons_per_intensity(power_w, self._exposure_us)
            self._expose_rows(inputs, rows, scale, pixels[done : done + len(rows)])
            done += len(rows)
        frame_ids = np.arange(self._next_frame_id, self._next_frame_id + n, dtype=np.int64)
        self._next_frame_id += n
        if self._injected_gaps and n > 1:
            self._injected_gaps -= 1
            frame_ids[n // 2 :] += 1
            self._next_frame_id += 1
        return FrameBlock(pixels, frame_ids, np.concatenate(batch.timestamps_s), self._exposure_us)

    def _expose_rows(self, inputs: PatternInputs, rows: np.ndarray, scale: np.ndarray, out: np.ndarray) -> None:
        """Frames of `inputs.planes[rows]` into `out`. Binary patterns take the fast path: one GEMM, then
        field (the medium's inverse FFT, if any), intensity, photons and the sensor model fused per row chunk
        on every core."""
        medium = self._table.medium
        full_frame = self._roi == Roi(0, 0, *self._sensor_shape)
        single_plane = inputs.planes.shape[1] == 1
        if single_plane and full_frame:
            scale = scale * inputs.weights[0]
            if self._table.compute != COMPUTE_NUMPY:
                self._expose_rows_torch(inputs.planes[rows, 0], scale, out)
                return
            planes = inputs.planes[rows, 0]
            flat_out = out.reshape(len(rows), -1)
            # With enough frames each core takes its own through the whole path: GEMMs of up to `_GEMM_ROWS`
            # frames, then field, intensity and noise in pieces of a few frames that stay in the core's cache.
            # With few frames per core, a GEMM per core costs more than it saves: OpenBLAS copies (packs) the
            # whole matrix on every call, so one GEMM on all cores comes first (measured: 67 frames per core
            # against a 445 MB medium ran 2.5x slower per core than shared).
            per_core = len(rows) >= N_CHUNKS * _MIN_ROWS_PER_CORE_GEMM
            shared = None if per_core else medium.project(planes)
            piece = max(1, _PIECE_PIXELS // medium.n_outputs)

            def work(chunk: int, start: int, stop: int) -> None:
                for gemm_start in range(start, stop, _GEMM_ROWS):
                    gemm_stop = min(gemm_start + _GEMM_ROWS, stop)
                    if shared is None:
                        product = medium.project(planes[gemm_start:gemm_stop])
                    else:
                        product = shared[gemm_start:gemm_stop]
                    for first in range(0, gemm_stop - gemm_start, piece):
                        last = min(first + piece, gemm_stop - gemm_start)
                        photons = medium.intensity_of(product[first:last])
                        frames = slice(gemm_start + first, gemm_start + last)
                        photons *= scale[frames] if np.ndim(scale) else scale
                        self._sensor.digitize(
                            photons, self._exposure_us, self._gain_db, self._rngs[chunk], flat_out[frames]
                        )

            map_row_chunks(work, len(rows), blas_in_chunks=per_core)
            return
        photons = self._table.intensity(inputs, rows)
        photons *= scale
        roi = self._roi
        photons = photons.reshape(-1, *self._sensor_shape)[
            :, roi.row : roi.row + roi.height, roi.col : roi.col + roi.width
        ]
        out[...] = self._sensor.expose(photons, self._exposure_us, self._gain_db, self._rngs, self.dtype)

    def _expose_rows_torch(self, planes: np.ndarray, scale: np.ndarray | float, out: np.ndarray) -> None:
        """The fast path in torch on the table's device: the same physics, the noise from a torch generator
        seeded like the numpy streams."""
        import torch

        medium = self._table.torch_medium
        if self._torch_generator is None:
            self._torch_generator = torch_backend.make_generator(str(medium.device), self._seed)
        photons = medium.intensity_tensor(planes)
        photons *= torch.as_tensor(np.asarray(scale, np.float32), device=medium.device)
        dn = torch_backend.digitize(self._sensor, photons, self._exposure_us, self._gain_db, self._torch_generator)
        out.reshape(len(planes), -1)[...] = dn.cpu().numpy()

    def close(self) -> None:
        self.stop()
