"""The methods a study compares, in one table: the nets (one per model kind the model registry offers: the
reference U-Net, the physics-first net), the linear baseline (ridge) and the constant baseline (the mean training
image). Every method is fitted on the same training rows of the same frames, with whole-area DMD images as
labels (lab/study/frames.py), and predicts whole-area images from speckle.

The seam: `net_kinds()` asks `speckle_lab.model.registry` which kinds exist, so a kind added there is trained,
scored and reported by every study without a change here.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from speckle_lab.lab.study.frames import BenchFrames

Predict = Callable[[np.ndarray], np.ndarray]
PREDICT_BATCH = 256
RIDGE, MEAN_IMAGE = "ridge", "mean_image"
LABELS = {
    "unet": "reference U-Net",
    "physics": "physics-first net",
    RIDGE: "ridge (linear)",
    MEAN_IMAGE: "mean training image",
}


def net_kinds() -> tuple[str, ...]:
    """The model kinds of the registry (model/registry.py), the reference U-Net first; just the U-Net in a
    build without kinds."""
    try:
        from speckle_lab.model.registry import kind_names
    except ImportError:  # a build before the model-kind registry: the U-Net is the one net
        return ("unet",)
    return tuple(kind_names())


def methods() -> tuple[str, ...]:
    """Every method a study reports, nets first, then ridge and the mean image."""
    return (*net_kinds(), RIDGE, MEAN_IMAGE)


def label(method: str) -> str:
    return LABELS.get(method, method)


def net_config(base, kind: str, layers: dict | None = None):
    """`base` (a TrainConfig) with the model settings of `kind`: the same layer sizes (`layers`: depth, width,
    kernel) for every kind, so the nets differ in what they are, not in how big. Each kind trains with its own
    loss (model/config.py: MSE + Dice for the U-Net, MSE + NPCC for the physics-first net, which MSE + Dice pulls
    away from its ridge start), so the base's loss is not carried over."""
    from speckle_lab.model.config import TrainConfig

    fields = {**(layers or {})}
    if kind != "unet" or "kind" in type(base.model).model_fields:
        fields["kind"] = kind
    settings = {k: v for k, v in base.model_dump().items() if k != "loss"}
    return TrainConfig.model_validate({**settings, "model": fields})


@dataclass
class Fitted:
    """A fitted method: how it predicts, and what its fit recorded (epochs, strength, seconds, curves)."""

    method: str
    predict: Predict
    info: dict = field(default_factory=dict)
    history: list[dict] = field(default_factory=list)


def in_batches(predict: Predict, speckle: np.ndarray) -> np.ndarray:
    return np.concatenate([predict(speckle[i : i + PREDICT_BATCH]) for i in range(0, len(speckle), PREDICT_BATCH)])


def train_net(kind: str, config, frames: BenchFrames, run_dir: Path, name: str, log=None) -> tuple[Fitted, np.ndarray]:
    """Train a net of `kind` on whole-area labels; (the fitted net, the training rows of its split)."""
    import shutil

    from speckle_lab.model.evaluate import load_trained
    from speckle_lab.model.sources import ArraySource
    from speckle_lab.model.trainer import train

    if run_dir.exists():
        shutil.rmtree(run_dir)
    started, cpu = time.monotonic(), time.process_time()
    source = ArraySource(frames.speckle, frames.dmd, name=name)
    result = train(config, source, run_dir, show_progress=False, progress=_epoch_log(log, kind, name))
    trained = load_trained(run_dir, "cpu")
    rows = np.sort(np.asarray(trained.split.train))
    info = {
        "epochs_completed": result.epochs_completed,
        "best_epoch": result.best_epoch,
        "stop_reason": result.stop_reason,
        "seconds": round(time.monotonic() - started, 1),
        "cpu_seconds": round(time.process_time() - cpu, 1),
        "device": result.device,
        "run_dir": str(run_dir),
    }
    return Fitted(kind, trained.predict, info, list(result.history)), rows


def _epoch_log(log, kind: str, name: str):
    if log is None:
        return None

    def on_event(event) -> None:
        if event.kind == "epoch":
            pcc = event.val.get("pcc", float("nan"))
            log(f"      {kind} on {name}: epoch {event.epoch}/{event.epochs}, val PCC {pcc:.3f}")

    return on_event


MAX_RIDGE_WEIGHTS = 2**26  # 512 MB of float64 weights: the reference scale pools its camera to stay within


def pool_factor(speckle_shape: tuple[int, ...], n_outputs: int, max_weights: int = MAX_RIDGE_WEIGHTS) -> int:
    """The smallest integer factor the camera is area-pooled by so that pooled pixels x outputs <= max_weights
    (1 for the standard study: 4096 x 1024; 4 at the reference scale: 65536 x 16384 would be 8.6 GB)."""
    rows, cols = speckle_shape
    factor = 1
    while (rows // factor) * (cols // factor) * n_outputs > max_weights and factor < min(rows, cols):
        factor += 1
    return factor


def pooled(speckle: np.ndarray, factor: int) -> np.ndarray:
    if factor == 1:
        return speckle
    n, rows, cols = speckle.shape
    r, c = rows // factor * factor, cols // factor * factor
    x = np.asarray(speckle[:, :r, :c], dtype=np.float32)
    return x.reshape(n, r // factor, factor, c // factor, factor).mean(axis=(2, 4))


def fit_ridge_on(frames: BenchFrames, rows: np.ndarray, per_frame: bool) -> Fitted:
    """The linear baseline (model.ridge.fit_ridge) from speckle to whole-area DMD images, on `rows` (the camera
    area-pooled when the weights would not fit `MAX_RIDGE_WEIGHTS`)."""
    from speckle_lab.model.ridge import fit_ridge

    started = time.monotonic()
    factor = pool_factor(frames.speckle.shape[1:], frames.dmd[0].size)
    model = fit_ridge(pooled(frames.speckle[rows], factor), frames.dmd[rows], per_frame=per_frame)
    info = {"ridge_lambda": float(model.lam), "seconds": round(time.monotonic() - started, 1), "pool": factor}
    return Fitted(RIDGE, lambda speckle: model.predict(pooled(speckle, factor)), info)


def mean_image(frames: BenchFrames, rows: np.ndarray) -> Fitted:
    """The constant baseline: the mean training DMD image, whatever the speckle."""
    mean = frames.dmd[rows].mean(axis=0)
    return Fitted(MEAN_IMAGE, lambda speckle: np.broadcast_to(mean, (len(speckle), *mean.shape)).copy())
