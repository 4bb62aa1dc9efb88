"""The reconstruction view's worker: loads a trained run, renders targets as its training plan did, and runs
the net on each live speckle, all on a thread of its own (never on the UI thread: torch takes tens of
milliseconds, an import of it seconds)."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, QThread, Signal, Slot

from speckle_lab.gui.device_worker import BenchInfo
from speckle_lab.lab.reconstruction import PlacedTarget, Reconstructor, TargetPlacer, training_plan

log = logging.getLogger(__name__)


class ReconstructWorker(QObject):
    """Requests arrive as queued signals; results leave as signals. Lives on its own thread (`_thread`)."""

    load_requested = Signal(object, object, object)  # run dir, data file or None, the bench's BenchInfo
    target_requested = Signal(int, str, int)  # request id, source, index
    drawn_requested = Signal(int, object)  # request id, image (target shape)
    speckle_arrived = Signal(int, object)  # request id, camera frame

    loaded = Signal(object)  # dict: run, kind, epoch, data, target_shape, targets, exposure_us, laser_power_w
    load_failed = Signal(str)  # one line; no net is loaded any more (never the previous one in its stead)
    pattern_ready = Signal(int, object, str)  # request id, mirror pattern, description: for the DMD
    result = Signal(int, object)  # request id, Reconstruction
    failed = Signal(str)  # one line

    def __init__(self) -> None:
        super().__init__()
        self.reconstructor: Reconstructor | None = None
        self.placer: TargetPlacer | None = None
        self._targets: dict[int, np.ndarray] = {}
        self.load_requested.connect(self._load)
        self.target_requested.connect(self._target)
        self.drawn_requested.connect(self._drawn)
        self.speckle_arrived.connect(self._infer)
        # Not `self.thread`: that would hide QObject.thread(), which Qt code (and ours) may ask the worker.
        self._thread = QThread()
        self._thread.setObjectName("reconstruct")
        self.moveToThread(self._thread)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._thread.quit()
        self._thread.wait(5000)

    @Slot(object, object, object)
    def _load(self, run_dir: Path, data_path: Path | None, bench: BenchInfo) -> None:
        self.reconstructor, self.placer, self._targets = None, None, {}  # the old net goes first, whatever follows
        try:
            import torch

            torch.set_num_threads(1)  # a small net on one frame: one core, leaving the others to the bench
            reconstructor = Reconstructor(Path(run_dir))
            plan, data = training_plan(reconstructor.trained, data_path, Path(run_dir))
            self.reconstructor, self.placer = reconstructor, TargetPlacer(plan, bench.geometry)
        except Exception as error:
            message = f"loading {run_dir}: {_first_line(error)}"
            log.warning("reconstruction: %s", message)
            self.load_failed.emit(message)
            return
        log.info(
            "reconstruction: loaded %s (model %s, epoch %d), plan of %s",
            run_dir,
            reconstructor.kind,
            reconstructor.epoch,
            data,
        )
        self.loaded.emit(
            {
                "run": str(run_dir),
                "kind": reconstructor.kind,
                "epoch": reconstructor.epoch,
                "data": str(data),
                "target_shape": tuple(plan.target_shape),
                "targets": plan.targets,
                "exposure_us": float(plan.exposure_us),
                "laser_power_w": float(plan.laser_power_w),
            }
        )

    @Slot(int, str, int)
    def _target(self, request_id: int, source: str, index: int) -> None:
        if self.placer is None:
            return
        try:
            placed = self.placer.row(source, index)
        except Exception as error:
            self._fail(f"target #{index} of {source!r}", error)
            return
        self._send(request_id, placed)

    @Slot(int, object)
    def _drawn(self, request_id: int, image: np.ndarray) -> None:
        if self.placer is None:
            return
        try:
            placed = self.placer.drawn(image)
        except Exception as error:
            self._fail("the drawn target", error)
            return
        self._send(request_id, placed)

    def _send(self, request_id: int, placed: PlacedTarget) -> None:
        self._targets = {request_id: placed.target}  # only the latest request is scored
        self.pattern_ready.emit(request_id, placed.pattern, placed.description)

    @Slot(int, object)
    def _infer(self, request_id: int, speckle: np.ndarray) -> None:
        target = self._targets.get(request_id)
        if target is None or self.reconstructor is None:
            return
        try:
            result = self.reconstructor.reconstruct(speckle, target)
        except Exception as error:
            self._fail("reconstructing", error)
            return
        self.result.emit(request_id, result)

    def _fail(self, doing: str, error: BaseException) -> None:
        message = f"{doing}: {_first_line(error)}"
        log.warning("reconstruction: %s", message)
        self.failed.emit(message)


def _first_line(error: BaseException) -> str:
    return str(error).splitlines()[0] if str(error) else type(error).__name__
