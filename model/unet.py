"""U-Net from speckle to target, with the speckle and target resolutions independent of each other.

The speckle is brought to the U-Net's working resolution by space-to-depth (pixel unshuffle): every camera
pixel is kept as a channel, so no speckle information is averaged away, and the convolutions run at the
small working resolution. A speckle that is not an exact multiple is first area-resampled to the nearest
multiple. The decoder ends at the working resolution and its logits are resized to the target shape
(area average when shrinking, bilinear when growing) before the sigmoid, so the output is in [0, 1].
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as nnf
from torch import nn

from speckle_lab.model.config import ConvLayers, ModelConfig, kind_name
from speckle_lab.model.errors import ModelInputError
from speckle_lab.model.kind import Level, ModelKind, ShapeRecord

MAX_AUTO_UNSHUFFLE = 8  # 64 input channels: beyond this the first convolution dominates the cost


@dataclass(frozen=True)
class UNetShape(ShapeRecord):
    """The shapes a trained net was built for; stored with the checkpoint so it can be rebuilt."""

    speckle_shape: tuple[int, int]
    target_shape: tuple[int, int]
    working_shape: tuple[int, int]
    unshuffle_factor: int
    depth: int
    base_width: int
    kernel_size: int
    batch_norm: bool


def plan_shape(config: ModelConfig, speckle_shape: tuple[int, int], target_shape: tuple[int, int]) -> UNetShape:
    """Choose the working resolution and unshuffle factor for a given pair of image shapes."""
    working = tuple(config.working_shape or target_shape)
    if config.unshuffle_factor is not None:
        factor = config.unshuffle_factor
    else:
        factor = max(1, min(speckle_shape[0] // working[0], speckle_shape[1] // working[1], MAX_AUTO_UNSHUFFLE))
    if min(working) < 2 ** (config.depth - 1):
        raise ModelInputError(
            f"working shape {working} is too small for {config.depth} levels (2 ** (depth - 1) pixels)"
        )
    return UNetShape(
        speckle_shape=(int(speckle_shape[0]), int(speckle_shape[1])),
        target_shape=(int(target_shape[0]), int(target_shape[1])),
        working_shape=(int(working[0]), int(working[1])),
        unshuffle_factor=factor,
        depth=config.depth,
        base_width=config.base_width,
        kernel_size=config.kernel_size,
        batch_norm=config.batch_norm,
    )


def resize(images: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Area average when shrinking (exact for integer factors), bilinear when growing; identity when equal."""
    if tuple(images.shape[-2:]) == tuple(size):
        return images
    if images.shape[-2] >= size[0] and images.shape[-1] >= size[1]:
        return nnf.adaptive_avg_pool2d(images, size)
    return nnf.interpolate(images, size=size, mode="bilinear", align_corners=False, antialias=True)


class DoubleConv(nn.Sequential):
    """Two same-padded convolutions, each followed by (optional) batch norm and ReLU."""

    def __init__(self, c_in: int, c_out: int, kernel_size: int, batch_norm: bool) -> None:
        layers: list[nn.Module] = []
        for c in (c_in, c_out):
            layers.append(nn.Conv2d(c, c_out, kernel_size, padding=kernel_size // 2, bias=not batch_norm))
            if batch_norm:
                layers.append(nn.BatchNorm2d(c_out))
            layers.append(nn.ReLU(inplace=True))
        super().__init__(*layers)


class UNet(nn.Module):
    """(B, 1, H, W) speckle -> (B, 1, h, w) reconstruction in [0, 1]."""

    def __init__(self, shape: UNetShape) -> None:
        super().__init__()
        self.shape = shape
        f, k, bn = shape.unshuffle_factor, shape.kernel_size, shape.batch_norm
        widths = [shape.base_width * 2**level for level in range(shape.depth)]
        self.down = nn.ModuleList()
        c_in = f * f
        for w in widths:
            self.down.append(DoubleConv(c_in, w, k, bn))
            c_in = w
        self.up = nn.ModuleList()
        self.merge = nn.ModuleList()
        for w in reversed(widths[:-1]):
            self.up.append(nn.ConvTranspose2d(c_in, w, kernel_size=2, stride=2))
            self.merge.append(DoubleConv(2 * w, w, k, bn))
            c_in = w
        self.head = nn.Conv2d(c_in, 1, kernel_size=1)

    def _to_working(self, speckle: torch.Tensor) -> torch.Tensor:
        f = self.shape.unshuffle_factor
        x = resize(speckle, (f * self.shape.working_shape[0], f * self.shape.working_shape[1]))
        return nnf.pixel_unshuffle(x, f) if f > 1 else x

    def forward(self, speckle: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(resize(self.logits(speckle), self.shape.target_shape))

    def logits(self, speckle: torch.Tensor) -> torch.Tensor:
        """The output convolution's maps at the working resolution, before resizing and the sigmoid."""
        x = self._to_working(speckle)
        skips = []
        for level, block in enumerate(self.down):
            if level:
                x = nnf.max_pool2d(x, 2)
            x = block(x)
            skips.append(x)
        skips.pop()
        for up, merge in zip(self.up, self.merge, strict=True):
            skip = skips.pop()
            x = up(x, output_size=skip.shape[-2:])
            x = merge(torch.cat([skip, x], dim=1))
        return self.head(x)

    def levels(self, prefix: str = "") -> list[Level]:
        """`enc0` .. `enc{depth-1}` (the last is the bottleneck), then `dec0` .. `dec{depth-2}` (after each skip
        merge, coarse to fine): the order the data flows through them."""
        levels = [Level(f"{prefix}enc{i}", block) for i, block in enumerate(self.down)]
        return levels + [Level(f"{prefix}dec{i}", block) for i, block in enumerate(self.merge)]


def build_unet(config: ModelConfig, speckle_shape: tuple[int, int], target_shape: tuple[int, int]) -> UNet:
    return UNet(plan_shape(config, speckle_shape, target_shape))


class UNetKind(ModelKind):
    """The reference U-Net as a model kind: random (seeded) initial weights, one learning rate."""

    name = kind_name(ModelConfig)

    def plan(self, settings: ConvLayers, speckle_shape: tuple[int, int], target_shape: tuple[int, int]) -> UNetShape:
        if not isinstance(settings, ModelConfig):
            raise TypeError(f"the U-Net is planned from ModelConfig settings, not {type(settings).__name__}")
        return plan_shape(settings, speckle_shape, target_shape)

    def arch_from_dict(self, arch: dict) -> UNetShape:
        return UNetShape.from_dict(arch)

    def build(self, arch: UNetShape) -> UNet:  # type: ignore[override]
        return UNet(arch)


KIND = UNetKind()
