"""The linear baseline recovers a known linear map and chooses its ridge strength on training frames only."""

from __future__ import annotations

import numpy as np

from speckle_lab.model.ridge import fit_ridge, standardise_frames


def test_ridge_recovers_a_known_linear_map() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 6, 5))  # 30 "pixels", more frames than pixels
    w = rng.normal(size=(30, 4))
    y = (x.reshape(300, -1) @ w + 0.5).reshape(300, 2, 2)
    model = fit_ridge(x, y, per_frame=False)
    x_new = rng.normal(size=(50, 6, 5))
    expected = (x_new.reshape(50, -1) @ w + 0.5).reshape(50, 2, 2)
    np.testing.assert_allclose(model.predict(x_new), expected, atol=1e-2)
    np.testing.assert_allclose(model.weights, w, atol=1e-2)


def test_ridge_with_fewer_frames_than_pixels_predicts_a_map_of_standardised_frames() -> None:
    rng = np.random.default_rng(1)
    x = rng.gamma(2.0, size=(120, 400))  # intensities, 400 pixels, 120 frames
    w = rng.normal(size=(400, 3)) * (rng.random((400, 1)) < 0.05)  # a sparse map
    y = standardise_frames(x) @ w
    model = fit_ridge(x * 7.0, y, per_frame=True)  # per-frame standardisation ignores the overall scale
    x_new = rng.gamma(2.0, size=(40, 400))
    pred = model.predict(x_new)
    truth = standardise_frames(x_new) @ w
    assert np.corrcoef(pred.ravel(), truth.ravel())[0, 1] > 0.5  # underdetermined, but well above chance
