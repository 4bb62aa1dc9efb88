"""Matplotlib figures drawn on the Agg canvas directly: no display, no pyplot global state, safe off the GUI thread."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from speckle_lab.model.metric_names import VALIDATION_METRICS
from speckle_lab.model.metrics import pcc, ssim


def _save(fig: Figure, path: Path) -> Path:
    fig.tight_layout()
    FigureCanvasAgg(fig).print_png(str(path))
    return path


def plot_reconstructions(
    path: Path, target: np.ndarray, speckle: np.ndarray, recon: np.ndarray, frame_ids: np.ndarray
) -> Path:
    """One row per frame: target | speckle | reconstruction, with the reconstruction's PCC and SSIM."""
    n = len(target)
    fig = Figure(figsize=(6.6, 2.2 * n))
    axes = fig.subplots(n, 3, squeeze=False)
    t, r = torch.from_numpy(target), torch.from_numpy(recon)
    scores = pcc(r, t).numpy(), (ssim(r, t).numpy() if min(t.shape[-2:]) >= 11 else np.full(n, np.nan))
    for row in range(n):
        panels: tuple[tuple[np.ndarray, str, dict[str, float]], ...] = (
            (target[row], f"target (frame {frame_ids[row]})", dict(vmin=0, vmax=1)),
            (speckle[row], "speckle", {}),
            (recon[row], f"PCC {scores[0][row]:.2f}  SSIM {scores[1][row]:.2f}", dict(vmin=0, vmax=1)),
        )
        for col, (image, title, scale) in enumerate(panels):
            ax = axes[row, col]
            ax.imshow(image, cmap="gray", **scale)
            ax.set_title(title, fontsize=8)
            ax.set_axis_off()
    return _save(fig, path)


def plot_loss_curves(path: Path, history: list[dict]) -> Path:
    """Train and validation loss, and the validation metrics, per epoch."""
    epochs = [h["epoch"] for h in history]
    fig = Figure(figsize=(9, 3.2))
    ax_loss, ax_metric = fig.subplots(1, 2)
    ax_loss.plot(epochs, [h["train_loss"] for h in history], label="train")
    ax_loss.plot(epochs, [h["val_loss"] for h in history], label="validation")
    ax_loss.set_xlabel("epoch")
    ax_loss.set_ylabel("loss")
    ax_loss.legend()
    for metric in VALIDATION_METRICS[1:]:  # all but the loss, which has its own axes
        ax_metric.plot(epochs, [h[f"val_{metric}"] for h in history], label=metric.short)
    ax_metric.set_xlabel("epoch")
    ax_metric.set_ylabel("validation metric")
    ax_metric.legend()
    return _save(fig, path)
