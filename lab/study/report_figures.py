"""The study's figures: every training set as the DMD showed it, each method's reconstructions side by side,
the single-spot maps beside the oracle's, the learning curves and the one-figure summary."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from speckle_lab.lab.study.frames import BenchFrames
from speckle_lab.lab.study.methods import MEAN_IMAGE, Fitted, in_batches, label


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _box(ax, region, colour: str) -> None:
    from matplotlib.patches import Rectangle

    top, left, h, w = (int(v) for v in region)
    ax.add_patch(Rectangle((left - 0.5, top - 0.5), w, h, fill=False, edgecolor=colour, linewidth=1.0))


def plot_training_sets(path: Path, sets: dict[str, BenchFrames], labels: dict[str, str], n: int = 8) -> Path:
    """`n` frames of every training set as the DMD showed them (the whole active area, the region shown framed)."""
    plt = _pyplot()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig, axes = plt.subplots(len(sets), n, figsize=(1.3 * n, 1.45 * len(sets)), squeeze=False)
    for row, (key, frames) in enumerate(sets.items()):
        pick = np.linspace(0, len(frames) - 1, n).round().astype(int)
        for col, i in enumerate(pick):
            ax = axes[row, col]
            ax.imshow(frames.dmd[i], vmin=0, vmax=1, cmap="gray")
            _box(ax, frames.boxes[i], "tab:red")
            ax.set_xticks([])
            ax.set_yticks([])
        axes[row, 0].set_ylabel(labels.get(key, key), fontsize=6, rotation=0, ha="right", va="center")
    fig.suptitle("Training sets as the DMD showed them (red: the region the target was shown in)", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def plot_examples(
    figures: Path, condition: str, key: str, fitted: dict[str, Fitted], tests: dict[str, BenchFrames], n: int
) -> None:
    """Per test set: the DMD image, then every method's whole-area reconstruction, for `n` frames."""
    plt = _pyplot()
    figures.mkdir(parents=True, exist_ok=True)
    shown = [name for name in fitted if name != MEAN_IMAGE]
    for test, frames in tests.items():
        pick = np.linspace(0, len(frames) - 1, n).round().astype(int)
        recon = {name: in_batches(fitted[name].predict, frames.speckle[pick]) for name in shown}
        fig, axes = plt.subplots(n, 1 + len(shown), figsize=(1.4 * (1 + len(shown)), 1.4 * n), squeeze=False)
        for r, i in enumerate(pick):
            for c, (title, image) in enumerate(
                [("shown on the DMD", frames.dmd[i]), *((label(s), recon[s][r]) for s in shown)]
            ):
                ax = axes[r, c]
                ax.imshow(image, cmap="gray", vmin=0, vmax=max(1.0, float(np.max(image))) if c == 0 else None)
                _box(ax, frames.boxes[i], "tab:red")
                ax.set_xticks([])
                ax.set_yticks([])
                if r == 0:
                    ax.set_title(title, fontsize=7)
        fig.tight_layout()
        fig.savefig(figures / f"{condition}_{key}_on_{test}.png", dpi=80)
        plt.close(fig)


def plot_maps(path: Path, maps: dict[str, dict[str, np.ndarray]], regions: dict, title: str) -> Path:
    """Per method: its single-spot quality map and its agreement with the oracle (rows), regions framed."""
    plt = _pyplot()
    path.parent.mkdir(parents=True, exist_ok=True)
    names = list(maps)
    kinds = [k for k in ("quality", "agreement") if any(maps[n].get(k) is not None for n in names)]
    fig, axes = plt.subplots(len(kinds), len(names), figsize=(2.6 * len(names), 2.5 * len(kinds)), squeeze=False)
    for c, name in enumerate(names):
        for r, kind in enumerate(kinds):
            ax = axes[r, c]
            heat = maps[name].get(kind)
            if heat is None:
                ax.axis("off")
                continue
            im = ax.imshow(np.asarray(heat, float), vmin=-0.2, vmax=1.0, cmap="viridis")
            _box(ax, regions["roi"], "white")
            _box(ax, regions["other"], "red")
            ax.set_title(f"{label(name)}: {'spot PCC' if kind == 'quality' else 'agreement w. oracle'}", fontsize=7)
            ax.set_xticks([])
            ax.set_yticks([])
    fig.colorbar(im, ax=axes.ravel().tolist(), fraction=0.02)
    fig.suptitle(f"{title} (white: training region, red: other region)", fontsize=9)
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path


def plot_learning_curves(path: Path, curves: dict[str, dict[str, list[dict]]], labels: dict[str, str]) -> Path:
    """Validation PCC (whole area) against epoch, one panel per training set, one line per net."""
    plt = _pyplot()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig, axes = plt.subplots(1, len(curves), figsize=(2.8 * len(curves), 2.6), squeeze=False)
    for ax, (key, by_net) in zip(axes[0], curves.items(), strict=True):
        for net, history in by_net.items():
            epochs = [h["epoch"] for h in history]
            ax.plot(epochs, [h.get("val_pcc", np.nan) for h in history], marker=".", label=label(net))
        ax.set_title(labels.get(key, key), fontsize=7)
        ax.set_xlabel("epoch")
        ax.set_ylim(0, 1)
    axes[0, 0].set_ylabel("validation PCC (whole area)")
    axes[0, 0].legend(fontsize=6)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def plot_summary(path: Path, cells: list[tuple[str, dict[str, tuple[float, float]]]], methods: list[str]) -> Path:
    """The one-figure summary: for each (training set -> test) cell, every method's PCC (mean, spread)."""
    plt = _pyplot()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(max(6.0, 0.9 * len(cells)), 3.6))
    width = 0.8 / len(methods)
    x = np.arange(len(cells))
    for k, method in enumerate(methods):
        means = [cell[1].get(method, (np.nan, 0))[0] for cell in cells]
        spreads = [cell[1].get(method, (np.nan, 0))[1] for cell in cells]
        ax.bar(x + (k - (len(methods) - 1) / 2) * width, means, width, yerr=spreads, label=label(method), capsize=2)
    ax.set_xticks(x)
    ax.set_xticklabels([c[0] for c in cells], rotation=30, ha="right", fontsize=7)
    ax.set_ylabel("PCC over the region shown")
    ax.set_ylim(-0.2, 1.0)
    ax.axhline(0, color="black", linewidth=0.5)
    ax.legend(fontsize=7, ncol=len(methods))
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
