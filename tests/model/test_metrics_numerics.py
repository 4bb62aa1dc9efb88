"""The metrics in float32 as evaluation runs them: against scikit-image's SSIM and numpy/scipy's PCC and cosine
computed in float64, on random pairs and on real photographs (scikit-image's bundled images), plus the cases
that broke them: near-identical images (SSIM > 1), tiny and huge scales, narrow-spread images, integer targets.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.stats
import skimage.data
import torch
from scipy.ndimage import gaussian_filter
from skimage.metrics import structural_similarity

from speckle_lab.model.losses import npcc_loss
from speckle_lab.model.metrics import (
    cosine_similarity,
    dice_soft,
    dice_thresholded,
    image_metrics,
    is_constant,
    pcc,
    ssim,
)

DTYPES = [torch.float32, torch.float64]
#: Agreement demanded of our metrics with the float64 references, in float32 as in float64.
TOLERANCE = 1e-4


def reference_ssim(a: np.ndarray, b: np.ndarray) -> float:
    """scikit-image's SSIM on float64 copies (given float32 it computes in float32 and rounds like we did)."""
    return structural_similarity(
        a.astype(np.float64),
        b.astype(np.float64),
        gaussian_weights=True,
        sigma=1.5,
        use_sample_covariance=False,
        data_range=1.0,
    )


def reference_cosine(a: np.ndarray, b: np.ndarray) -> float:
    x, y = a.astype(np.float64).ravel(), b.astype(np.float64).ravel()
    return float(x @ y / np.linalg.norm(x) / np.linalg.norm(y))


def reference_pcc(a: np.ndarray, b: np.ndarray) -> float:
    return float(scipy.stats.pearsonr(a.astype(np.float64).ravel(), b.astype(np.float64).ravel()).statistic)


def random_pairs(seed: int = 0, size: int = 48) -> tuple[np.ndarray, np.ndarray]:
    """Independent, correlated, near-identical bright, and speckle-like (exponential) pairs in [0, 1]."""
    rng = np.random.default_rng(seed)
    shape = (size, size)
    noise = rng.random(shape)
    bright = 0.95 + 0.004 * rng.standard_normal(shape)
    speckle = np.clip(rng.exponential(0.2, shape), 0, 1)
    a = np.stack([noise, noise, bright, speckle, speckle])
    b = np.stack(
        [
            rng.random(shape),
            np.clip(0.6 * noise + 0.4 * rng.random(shape), 0, 1),
            bright + 1e-4 * rng.standard_normal(shape),
            np.clip(speckle + 0.02 * rng.standard_normal(shape), 0, 1),
            gaussian_filter(speckle, 1.0),
        ]
    )
    return a, b


def real_pairs() -> tuple[np.ndarray, np.ndarray]:
    """Photographs (camera, coins, moon, brick) against degraded copies: noise, blur, gain/offset, a shift."""
    rng = np.random.default_rng(1)
    images = [getattr(skimage.data, name)()[:128, :128] / 255.0 for name in ("camera", "coins", "moon", "brick")]
    a, b = [], []
    for image in images:
        for degraded in (
            np.clip(image + 0.05 * rng.standard_normal(image.shape), 0, 1),
            gaussian_filter(image, 2.0),
            0.7 * image + 0.2,
            np.roll(image, 2, axis=1),
            image,
        ):
            a.append(image)
            b.append(degraded)
    return np.stack(a), np.stack(b)


def agreement(dtype: torch.dtype, a: np.ndarray, b: np.ndarray) -> dict[str, float]:
    """Largest |ours - reference| per metric over the pairs, our metrics run in `dtype`."""
    ta, tb = torch.tensor(a, dtype=dtype), torch.tensor(b, dtype=dtype)
    ours = {"ssim": ssim(ta, tb), "pcc": pcc(ta, tb), "cs": cosine_similarity(ta, tb)}
    references = {"ssim": reference_ssim, "pcc": reference_pcc, "cs": reference_cosine}
    return {
        name: float(
            np.max(np.abs(ours[name].double().numpy() - [references[name](x, y) for x, y in zip(a, b, strict=True)]))
        )
        for name in ours
    }


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("pairs", [random_pairs, real_pairs])
def test_metrics_agree_with_float64_references(dtype: torch.dtype, pairs: object) -> None:
    a, b = pairs()  # type: ignore[operator]
    differences = agreement(dtype, a, b)
    assert max(differences.values()) < TOLERANCE, differences


@pytest.mark.parametrize("dtype", DTYPES)
def test_ssim_never_exceeds_one(dtype: torch.dtype) -> None:
    """Near-identical bright images: E[x^2] - mu^2 in float32 gave SSIM 1.0005 here."""
    rng = np.random.default_rng(2)
    a = 0.99 + 1e-4 * rng.standard_normal((8, 64, 64))
    b = a + 1e-5 * rng.standard_normal(a.shape)
    values = ssim(torch.tensor(a, dtype=dtype), torch.tensor(b, dtype=dtype))
    assert values.dtype == dtype
    assert float(values.max()) <= 1.0
    reference = [reference_ssim(x, y) for x, y in zip(a, b, strict=True)]
    np.testing.assert_allclose(values.double().numpy(), reference, atol=TOLERANCE, rtol=0)
    same = torch.tensor(a, dtype=dtype)
    assert torch.all(ssim(same, same) == 1.0)


@pytest.mark.parametrize("scale", [1e-30, 1e-8, 1e8, 1e30])
@pytest.mark.parametrize("dtype", DTYPES)
def test_pcc_and_cosine_are_scale_invariant(scale: float, dtype: torch.dtype) -> None:
    a, b = random_pairs(3)
    ta, tb = torch.tensor(a, dtype=dtype), torch.tensor(b, dtype=dtype)
    for metric in (pcc, cosine_similarity):
        torch.testing.assert_close(metric(ta * scale, tb * scale), metric(ta, tb), atol=1e-5, rtol=0)
        torch.testing.assert_close(metric(ta * scale, tb), metric(ta, tb), atol=1e-5, rtol=0)


def test_constant_detection_is_exact_in_float32() -> None:
    rng = np.random.default_rng(4)
    narrow = torch.tensor(1000 + 1e-4 * rng.standard_normal((1, 32, 32)), dtype=torch.float32)
    assert not is_constant(narrow.reshape(1, -1)).item()  # a few units in the last place of spread is data
    other = narrow + torch.tensor(1e-4 * rng.standard_normal((1, 32, 32)), dtype=torch.float32)
    expected = reference_pcc(narrow.numpy(), other.numpy())
    assert pcc(narrow, other).item() == pytest.approx(expected, abs=TOLERANCE)
    flat = torch.full((1, 32, 32), 0.3, dtype=torch.float32)
    assert is_constant(flat.reshape(1, -1)).item()
    assert pcc(flat, narrow).item() == 0.0 and pcc(narrow, flat).item() == 0.0


def test_all_metrics_accept_the_same_dtypes() -> None:
    """Integer, boolean and mixed-precision targets: every metric accepts them and gives the float answer."""
    rng = np.random.default_rng(5)
    pred = torch.tensor(rng.random((3, 16, 16)), dtype=torch.float32)
    levels = torch.tensor(rng.integers(0, 2, (3, 16, 16)))
    for target in (levels, levels.to(torch.uint8), levels.bool(), levels.to(torch.float64)):
        for metric in (pcc, cosine_similarity, ssim, dice_soft, dice_thresholded):
            got = metric(pred, target)
            expected = metric(pred, levels.to(torch.float32))
            torch.testing.assert_close(got.float(), expected, atol=1e-6, rtol=0)
    integers = image_metrics(levels, levels)  # two integer images: compared in the default float dtype
    assert all(value.dtype == torch.get_default_dtype() for value in integers.values())
    assert integers["pcc"].tolist() == pytest.approx([1.0] * 3)


def test_shape_mismatch_is_named() -> None:
    for metric in (pcc, cosine_similarity, ssim, dice_soft):
        with pytest.raises(ValueError, match=r"shapes differ: \(1, 16, 16\) vs \(1, 16, 15\)"):
            metric(torch.zeros(1, 16, 16), torch.zeros(1, 16, 15))


def test_npcc_gradient_is_finite_and_scale_free() -> None:
    rng = np.random.default_rng(6)
    target = torch.tensor(rng.random((2, 16, 16)), dtype=torch.float32)
    for scale in (1e-8, 1.0):
        pred = (torch.tensor(rng.random((2, 16, 16)), dtype=torch.float32) * scale).requires_grad_()
        npcc_loss(pred, target).backward()
        assert pred.grad is not None and torch.isfinite(pred.grad).all() and pred.grad.abs().sum() > 0
    flat = torch.full((1, 16, 16), 0.5, requires_grad=True)
    npcc_loss(flat, target[:1]).backward()
    assert flat.grad is not None and torch.isfinite(flat.grad).all()
