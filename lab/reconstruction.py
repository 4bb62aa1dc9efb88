"""Live reconstruction: a trained net, the targets it should see, and their speckle on this bench.

`TargetPlacer` renders a target exactly as the capture engine would for the plan the net was trained on (same
size, placement and display), so the live speckle is comparable with the training data: a row of any target
source, or an image drawn by hand. `Reconstructor` runs the net on one camera frame and scores it against the
target shown (PCC, SSIM). Neither knows about Qt: the panel calls them from a worker thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from speckle_lab.acquisition.datafile import CaptureReader
from speckle_lab.acquisition.plan import CapturePlan, plan_from_dict
from speckle_lab.acquisition.rows import RowMaker
from speckle_lab.acquisition.targets.placement import render_block, to_dmd_levels
from speckle_lab.drivers import DmdGeometry


class ReconstructionError(ValueError):
    """The run or its data cannot be used for live reconstruction; the message says which and why."""


@dataclass(frozen=True)
class PlacedTarget:
    pattern: np.ndarray  # [mirror row, mirror col]: what the DMD is sent
    target: np.ndarray  # [row, col] float32 in [0, 1]: the target as displayed (what the net should output)
    description: str


@dataclass(frozen=True)
class Reconstruction:
    target: np.ndarray
    speckle: np.ndarray
    output: np.ndarray
    pcc: float
    ssim: float
    inference_s: float


#: The rows a target source offers the reconstruction view: rows 0 to TARGET_ROWS - 1 of a plan that long.
TARGET_ROWS = 1_000_000


class TargetPlacer:
    """Targets rendered with the plan of the net's training data, on this bench's DMD."""

    def __init__(self, plan: CapturePlan, geometry: DmdGeometry) -> None:
        self.plan = plan
        self.geometry = geometry
        self._rows: dict[str, RowMaker] = {}

    @property
    def target_shape(self) -> tuple[int, int]:
        return self.plan.target_shape

    def _maker(self, source: str) -> RowMaker:
        maker = self._rows.get(source)
        if maker is None:
            data = {**self.plan.to_dict(), "targets": source, "n_frames": TARGET_ROWS, "n_targets": None}
            data.pop("target_offset", None)
            plan = plan_from_dict(data, f"target source {source!r}")
            maker = RowMaker(plan, self.geometry, self.geometry.mirror_shape)
            self._rows = {source: maker}  # one source at a time: its cache is what matters
        return maker

    def row(self, source: str, index: int) -> PlacedTarget:
        """Row `index` of a plan like the training plan over `source`."""
        if not 0 <= index < TARGET_ROWS:
            raise ReconstructionError(f"target #{index}: expected 0 to {TARGET_ROWS - 1:,}")
        block = self._maker(source).make(range(index, index + 1))
        return PlacedTarget(block.patterns[0], block.targets[0], f"target #{index} of {source}")

    def drawn(self, image: np.ndarray) -> PlacedTarget:
        """A hand-drawn image (the plan's target shape, values in [0, 1]) placed like row 0 of the plan."""
        image = np.asarray(image, dtype=np.float32)
        if image.shape != self.target_shape:
            raise ReconstructionError(f"a drawn target must be {self.target_shape}, not {image.shape}")
        maker = self._maker(self.plan.targets)
        placements = maker.placements(range(0, 1))
        side = self.geometry.side_macropixels
        macropixels, displayed = render_block(image[None], placements, None, side, maker.binarize)
        levels = to_dmd_levels(macropixels, binary=maker.binarize is not None)
        return PlacedTarget(self.geometry.to_mirrors(levels)[0], displayed[0].astype(np.float32), "drawn target")


def training_plan(
    trained: object, data_path: Path | None = None, run_dir: Path | None = None
) -> tuple[CapturePlan, Path]:
    """The capture plan of the net's training data: from `data_path`, or from the first of the run's data
    files found (the run records file names: they are looked for beside the run folder, in it, and here)."""
    candidates = [Path(data_path)] if data_path is not None else []
    folders = [f for f in (run_dir, run_dir.parent if run_dir is not None else None, Path.cwd()) if f is not None]
    for record in getattr(trained, "data", []):
        name = record.get("name") if isinstance(record, dict) else None
        if name:
            candidates += [Path(name)] if Path(name).is_absolute() else [folder / name for folder in folders]
    for path in candidates:
        if path.is_file():
            try:
                with CaptureReader(path) as reader:
                    return plan_from_dict(dict(reader.plan), f"{path}: stored plan"), path
            except Exception as error:
                raise ReconstructionError(f"{path}: cannot read its plan: {error}") from error
    raise ReconstructionError(
        "the run's training data file was not found; choose the data file it was trained on "
        "(its plan places the targets)"
    )


class Reconstructor:
    """A trained run on CPU (live view rate) and its scores against the target shown."""

    def __init__(self, run_dir: Path, device: str = "cpu") -> None:
        from speckle_lab.model.evaluate import (
            load_trained,  # torch is imported here, on the worker thread, not at start-up
        )

        run_dir = Path(run_dir)
        if not run_dir.is_dir():
            raise ReconstructionError(f"{run_dir}: not a run folder")
        try:
            self.trained = load_trained(run_dir, device=device)
        except Exception as error:
            raise ReconstructionError(f"{run_dir}: cannot load the trained net: {error}") from error
        self.run_dir = run_dir

    @property
    def epoch(self) -> int:
        return self.trained.epoch

    @property
    def kind(self) -> str:
        """The model kind the checkpoint records (model/registry.py; a U-Net where it predates kinds)."""
        return self.trained.kind

    def reconstruct(self, speckle: np.ndarray, target: np.ndarray) -> Reconstruction:
        import time

        import torch

        from speckle_lab.model.metrics import pcc, ssim

        started = time.perf_counter()
        try:
            output = self.trained.predict(np.asarray(speckle)[None])[0]
        except RuntimeError as error:
            raise ReconstructionError(
                f"the net does not take this camera's {speckle.shape[0]}x{speckle.shape[1]} frames "
                f"(was the region of interest changed since the capture?): {str(error).splitlines()[0]}"
            ) from None
        elapsed = time.perf_counter() - started
        pred = torch.from_numpy(np.ascontiguousarray(output, dtype=np.float32))[None, None]
        truth = torch.from_numpy(np.ascontiguousarray(target, dtype=np.float32))[None, None]
        if pred.shape != truth.shape:
            raise ReconstructionError(
                f"the net outputs {tuple(pred.shape[2:])}, the target is {tuple(truth.shape[2:])}"
            )
        score_pcc = float(pcc(pred, truth)[0])
        score_ssim = float(ssim(pred, truth)[0]) if min(truth.shape[-2:]) >= 11 else float("nan")
        return Reconstruction(np.asarray(target), np.asarray(speckle), output, score_pcc, score_ssim, elapsed)
