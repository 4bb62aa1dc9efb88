"""The oracle recovers a known linear system from uniformly random patterns, and the agreement maps read a
method's distance to it: 1 where it answers as the oracle does, near 0 where it answers something else."""

from __future__ import annotations

import numpy as np

from speckle_lab.acquisition.targets import open_source
from speckle_lab.acquisition.targets.probes import spot_image
from speckle_lab.lab.study.frames import BenchFrames
from speckle_lab.lab.study.oracle import agreement_maps, fit_oracle, spot_maps, spot_positions

SIDE, PIXELS = 8, 96


def frames_of(images: np.ndarray, system: np.ndarray, noise: float, seed: int) -> BenchFrames:
    """'Speckle' of a known linear system (camera = images @ system + noise) with whole-area labels."""
    rng = np.random.default_rng(seed)
    flat = images.reshape(len(images), -1)
    speckle = flat @ system + noise * rng.standard_normal((len(images), PIXELS))
    boxes = np.tile([0, 0, SIDE, SIDE], (len(images), 1))
    return BenchFrames(speckle.reshape(len(images), 8, 12), images, images.astype(np.float32), boxes)


def test_the_oracle_recovers_a_known_linear_system() -> None:
    """More camera pixels than macropixels, random binary training patterns (the `bernoulli` source): the fitted
    oracle inverts the system, so it reconstructs targets it never saw, of any kind."""
    rng = np.random.default_rng(1)
    system = rng.standard_normal((SIDE * SIDE, PIXELS))
    source = open_source(f"bernoulli:size={SIDE}", 3)
    patterns = np.stack([source.image(i) for i in range(600)])
    assert abs(patterns.mean() - 0.5) < 0.02 and set(np.unique(patterns)) == {0.0, 1.0}
    oracle = fit_oracle(frames_of(patterns, system, noise=0.01, seed=2), per_frame=False)
    spots = np.stack([spot_image(SIDE, r, c, 1) for r in range(SIDE) for c in range(SIDE)])
    probes = frames_of(spots, system, noise=0.01, seed=4)
    recon = oracle.predict(probes.speckle)
    assert np.abs(recon - spots).max() < 0.05  # the inverse, up to the noise and the ridge's shrinkage
    gray = rng.random((20, SIDE, SIDE)).astype(np.float32)  # another kind of target altogether
    np.testing.assert_allclose(oracle.predict(frames_of(gray, system, 0.01, 5).speckle), gray, atol=0.05)


def test_agreement_maps_read_the_distance_to_the_oracle() -> None:
    spots = np.stack([spot_image(SIDE, r, c, 1) for r in range(SIDE) for c in range(SIDE)])
    probes = frames_of(spots, np.eye(SIDE * SIDE, PIXELS), 0.0, 0)
    np.testing.assert_array_equal(spot_positions(probes)[9], [1, 1])
    left = np.arange(SIDE) < SIDE // 2
    half = spots * left[None, None, :]  # answers right in the left half, nothing in the right half
    noise = np.random.default_rng(7).random(spots.shape)
    maps = agreement_maps(probes, {"same": spots, "half": half + 0.01 * noise, "noise": noise}, oracle=spots)
    assert np.allclose(maps["same"], 1.0)
    assert np.nanmean(maps["half"][:, 1 : SIDE // 2 - 1]) > 0.95 and np.nanmean(maps["half"][:, -2:]) < 0.3
    assert abs(np.nanmean(maps["noise"])) < 0.2
    quality = spot_maps(probes, {"same": spots})["same"]
    assert np.allclose(quality, 1.0)
