"""Per-position quality heat maps from the single-spot probe set: where each net's learned mapping is valid.

The probe windows (ROI-sized, tiling the active area, `design.probe_windows`) each show a lit disc at every
position of the window; a net's reconstruction of a probe is compared (PCC) with the disc it was shown. The map
over the active area holds, at each position, the mean PCC of the probes centred there (windows overlap where the
side is no multiple of the window)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from acquisition.targets.probes import spot_image

Predict = Callable[[np.ndarray], np.ndarray]


def spot_positions(targets: np.ndarray, radius: int = 1) -> np.ndarray:
    """(row, col) `[n, 2]` in the window of each probe target `[n, size, size]` (the plan shows them in a seeded
    order): the disc that matches it exactly."""
    n, size, _ = targets.shape
    spots = np.stack([spot_image(size, r, c, radius) for r in range(size) for c in range(size)]).reshape(
        size * size, -1
    )
    flat = targets.reshape(n, -1).astype(np.float64)
    cosine = (flat @ spots.T) / np.maximum(np.linalg.norm(flat, axis=1)[:, None] * np.linalg.norm(spots, axis=1), 1e-12)
    best = cosine.argmax(axis=1)
    if not np.allclose(cosine[np.arange(n), best], 1.0, atol=1e-4):
        raise ValueError("a probe target is no single disc of the probe set")
    return np.stack(np.divmod(best, size), axis=1)


def quality_map(
    side: int, windows: list[tuple[tuple[int, int], np.ndarray, np.ndarray]], predict: Predict
) -> np.ndarray:
    """float64 `[side, side]` mean PCC of the probes centred at each position (NaN where none is)."""
    from lab.study.runner import pcc_per_frame

    total, count = np.zeros((side, side)), np.zeros((side, side))
    for (top, left), speckle, target in windows:
        quality = pcc_per_frame(predict(speckle), target)
        rows, cols = spot_positions(target).T
        np.add.at(total, (top + rows, left + cols), quality)
        np.add.at(count, (top + rows, left + cols), 1)
    with np.errstate(invalid="ignore"):
        return total / np.where(count > 0, count, np.nan)


def region_mean(heat: np.ndarray, region: tuple[int, int, int, int]) -> float:
    top, left, height, width = region
    return float(np.nanmean(heat[top : top + height, left : left + width]))


def heat_maps(design, probes: dict[str, dict], net: Predict, ridge: Predict) -> dict:
    """U-Net and ridge maps over the active area, and their means in the ROI, the other region and the whole area."""
    windows = []
    for key, frames in probes.items():
        top, left = (int(v) for v in key.removeprefix("probe_").split("_"))
        windows.append(((top, left), frames["speckle"], frames["target"]))
    out = {}
    for name, predict in (("unet", net), ("ridge", ridge)):
        heat = quality_map(design.side, windows, predict)
        out[name] = {
            "map": np.round(heat, 4).tolist(),
            **{f"mean_{region}": region_mean(heat, bounds) for region, bounds in design.regions.items()},
        }
    return out
