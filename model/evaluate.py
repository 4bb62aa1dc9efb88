"""Evaluating a trained run on data: metric means and spreads over the test frames, and figures.

On the data it was trained on, a run is measured on its recorded test split only; on other data (another
target set, another DMD region) every frame is a test frame. `subset` makes the choice explicit.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from speckle_lab.model.checkpoint import check_same_run, load_checkpoint
from speckle_lab.model.config import TrainConfig
from speckle_lab.model.data import StreamedBatches
from speckle_lab.model.errors import ModelInputError
from speckle_lab.model.inference import collect_metrics
from speckle_lab.model.kind import rebuild
from speckle_lab.model.metric_names import EVALUATION_METRICS
from speckle_lab.model.normalisation import Normalisation
from speckle_lab.model.sources import FrameSource, same_data
from speckle_lab.model.split import Split
from speckle_lab.model.trainer import BEST_CHECKPOINT, LAST_CHECKPOINT, Data, open_data, resolve_device

REPORTED = tuple(str(metric) for metric in EVALUATION_METRICS)
EVAL_CHUNK_FRAMES = 256


@dataclass(frozen=True)
class TrainedModel:
    """A net of any kind ready for inference with the normalisation and split it was trained with."""

    model: nn.Module
    normalisation: Normalisation
    config: TrainConfig
    split: Split
    data: list[dict]
    epoch: int
    device: torch.device
    kind: str  # the model kind (model/registry.py)

    @torch.no_grad()
    def predict(self, speckle: np.ndarray) -> np.ndarray:
        """Camera frames (B, H, W) -> reconstructions (B, h, w): in [0, 1] for the U-Net; the physics-first net
        adds a residual to a linear estimate and may overshoot a little, as ridge does."""
        x = self.normalisation.apply(torch.from_numpy(np.asarray(speckle))).unsqueeze(1).to(self.device)
        self.model.eval()
        return self.model(x)[:, 0].cpu().numpy()


def load_trained(run_dir: str | Path, device: str = "auto", checkpoint: str = BEST_CHECKPOINT) -> TrainedModel:
    """The best net of a run (best validation epoch on its selection metric), or another of its checkpoints,
    rebuilt as the kind the checkpoint records, in eval mode."""
    ck = load_checkpoint(Path(run_dir) / checkpoint)
    if checkpoint != LAST_CHECKPOINT:
        check_same_run(Path(run_dir) / checkpoint, ck, Path(run_dir) / LAST_CHECKPOINT)
    dev = resolve_device(device)
    model = rebuild(str(ck["model_kind"]), ck["arch"])
    model.load_state_dict(ck["model"])
    return TrainedModel(
        model=model.to(dev).eval(),
        normalisation=Normalisation.from_dict(ck["normalisation"]),
        config=TrainConfig.model_validate(ck["config"]),
        split=Split.from_dict(ck["split"]),
        data=list(ck["data"]),
        epoch=int(ck["epoch"]),
        device=dev,
        kind=str(ck["model_kind"]),
    )


def _is_training_data(trained: TrainedModel, source: FrameSource) -> bool:
    return same_data(trained.data, source.describe())


def frames_to_evaluate(trained: TrainedModel, source: FrameSource, subset: str) -> tuple[np.ndarray, str]:
    """'test': the recorded test split; 'all': every frame; 'auto': the test split on the training data, else all."""
    if subset == "auto":
        subset = "test" if _is_training_data(trained, source) else "all"
    if subset == "test":
        if not _is_training_data(trained, source):
            raise ModelInputError(f"the run's test split refers to {trained.data}, not to {source.describe()}")
        return trained.split.test, "test split"
    if subset == "all":
        return np.arange(source.n_frames, dtype=np.int64), "all frames"
    raise ValueError(f"subset must be 'auto', 'test' or 'all', got {subset!r}")


def _batches(trained: TrainedModel, source: FrameSource, indices: np.ndarray, batch_size: int) -> StreamedBatches:
    return StreamedBatches(source, indices, trained.normalisation, batch_size, EVAL_CHUNK_FRAMES, 1, None)


def summarise(per_frame: dict[str, np.ndarray]) -> dict[str, dict[str, float]]:
    """Mean and (population) standard deviation over frames of each reported metric."""
    return {k: {"mean": float(np.mean(per_frame[k])), "std": float(np.std(per_frame[k]))} for k in REPORTED}


def evaluate(run_dir: str | Path, data: Data, subset: str = "auto", batch_size: int = 64, device: str = "auto") -> dict:
    """PCC, SSIM, cosine similarity and Dice of the run's best net over the test frames of `data`."""
    trained = load_trained(run_dir, device)
    with open_data(data) as source:
        indices, described = frames_to_evaluate(trained, source, subset)
        if len(indices) == 0:
            raise ModelInputError(f"no frames to evaluate ({described} of {source.describe()})")
        per_frame = collect_metrics(trained.model, _batches(trained, source, indices, batch_size), trained.device)
        data_record = source.describe()
    return {
        "run_dir": str(run_dir),
        "epoch": trained.epoch,
        "data": data_record,
        "subset": described,
        "n_frames": len(indices),
        "metrics": summarise(per_frame),
    }


def save_figures(
    run_dir: str | Path,
    data: Data,
    out_dir: str | Path | None = None,
    n_examples: int = 6,
    subset: str = "auto",
    prefix: str = "",
) -> list[Path]:
    """PNGs: target | speckle | reconstruction for a few evaluated frames, and the run's loss curves."""
    from speckle_lab.model.figures import (  # matplotlib only when figures are wanted
        plot_loss_curves,
        plot_reconstructions,
    )

    run_dir = Path(run_dir)
    out = Path(out_dir) if out_dir is not None else run_dir
    out.mkdir(parents=True, exist_ok=True)
    trained = load_trained(run_dir, "cpu")
    with open_data(data) as source:
        indices, _ = frames_to_evaluate(trained, source, subset)
        pick = indices[np.linspace(0, len(indices) - 1, min(n_examples, len(indices))).round().astype(int)]
        speckle = np.stack([source.read(int(i), int(i) + 1)[0][0] for i in pick])
        target = np.stack([source.read(int(i), int(i) + 1)[1][0] for i in pick])
    recon = trained.predict(speckle)
    paths = [plot_reconstructions(out / f"{prefix}reconstructions.png", target, speckle, recon, pick)]
    history = load_checkpoint(run_dir / LAST_CHECKPOINT, required=("history",))["history"]
    paths.append(plot_loss_curves(out / f"{prefix}loss_curves.png", history))
    return paths
