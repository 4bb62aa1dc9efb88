"""Per-position quality heat maps from the single-spot probe set: where each net's learned mapping is valid.

The probe windows (ROI-sized, tiling the active area, then the ROI and the other region themselves,
`design.probe_windows`) each show a lit disc at every position of the window; a net's reconstruction (in its
output frame, the window's) is compared (PCC) with the disc as shown in the window. The map over the active area
holds, at each position, the PCC of the probe centred there, from the last window in the list that covers it: a
position of the ROI is probed in the ROI's own window, where the net's output frame and the DMD agree."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from speckle_lab.acquisition.targets.probes import spot_image

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
    """float64 `[side, side]` PCC of the probe centred at each position, later windows overriding earlier ones
    (NaN where no probe is)."""
    from speckle_lab.lab.study.runner import pcc_per_frame

    heat = np.full((side, side), np.nan)
    for (top, left), speckle, target in windows:
        quality = pcc_per_frame(predict(speckle), target)
        rows, cols = spot_positions(target).T
        heat[top + rows, left + cols] = quality
    return heat


def region_mean(heat: np.ndarray, region: tuple[int, int, int, int]) -> float:
    top, left, height, width = region
    return float(np.nanmean(heat[top : top + height, left : left + width]))


def heat_maps(design, probes: dict[str, dict], net: Predict, ridge: Predict) -> dict:
    """U-Net and ridge maps over the active area, and their means in the ROI, the other region and the whole area."""
    windows = []
    for key, frames in probes.items():  # in the design's order: the aligned windows last
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
