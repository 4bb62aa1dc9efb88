"""Where a study sits between "linear inversion is nearly perfect" and "there is too little to invert": the
unknowns per speckle mode, the photons per frame and the training frames per unknown.

- Speckle modes: a speckle of grain g pixels on N camera pixels has about pi r^2 N degrees of freedom, r the
  pupil radius in cycles per pixel (sim.medium.pupil_radius_for_grain): ~850 for 64x64 pixels at a 2-pixel
  grain. With more unknowns than modes, no inverse can recover every pattern; with far fewer, ridge is near its
  ceiling (issue 22: 12x12 targets, 144 unknowns against ~850 modes, ridge PCC 0.99 on digits).
- Photons: the simulated camera's mean photons per pixel are photons_per_joule x power x exposure x the
  relative intensity, which is the mean DMD level for time-multiplexed gray levels through a medium normalised
  to mean intensity 1 with every macropixel on (sim.table).
- Frames per unknown: the training frames (validation excluded) per macropixel of the target region.
"""

from __future__ import annotations

import numpy as np

from speckle_lab.lab.bench_config import BenchConfig
from speckle_lab.lab.study.results import Regime
from speckle_lab.sim.medium import circular_pupil, pupil_radius_for_grain


def speckle_modes(config: BenchConfig) -> int:
    shape = (config.camera.rows, config.camera.cols)
    return int(circular_pupil(shape, pupil_radius_for_grain(config.medium.grain_px)).sum())


def photons_per_pixel(config: BenchConfig, mean_level: float, power_w: float, exposure_us: float) -> float:
    return float(config.sim.photons_per_joule * power_w * exposure_us * 1e-6 * mean_level)


def regime(
    config: BenchConfig,
    target_size: int,
    side: int,
    training_frames: int,
    mean_levels: dict[str, float],
    power_w: float,
    exposure_us: float,
) -> Regime:
    """The regime of a study: `mean_levels` is each training set's mean DMD level over the active area."""
    modes = speckle_modes(config)
    pixels = config.camera.rows * config.camera.cols
    per_pixel = {k: photons_per_pixel(config, level, power_w, exposure_us) for k, level in mean_levels.items()}
    return Regime(
        target_unknowns=target_size * target_size,
        area_unknowns=side * side,
        speckle_modes=modes,
        camera_pixels=pixels,
        unknowns_per_mode=round(target_size * target_size / modes, 3),
        area_unknowns_per_mode=round(side * side / modes, 3),
        training_frames=training_frames,
        frames_per_unknown=round(training_frames / (target_size * target_size), 2),
        photons_per_frame={k: round(v * pixels, 0) for k, v in per_pixel.items()},
        photons_per_pixel={k: round(v, 1) for k, v in per_pixel.items()},
        laser_power_w=power_w,
        exposure_us=exposure_us,
    )


def regime_line(r: Regime) -> str:
    """One sentence for the report and the log."""
    photons = np.asarray(list(r.photons_per_pixel.values()), float)
    span = f"{photons.min():.0f}-{photons.max():.0f}" if len(photons) else "n/a"
    return (
        f"Regime: {r.target_unknowns} unknowns in the target region ({r.area_unknowns} over the active area the nets "
        f"reconstruct) against {r.speckle_modes} speckle modes on {r.camera_pixels} camera pixels: "
        f"{r.unknowns_per_mode:.2f} unknowns per mode ({r.area_unknowns_per_mode:.2f} for the whole area); "
        f"{r.training_frames} training frames, {r.frames_per_unknown:.1f} per unknown of the region; {span} photons "
        f"per camera pixel per frame (laser {r.laser_power_w:g} W, exposure {r.exposure_us:g} us)."
    )
