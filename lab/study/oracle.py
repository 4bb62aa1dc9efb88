"""How close each method comes to the system's own mapping, a question only simulation can answer (the
reference study's first open question).

The oracle is ridge fitted on uniformly random binary patterns over the whole active area (`bernoulli`
targets): every macropixel on half of the time, independently, so every direction of the DMD's pattern space is
exercised equally and the fit is the best linear inverse of this bench that its frames allow, owing nothing to
any target set. Two readings:

- its own scores on the study's test sets are the prior-free linear reference of each cross-dataset cell, not
  a ceiling: intensity is quadratic in the pattern, so a linear fit depends on the patterns it linearises
  about; a method fitted on a target set exceeds the oracle on that kind of target, and the oracle itself
  improves with its frames (docs/study.md);
- each method's distance to it: every method and the oracle are shown the same single-spot probes (a lit disc
  at every position of the active area); at each position the agreement is the PCC of the method's
  reconstruction with the oracle's, over the whole area. The map says where a method's learned mapping is the
  system's (agreement 1) and where it is something else; `1 - mean agreement` is its distance.

`oracle_recovers` (tests/lab/test_study_oracle.py) checks the construction on a known linear system.
"""

from __future__ import annotations

import numpy as np

from speckle_lab.lab.study.frames import BenchFrames, pcc_rows
from speckle_lab.lab.study.methods import Fitted, Predict, fit_ridge_on, in_batches

ORACLE_TARGETS = "bernoulli"


def fit_oracle(frames: BenchFrames, per_frame: bool) -> Fitted:
    """Ridge on every frame of the random-pattern set (whole-area labels)."""
    fitted = fit_ridge_on(frames, np.arange(len(frames)), per_frame)
    fitted.method = "oracle"
    return fitted


def spot_positions(probes: BenchFrames) -> np.ndarray:
    """(row, col) `[n, 2]` of each probe's disc centre on the active area (the centroid of its lit macropixels;
    a disc cut by the border is centred off its nominal position, which the maps tolerate)."""
    lit = probes.dmd > 0.5
    rows, cols = np.indices(lit.shape[1:])
    count = np.maximum(lit.sum(axis=(1, 2)), 1)
    centre = np.stack([(lit * rows).sum(axis=(1, 2)) / count, (lit * cols).sum(axis=(1, 2)) / count], axis=1)
    return np.rint(centre).astype(int)


def spot_maps(probes: BenchFrames, responses: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Per position of the active area: the PCC of each method's response with the disc shown (`quality`)."""
    side = probes.side
    positions = spot_positions(probes)
    out = {}
    for name, response in responses.items():
        out[name] = _to_map(
            side, positions, pcc_rows(response.reshape(len(response), -1), probes.dmd.reshape(len(probes), -1))
        )
    return out


def agreement_maps(probes: BenchFrames, responses: dict[str, np.ndarray], oracle: np.ndarray) -> dict[str, np.ndarray]:
    """Per position: the PCC of each method's response with the oracle's to the same spot, over the whole area."""
    side = probes.side
    positions = spot_positions(probes)
    flat_oracle = oracle.reshape(len(oracle), -1)
    return {
        name: _to_map(side, positions, pcc_rows(response.reshape(len(response), -1), flat_oracle))
        for name, response in responses.items()
    }


def _to_map(side: int, positions: np.ndarray, values: np.ndarray) -> np.ndarray:
    total, count = np.zeros((side, side)), np.zeros((side, side))
    np.add.at(total, (positions[:, 0], positions[:, 1]), values)
    np.add.at(count, (positions[:, 0], positions[:, 1]), 1)
    with np.errstate(invalid="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def responses(predicts: dict[str, Predict], probes: BenchFrames) -> dict[str, np.ndarray]:
    return {name: in_batches(predict, probes.speckle) for name, predict in predicts.items()}


def region_mean(heat: np.ndarray, region: tuple[int, int, int, int]) -> float:
    top, left, height, width = region
    return float(np.nanmean(heat[top : top + height, left : left + width]))
