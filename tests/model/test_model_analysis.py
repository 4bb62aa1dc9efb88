"""The analysis machinery against known answers: probes on features linear in the target or random, the
intrinsic dimension of a representation of known dimension, the tunnel rule, and hooks that leave no trace."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from speckle_lab.model.analysis import (
    FeatureHooks,
    extract_features,
    fit_ridge_probe,
    probe_levels,
    representation_dimensions,
)
from speckle_lab.model.analysis.features import level_names
from speckle_lab.model.analysis.probes import curve_correlation, mean_pcc, tunnel_start
from speckle_lab.model.config import ModelConfig
from speckle_lab.model.unet import build_unet


def _split(x: np.ndarray, y: np.ndarray) -> tuple[tuple, tuple, tuple]:
    return (x[:300], y[:300]), (x[300:360], y[300:360]), (x[360:], y[360:])


def test_a_probe_reads_features_that_are_a_linear_function_of_the_target_and_not_random_ones() -> None:
    rng = np.random.default_rng(0)
    targets = rng.random((460, 36))  # 6x6 targets, independent pixels: the mean image predicts nothing
    mixing = rng.standard_normal((36, 80))
    linear = targets @ mixing + 0.01 * rng.standard_normal((460, 80))
    random = rng.standard_normal((460, 80))
    (xl, yl), (xl_val, yl_val), (xl_test, yl_test) = _split(linear, targets)
    probe = fit_ridge_probe(np.concatenate([xl, xl_val]), np.concatenate([yl, yl_val]))
    assert mean_pcc(probe.predict(xl_test), yl_test) > 0.99
    (xr, yr), (xr_val, yr_val), (xr_test, yr_test) = _split(random, targets)
    probe = fit_ridge_probe(np.concatenate([xr, xr_val]), np.concatenate([yr, yr_val]))
    assert abs(mean_pcc(probe.predict(xr_test), yr_test)) < 0.1
    # the same through the per-level machinery: one level linear, one random; OOD = another linear draw
    ood_targets = rng.random((100, 36))
    feats = {"enc0": linear, "enc1": random}
    curves = probe_levels(
        ({k: v[:300] for k, v in feats.items()}, targets[:300]),
        ({k: v[300:360] for k, v in feats.items()}, targets[300:360]),
        ({k: v[360:] for k, v in feats.items()}, targets[360:]),
        {"ood": ({"enc0": ood_targets @ mixing, "enc1": rng.standard_normal((100, 80))}, ood_targets)},
    )
    assert curves.id_pcc[0] > 0.99 and abs(curves.id_pcc[1]) < 0.1
    summary = curves.summary()["ood"]["ood"]
    assert summary["pcc"][0] > 0.99 and summary["peak_level"] == "enc0"
    assert summary["final_retained_pct"] < 10 and summary["tunnel_start"] == "enc1"


def test_d_repr_of_a_representation_with_known_intrinsic_dimension() -> None:
    rng = np.random.default_rng(1)
    latent = rng.standard_normal((1500, 3))
    flat = latent @ rng.standard_normal((3, 64))  # a 3-D linear subspace of 64 dimensions
    d = representation_dimensions({"flat": flat, "noise": rng.standard_normal((1500, 8))})
    assert 2.6 < d["flat"] < 3.4
    assert 6.0 < d["noise"] < 8.5  # MLE reads Gaussian noise of 8 dimensions a little low


def test_tunnel_rule_and_curve_correlation() -> None:
    levels = ["enc0", "enc1", "enc2", "dec0", "dec1"]
    assert tunnel_start(levels, [0.5, 0.8, 0.9, 0.6, 0.5]) == "dec0"
    assert tunnel_start(levels, [0.5, 0.8, 0.9, 0.6, 0.85]) is None  # recovers: no tunnel
    assert tunnel_start(levels, [0.9, 0.7, 0.9, 0.6, 0.5]) == "dec0"  # the fall after the (last) peak
    assert curve_correlation([1, 2, 3], [2, 4, 6]) == pytest.approx(1.0)
    assert curve_correlation([1, 1, 1], [2, 4, 6]) is None


def test_hooks_record_every_level_and_are_removed_even_after_an_error() -> None:
    torch.manual_seed(0)
    model = build_unet(ModelConfig(depth=3, base_width=4, kernel_size=3), (32, 32), (16, 16))
    assert level_names(model) == ["enc0", "enc1", "enc2", "dec0", "dec1"]
    x = torch.randn(5, 1, 32, 32)
    before = model.eval()(x).detach()
    model.train()
    feats, targets, outputs = extract_features(model, [(x, torch.rand(5, 1, 16, 16))], torch.device("cpu"), pool=2)
    widths = {"enc0": 4, "enc1": 8, "enc2": 16, "dec0": 8, "dec1": 4}
    assert {k: v.shape for k, v in feats.items()} == {k: (5, w * 4) for k, w in widths.items()}
    assert targets.shape == (5, 256) and np.allclose(outputs, before.reshape(5, -1).numpy(), atol=1e-6)
    model.eval()  # so the forward pass below leaves batch-norm statistics as they are
    with pytest.raises(RuntimeError), FeatureHooks(model):
        model(torch.randn(2, 1, 32, 32))
        raise RuntimeError("interrupted")
    assert all(not m._forward_hooks for m in model.modules())
    assert torch.allclose(model(x).detach(), before, atol=1e-6)
