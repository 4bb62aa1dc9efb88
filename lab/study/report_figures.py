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


def _mosaic(ax, tiles: list[list[np.ndarray]], boxes: list[list], gap: int = 2) -> tuple[int, int]:
    """Draw rows of equal-sized tiles as one image (one axes: matplotlib's per-axes cost stays out of the
    study's budget), each tile scaled to [0, 1] by its own range, `boxes[row][col]` framed in red; returns the
    (height, width) of a tile with its gap."""
    h, w = tiles[0][0].shape
    rows, cols = len(tiles), max(len(r) for r in tiles)
    canvas = np.ones(((h + gap) * rows - gap, (w + gap) * cols - gap))
    for r, row in enumerate(tiles):
        for c, tile in enumerate(row):
            t = np.asarray(tile, float)
            lo, hi = float(np.nanmin(t)), float(np.nanmax(t))
            canvas[r * (h + gap) : r * (h + gap) + h, c * (w + gap) : c * (w + gap) + w] = (
                (t - lo) / (hi - lo) if hi > lo else np.zeros_like(t)
            )
    ax.imshow(canvas, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    for r, row in enumerate(boxes):
        for c, box in enumerate(row):
            if box is not None:
                top, left, bh, bw = (int(v) for v in box)
                _box(ax, (r * (h + gap) + top, c * (w + gap) + left, bh, bw), "tab:red")
    ax.set_xticks([])
    ax.set_yticks([])
    return h + gap, w + gap


def plot_training_sets(path: Path, sets: dict[str, BenchFrames], labels: dict[str, str], n: int = 8) -> Path:
    """`n` frames of every set as the DMD showed them (the whole active area, the region shown framed in red)."""
    plt = _pyplot()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(1.2 * n + 2.5, 1.2 * len(sets) + 0.6))
    tiles, boxes = [], []
    for frames in sets.values():
        pick = np.linspace(0, len(frames) - 1, n).round().astype(int)
        tiles.append([frames.dmd[i] for i in pick])
        boxes.append([frames.boxes[i] for i in pick])
    step, _ = _mosaic(ax, tiles, boxes)
    ax.set_yticks([step * k + step / 2 for k in range(len(sets))])
    ax.set_yticklabels([labels.get(k, k) for k in sets], fontsize=7)
    ax.set_title("The sets as the DMD showed them (red: the region the target was shown in)", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def plot_examples(
    figures: Path, condition: str, key: str, fitted: dict[str, Fitted], tests: dict[str, BenchFrames], n: int
) -> None:
    """Per test set: the DMD image, then every method's whole-area reconstruction, for `n` frames (each tile
    scaled to its own range; the region shown framed in red)."""
    plt = _pyplot()
    figures.mkdir(parents=True, exist_ok=True)
    shown = [name for name in fitted if name != MEAN_IMAGE]
    for test, frames in tests.items():
        pick = np.linspace(0, len(frames) - 1, n).round().astype(int)
        recon = {name: in_batches(fitted[name].predict, frames.speckle[pick]) for name in shown}
        tiles = [[frames.dmd[i], *(recon[s][r] for s in shown)] for r, i in enumerate(pick)]
        boxes = [[frames.boxes[i]] * (1 + len(shown)) for i in pick]
        fig, ax = plt.subplots(figsize=(1.5 * (1 + len(shown)) + 0.4, 1.5 * n + 0.5))
        _, step = _mosaic(ax, tiles, boxes)
        ax.set_xticks([step * k + step / 2 for k in range(1 + len(shown))])
        ax.set_xticklabels(["shown on the DMD", *(label(s) for s in shown)], fontsize=7)
        ax.xaxis.tick_top()
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
    fig, ax = plt.subplots(figsize=(max(6.0, 0.9 * len(cells)), 4.0))
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
