"""Metric definitions against scikit-image's SSIM and plain numpy formulas."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from skimage.metrics import structural_similarity

from speckle_lab.model.losses import mse_dice_loss, mse_npcc_loss, npcc_loss
from speckle_lab.model.metrics import (
    cosine_similarity,
    dice_soft,
    dice_thresholded,
    gaussian_taps,
    image_metrics,
    pcc,
    ssim,
)


def skimage_ssim(a: np.ndarray, b: np.ndarray) -> float:
    return structural_similarity(a, b, gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=1.0)


def image_pairs(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Random, noisy-copy and structured (bars, disc, gradient, blank) pairs, 32x40 in [0, 1]."""
    rng = np.random.default_rng(seed)
    rows, cols = np.mgrid[0:32, 0:40]
    disc = ((rows - 15) ** 2 + (cols - 22) ** 2 < 80).astype(float)
    bars = (cols // 4 % 2).astype(float)
    gradient = cols / 39.0
    noise = rng.random((32, 40))
    a = np.stack([noise, noise, disc, bars, gradient, np.zeros((32, 40)), disc])
    b = np.stack(
        [
            rng.random((32, 40)),
            np.clip(noise + 0.1 * rng.standard_normal((32, 40)), 0, 1),
            np.roll(disc, 3, axis=1) * 0.8,
            1 - bars,
            gradient**2,
            rng.random((32, 40)) * 0.2,
            disc,
        ]
    )
    return a, b


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_ssim_matches_scikit_image(dtype: torch.dtype) -> None:
    a, b = image_pairs()
    ours = ssim(torch.tensor(a, dtype=dtype), torch.tensor(b, dtype=dtype)).numpy()
    reference = np.array([skimage_ssim(x, y) for x, y in zip(a, b, strict=True)])
    np.testing.assert_allclose(ours, reference, atol=1e-4, rtol=0)
    assert ours[-1] == pytest.approx(1.0, abs=1e-6)


def test_ssim_accepts_channel_dimension_and_checks_size() -> None:
    a, b = image_pairs()
    flat = ssim(torch.tensor(a), torch.tensor(b))
    with_channel = ssim(torch.tensor(a)[:, None], torch.tensor(b)[:, None])
    torch.testing.assert_close(flat, with_channel)
    with pytest.raises(ValueError, match="at least 11x11"):
        ssim(torch.zeros(1, 8, 8), torch.zeros(1, 8, 8))


def test_gaussian_window_is_scipys() -> None:
    from scipy.ndimage import gaussian_filter1d

    impulse = np.zeros(21)
    impulse[10] = 1
    response = gaussian_filter1d(impulse, 1.5, truncate=3.5, mode="constant")  # skimage's window for sigma 1.5
    np.testing.assert_allclose(gaussian_taps(1.5, 11).numpy(), response[5:16], atol=1e-7)
    assert response[:5].sum() == response[16:].sum() == 0


def test_pcc_cosine_dice_match_numpy() -> None:
    a, b = image_pairs(1)
    a, b = a[:5], b[:5]  # skip the blank image, where PCC is undefined
    ta, tb = torch.tensor(a), torch.tensor(b)
    for i in range(len(a)):
        x, y = a[i].ravel(), b[i].ravel()
        assert pcc(ta, tb)[i].item() == pytest.approx(np.corrcoef(x, y)[0, 1], abs=1e-9)
        assert cosine_similarity(ta, tb)[i].item() == pytest.approx(x @ y / np.linalg.norm(x) / np.linalg.norm(y))
        assert dice_soft(ta, tb)[i].item() == pytest.approx(2 * (x * y).sum() / (x.sum() + y.sum()), abs=1e-9)
        mx, my = x > 0.5, y > 0.5
        assert dice_thresholded(ta, tb)[i].item() == pytest.approx(2 * (mx & my).sum() / (mx.sum() + my.sum()))


def test_degenerate_images() -> None:
    blank, flat = torch.zeros(1, 16, 16), torch.full((1, 16, 16), 0.3)
    assert pcc(flat, flat).item() == 0.0
    assert cosine_similarity(blank, flat).item() == 0.0
    assert dice_soft(blank, blank).item() == 1.0
    assert dice_thresholded(blank, blank).item() == 1.0
    assert set(image_metrics(flat, flat)) == {"pcc", "ssim", "cs", "dice", "dice_thresholded"}


def test_soft_dice_cannot_be_raised_by_leaving_the_unit_interval() -> None:
    """An unsquashed prediction (the physics-first net's) scores as its clipped self: going negative on the
    background or beyond 1 on the target would otherwise raise Dice without a better reconstruction."""
    target = torch.zeros(1, 8, 8)
    target[0, 2:6, 2:6] = 1.0
    honest = 0.8 * target + 0.1
    cheat = torch.where(target > 0, torch.full_like(target, 3.0), torch.full_like(target, -0.5))
    assert dice_soft(cheat, target).item() == pytest.approx(dice_soft(cheat.clamp(0, 1), target).item())
    assert dice_soft(cheat, target).item() == pytest.approx(1.0)  # clipped, the cheat is the target itself
    assert dice_soft(honest - 0.3, target).item() == pytest.approx(dice_soft((honest - 0.3).clamp(0, 1), target).item())


def test_losses() -> None:
    a, b = image_pairs(2)
    pred, target = torch.tensor(a[:5]), torch.tensor(b[:5])
    mse = float(((a[:5] - b[:5]) ** 2).mean())
    dice = dice_soft(pred, target).mean().item()
    assert mse_dice_loss(pred, target, 0.3).item() == pytest.approx(0.3 * mse + 0.7 * (1 - dice))
    assert mse_dice_loss(pred, target, 1.0).item() == pytest.approx(mse)
    assert npcc_loss(pred, target).item() == pytest.approx(-pcc(pred, target).mean().item())
    r = pcc(pred, target).mean().item()
    assert mse_npcc_loss(pred, target, 0.3).item() == pytest.approx(0.3 * mse + 0.7 * (1 - r))
