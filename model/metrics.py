"""Image-quality metrics of the field, per image over a batch: PCC, SSIM, cosine similarity, Dice.

Every function takes a prediction and a target of the same shape (B, ..., h, w) and returns one value per
image, shape (B,), so means and standard deviations over a test set are taken by the caller.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as nnf

EPS = 1e-12


def _flat(images: torch.Tensor) -> torch.Tensor:
    return images.reshape(images.shape[0], -1)


def _centred(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Centred rows and whether each row is constant up to rounding (its spread is below the dtype's resolution)."""
    centred = x - x.mean(dim=1, keepdim=True)
    resolution = torch.finfo(x.dtype).eps * 8 * x.abs().amax(dim=1)
    constant = centred.abs().amax(dim=1) <= resolution
    return centred, constant


def pcc(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Pearson correlation coefficient per image; 0 where either image is constant (PCC undefined)."""
    (a, flat_a), (b, flat_b) = _centred(_flat(pred)), _centred(_flat(target).to(pred.dtype))
    denom = torch.sqrt((a * a).sum(dim=1) * (b * b).sum(dim=1))
    r = (a * b).sum(dim=1) / denom.clamp_min(EPS)  # finite gradients even where masked below
    return torch.where(flat_a | flat_b, torch.zeros_like(r), r)


def cosine_similarity(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """<a, b> / (|a| |b|) per image; 0 where either image is all zero."""
    a, b = _flat(pred), _flat(target)
    return (a * b).sum(dim=1) / (a.norm(dim=1) * b.norm(dim=1)).clamp_min(EPS)


def dice_soft(pred: torch.Tensor, target: torch.Tensor, smooth: float = 1e-6) -> torch.Tensor:
    """(2 sum(p t) + s) / (sum p + sum t + s) per image, for intensities in [0, 1]; 1 when both are empty."""
    a, b = _flat(pred), _flat(target)
    return (2 * (a * b).sum(dim=1) + smooth) / (a.sum(dim=1) + b.sum(dim=1) + smooth)


def dice_thresholded(pred: torch.Tensor, target: torch.Tensor, threshold: float = 0.5) -> torch.Tensor:
    """Dice of the binary masks (value > threshold); 1 when both masks are empty."""
    a = (_flat(pred) > threshold).to(pred.dtype)
    b = (_flat(target) > threshold).to(pred.dtype)
    inter, total = (a * b).sum(dim=1), a.sum(dim=1) + b.sum(dim=1)
    return torch.where(total > 0, 2 * inter / total.clamp_min(1), torch.ones_like(total))


def gaussian_taps(sigma: float = 1.5, taps: int = 11, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Normalised 1-D Gaussian window, as scipy.ndimage.gaussian_filter uses it (truncate 3.5 sigma = 11 taps)."""
    x = torch.arange(taps, dtype=torch.float64) - (taps - 1) / 2
    g = torch.exp(-0.5 * (x / sigma) ** 2)
    return (g / g.sum()).to(dtype)


def ssim(
    pred: torch.Tensor,
    target: torch.Tensor,
    data_range: float = 1.0,
    sigma: float = 1.5,
    taps: int = 11,
    k1: float = 0.01,
    k2: float = 0.03,
) -> torch.Tensor:
    """Mean SSIM per image (Wang et al. 2004), Gaussian-weighted with population statistics.

    Equals scikit-image's structural_similarity(gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
    data_range=1): the SSIM map is averaged over the pixels whose window lies inside the image, which is
    exactly a 'valid' separable convolution, so no border padding convention is involved.
    """
    if pred.shape != target.shape:
        raise ValueError(f"shapes differ: {tuple(pred.shape)} vs {tuple(target.shape)}")
    h, w = pred.shape[-2:]
    if min(h, w) < taps:
        raise ValueError(f"SSIM needs images of at least {taps}x{taps} pixels, got {h}x{w}")
    batch = pred.shape[0]
    x = pred.reshape(-1, 1, h, w)
    y = target.reshape(-1, 1, h, w).to(x.dtype)
    g = gaussian_taps(sigma, taps, x.dtype).to(x.device)
    stack = torch.cat([x, y, x * x, y * y, x * y], dim=1)  # one pass of the filter for all five moments
    stack = nnf.conv2d(stack, g.view(1, 1, taps, 1).expand(5, 1, taps, 1), groups=5)
    stack = nnf.conv2d(stack, g.view(1, 1, 1, taps).expand(5, 1, 1, taps), groups=5)
    mu_x, mu_y, e_xx, e_yy, e_xy = stack.unbind(dim=1)
    var_x, var_y, cov = e_xx - mu_x * mu_x, e_yy - mu_y * mu_y, e_xy - mu_x * mu_y
    c1, c2 = (k1 * data_range) ** 2, (k2 * data_range) ** 2
    num = (2 * mu_x * mu_y + c1) * (2 * cov + c2)
    den = (mu_x * mu_x + mu_y * mu_y + c1) * (var_x + var_y + c2)
    per_channel = (num / den).mean(dim=(-2, -1))
    return per_channel.reshape(batch, -1).mean(dim=1)


def image_metrics(pred: torch.Tensor, target: torch.Tensor) -> dict[str, torch.Tensor]:
    """All reported metrics per image; SSIM only when the images are big enough for its window."""
    out = {
        "pcc": pcc(pred, target),
        "cs": cosine_similarity(pred, target),
        "dice": dice_soft(pred, target),
        "dice_thresholded": dice_thresholded(pred, target),
    }
    if min(pred.shape[-2:]) >= 11:
        out["ssim"] = ssim(pred, target)
    else:
        out["ssim"] = torch.full_like(out["pcc"], math.nan)
    return out
