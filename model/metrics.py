"""Image-quality metrics of the field, per image over a batch: PCC, SSIM, cosine similarity, Dice.

Every function takes a prediction and a target of the same shape (B, ..., h, w) and returns one value per
image, shape (B,), so means and standard deviations over a test set are taken by the caller.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as nnf

from speckle_lab.model.errors import ModelInputError


def as_float(pred: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Both images in one floating dtype, so every metric accepts the same inputs (integer or bool targets too).

    The dtype is the promotion of the two (float32 with an integer target stays float32); two integer
    images are compared in the default float dtype.
    """
    if pred.shape != target.shape:
        raise ValueError(f"shapes differ: {tuple(pred.shape)} vs {tuple(target.shape)}")
    dtype = torch.promote_types(pred.dtype, target.dtype)
    if not dtype.is_floating_point:
        dtype = torch.get_default_dtype()
    return pred.to(dtype), target.to(dtype)


def _flat(images: torch.Tensor) -> torch.Tensor:
    return images.reshape(images.shape[0], -1)


def _peak(x: torch.Tensor) -> torch.Tensor:
    """Each row's largest magnitude (1 for an all-zero row), not differentiated: the metrics dividing by it are
    scale-invariant, so no absolute epsilon enters, and sums of squares neither underflow nor overflow."""
    peak = x.detach().abs().amax(dim=1, keepdim=True)
    return torch.where(peak > 0, peak, torch.ones_like(peak))


def _centred(x: torch.Tensor) -> torch.Tensor:
    """Rows minus their mean, scaled to unit peak, accurate for a spread of a few units in the last place.

    A float32 mean of values near 1000 is itself rounded by up to 3e-5, as large as the spread of a narrow
    image. So each row is first shifted by its own minimum (exact for values within a factor 2 of it), and the
    mean of the small residues is subtracted next; the means are taken of peak-scaled rows (no overflow).
    """
    shifted = x - x.detach().amin(dim=1, keepdim=True)
    scale = _peak(shifted)
    centred = shifted - (shifted / scale).mean(dim=1, keepdim=True) * scale
    return centred / _peak(centred)


def is_constant(x: torch.Tensor) -> torch.Tensor:
    """Per row: all values exactly equal (max == min). Exact in any dtype: an image whose spread is one
    unit in the last place is not flat, and a flat one is flat whatever its magnitude."""
    return x.amax(dim=1) == x.amin(dim=1)


def _norm(x: torch.Tensor) -> torch.Tensor:
    """Row norms with a finite gradient at zero (the rows here are unit-peak, so `tiny` never biases a value)."""
    return torch.sqrt((x * x).sum(dim=1).clamp_min(torch.finfo(x.dtype).tiny))


def pcc(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Pearson correlation coefficient per image; 0 where either image is constant (PCC undefined).

    Invariant to each image's gain and offset in any float dtype, with finite gradients everywhere.
    """
    pred, target = as_float(pred, target)
    raw_a, raw_b = _flat(pred), _flat(target)
    flat = is_constant(raw_a) | is_constant(raw_b)
    a, b = _centred(raw_a), _centred(raw_b)
    r = (a * b).sum(dim=1) / (_norm(a) * _norm(b))
    return torch.where(flat, torch.zeros_like(r), r.clamp(-1.0, 1.0))


def cosine_similarity(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """<a, b> / (|a| |b|) per image; 0 where either image is all zero. Invariant to each image's scale."""
    pred, target = as_float(pred, target)
    raw_a, raw_b = _flat(pred), _flat(target)
    zero = (raw_a == 0).all(dim=1) | (raw_b == 0).all(dim=1)
    a, b = raw_a / _peak(raw_a), raw_b / _peak(raw_b)
    cs = (a * b).sum(dim=1) / (_norm(a) * _norm(b))
    return torch.where(zero, torch.zeros_like(cs), cs.clamp(-1.0, 1.0))


def dice_soft(pred: torch.Tensor, target: torch.Tensor, smooth: float = 1e-6) -> torch.Tensor:
    """(2 sum(p t) + s) / (sum p + sum t + s) per image, for intensities in [0, 1]; 1 when both are empty.

    Values outside [0, 1] are clipped first: a prediction that is not squashed (the physics-first net adds a
    residual to a linear estimate) could otherwise raise Dice by going negative on the background (a smaller
    denominator) or beyond 1 on the target. Nothing changes for images in [0, 1] (the U-Net's sigmoid output).
    """
    pred, target = as_float(pred, target)
    a, b = _flat(pred).clamp(0.0, 1.0), _flat(target).clamp(0.0, 1.0)
    return (2 * (a * b).sum(dim=1) + smooth) / (a.sum(dim=1) + b.sum(dim=1) + smooth)


def dice_thresholded(pred: torch.Tensor, target: torch.Tensor, threshold: float = 0.5) -> torch.Tensor:
    """Dice of the binary masks (value > threshold); 1 when both masks are empty."""
    pred, target = as_float(pred, target)
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

    Variances as E[x^2] - mu^2 cancel catastrophically in float32 (and in TF32 convolutions on a GPU): SSIM
    reached 1.0005 for near-identical images. So the moments are taken in float64 (as scikit-image does) of
    images centred on their own mean (variances and covariance do not change; the means are added back), the
    variances are clipped at 0 and the map at 1 (SSIM <= 1 by Cauchy-Schwarz; only rounding could pass it).
    The result has the inputs' float dtype. Not differentiated in training, so float64 costs nothing there.
    """
    pred, target = as_float(pred, target)
    h, w = pred.shape[-2:]
    if min(h, w) < taps:
        raise ModelInputError(f"SSIM needs images of at least {taps}x{taps} pixels, got {h}x{w}")
    batch, out_dtype = pred.shape[0], pred.dtype
    work = torch.float64 if pred.device.type != "mps" else torch.float32  # MPS has no float64
    x = pred.reshape(-1, 1, h, w).to(work)
    y = target.reshape(-1, 1, h, w).to(work)
    m_x, m_y = x.mean(dim=(-2, -1), keepdim=True), y.mean(dim=(-2, -1), keepdim=True)
    x, y = x - m_x, y - m_y
    g = gaussian_taps(sigma, taps, work).to(x.device)
    stack = torch.cat([x, y, x * x, y * y, x * y], dim=1)  # one pass of the filter for all five moments
    stack = nnf.conv2d(stack, g.view(1, 1, taps, 1).expand(5, 1, taps, 1), groups=5)
    stack = nnf.conv2d(stack, g.view(1, 1, 1, taps).expand(5, 1, 1, taps), groups=5)
    dx, dy, e_xx, e_yy, e_xy = stack.unbind(dim=1)
    var_x, var_y = (e_xx - dx * dx).clamp_min(0), (e_yy - dy * dy).clamp_min(0)
    cov = e_xy - dx * dy
    mu_x, mu_y = dx + m_x[:, 0], dy + m_y[:, 0]
    c1, c2 = (k1 * data_range) ** 2, (k2 * data_range) ** 2
    num = (2 * mu_x * mu_y + c1) * (2 * cov + c2)
    den = (mu_x * mu_x + mu_y * mu_y + c1) * (var_x + var_y + c2)
    per_channel = (num / den).clamp_max(1.0).mean(dim=(-2, -1))
    return per_channel.reshape(batch, -1).mean(dim=1).to(out_dtype)


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
