"""The one ridge solver: it recovers a known linear map, chooses a sane strength by leave-one-out on a problem of
known noise, and is what the baseline and the probes both use."""

from __future__ import annotations

import numpy as np
import pytest

from speckle_lab.model.analysis.probes import fit_ridge_probe
from speckle_lab.model.ridge import ALPHA_GRID, data_scale, fit_linear, fit_ridge, standardise_frames


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


def test_the_chosen_strength_is_the_bayes_optimal_one_on_a_known_noise_problem() -> None:
    """y = x w + noise with w ~ N(0, tau^2) and noise ~ N(0, sigma^2): the posterior mean is ridge with strength
    sigma^2 / tau^2 (in units of x^2). Leave-one-out lands within one half-decade step of the grid of it;
    pure noise is shrunk hard, and a noise-free map barely at all."""
    rng = np.random.default_rng(2)
    n, p, q, tau, sigma = 300, 60, 16, 0.1, 1.0
    x = rng.normal(size=(n, p))
    w = tau * rng.normal(size=(p, q))
    fit = fit_linear(x, x @ w + sigma * rng.normal(size=(n, q)))
    assert abs(np.log10(fit.alpha / (sigma**2 / tau**2))) <= 0.5
    assert fit.alpha_relative == pytest.approx(fit.alpha / data_scale(x))
    assert fit_linear(x, rng.normal(size=(n, q))).alpha_relative >= 10
    assert fit_linear(x, x @ w).alpha_relative == min(ALPHA_GRID)


def test_the_baseline_and_the_probes_use_the_one_solver() -> None:
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(80, 12)), rng.normal(size=(80, 3))
    fit = fit_linear(x, y)
    baseline = fit_ridge(x, y.reshape(80, 3, 1), per_frame=False)
    np.testing.assert_allclose(baseline.weights, fit.weights)
    np.testing.assert_allclose(baseline.intercept, fit.intercept)
    probe = fit_ridge_probe(x, y)  # standardised features: the same solver on (x - mean) / std
    standardised = fit_linear((x - x.mean(axis=0)) / x.std(axis=0), y)
    np.testing.assert_allclose(probe.weights, standardised.weights)
    assert probe.alpha_relative == standardised.alpha_relative
