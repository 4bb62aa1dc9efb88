"""The physics-first net: what linear optics can invert, then what convolutions can add.

Every camera pixel sees every macropixel of the DMD through the medium, so the map from speckle back to the
target is dense and position-dependent; a convolutional net with shared kernels has the wrong prior for it, and
a linear least-squares fit beats the U-Net on the demo's data (issue 22). So this net starts where ridge ends:

1. a dense linear stage from the normalised speckle (area-pooled when the camera is large, see below) to the
   target grid, initialised from the ridge solution of its own training frames (`model.ridge.fit_linear`, the
   project's one solver, on exactly the inputs the trainer feeds it, whatever the normalisation); before any
   training step it predicts what that ridge predicts;
2. a U-Net on the target grid that adds a residual to the linear estimate; its output convolution starts at
   zero, so the net starts as the ridge solution, and end-to-end training moves both stages from there.

The trainer validates the initialised net before the first epoch (its epoch 0) and keeps the best validation
epoch, so the saved net is never worse on validation than the ridge it started from. The output is the linear
estimate plus the residual, not squashed into [0, 1]: a sigmoid would change the ridge predictions it starts
from (ridge overshoots a little on both sides).

Memory: the dense stage holds (camera pixels) x (target pixels) weights, e.g. 64x64 x 12x12 = 590k. Beyond
`PhysicsConfig.max_dense_weights` (2^26 = 67M weights, 256 MB in float32, three times that with Adam's
moments) the camera is area-pooled by the smallest integer factor that fits: at the reference scale (256x256
camera, 64x64 target) by 2, to 128x128 pixels. Pooling rather than cropping: a pooled pixel sums the
intensity of a block of neighbouring pixels; while the block is no larger than a speckle grain those pixels
are strongly correlated and little is lost, whereas a crop throws whole grains (independent measurements)
away. The ridge initialisation needs the pooled training frames in float64: at most `INIT_MAX_VALUES` numbers,
a seeded subsample of the training frames beyond that.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import nn

from speckle_lab.model.config import ConvLayers, PhysicsConfig, kind_name
from speckle_lab.model.kind import Level, ModelKind, ShapeRecord
from speckle_lab.model.ridge import fit_linear
from speckle_lab.model.unet import UNet, UNetShape, resize

if TYPE_CHECKING:
    from speckle_lab.model.config import TrainConfig
    from speckle_lab.model.data import PreparedData

logger = logging.getLogger(__name__)

INIT_MAX_VALUES = 2**27  # frames x dense inputs in the ridge fit: 1 GiB of float64
INIT_CHUNK_FRAMES = 256


@dataclass(frozen=True)
class PhysicsShape(ShapeRecord):
    """The shapes a physics-first net was built for; stored with the checkpoint so it can be rebuilt."""

    speckle_shape: tuple[int, int]
    target_shape: tuple[int, int]
    dense_input_shape: tuple[int, int]  # the camera after area pooling: the dense stage's input grid
    depth: int
    base_width: int
    kernel_size: int
    batch_norm: bool

    @property
    def refiner_shape(self) -> UNetShape:
        """The residual U-Net: from the target grid to the target grid, no resampling."""
        return UNetShape(
            speckle_shape=self.target_shape,
            target_shape=self.target_shape,
            working_shape=self.target_shape,
            unshuffle_factor=1,
            depth=self.depth,
            base_width=self.base_width,
            kernel_size=self.kernel_size,
            batch_norm=self.batch_norm,
        )


def pooling_factor(speckle_shape: tuple[int, int], target_pixels: int, max_weights: int) -> int:
    """The smallest integer factor f with (H // f) * (W // f) * target_pixels <= max_weights."""
    rows, cols = speckle_shape
    for factor in range(1, max(rows, cols) + 1):
        if (rows // factor) * (cols // factor) * target_pixels <= max_weights:
            return factor
    raise ValueError(f"max_dense_weights {max_weights} is below one weight per target pixel ({target_pixels})")


def plan_physics(config: PhysicsConfig, speckle_shape: tuple[int, int], target_shape: tuple[int, int]) -> PhysicsShape:
    rows, cols = int(speckle_shape[0]), int(speckle_shape[1])
    h, w = int(target_shape[0]), int(target_shape[1])
    if min(h, w) < 2 ** (config.depth - 1):
        raise ValueError(
            f"target shape {(h, w)} is too small for a {config.depth}-level refining U-Net (2 ** (depth - 1) pixels)"
        )
    factor = pooling_factor((rows, cols), h * w, config.max_dense_weights)
    return PhysicsShape(
        speckle_shape=(rows, cols),
        target_shape=(h, w),
        dense_input_shape=(rows // factor, cols // factor),
        depth=config.depth,
        base_width=config.base_width,
        kernel_size=config.kernel_size,
        batch_norm=config.batch_norm,
    )


class PhysicsNet(nn.Module):
    """(B, 1, H, W) normalised speckle -> (B, 1, h, w): dense linear estimate + U-Net residual."""

    def __init__(self, shape: PhysicsShape) -> None:
        super().__init__()
        self.shape = shape
        n_in = shape.dense_input_shape[0] * shape.dense_input_shape[1]
        self.dense = nn.Linear(n_in, shape.target_shape[0] * shape.target_shape[1])
        self.refiner = UNet(shape.refiner_shape)
        nn.init.zeros_(self.refiner.head.weight)  # the residual starts at zero: the net starts as its linear stage
        assert self.refiner.head.bias is not None, "the U-Net's head is built with a bias"
        nn.init.zeros_(self.refiner.head.bias)

    def dense_input(self, speckle: torch.Tensor) -> torch.Tensor:
        """(B, 1, H, W) -> (B, pooled pixels): what the dense stage (and its ridge initialisation) sees."""
        return resize(speckle, self.shape.dense_input_shape).reshape(len(speckle), -1)

    def linear(self, speckle: torch.Tensor) -> torch.Tensor:
        """The dense stage's estimate, (B, 1, h, w)."""
        return self.dense(self.dense_input(speckle)).reshape(len(speckle), 1, *self.shape.target_shape)

    def forward(self, speckle: torch.Tensor) -> torch.Tensor:
        estimate = self.linear(speckle)
        return estimate + self.refiner.logits(estimate)

    def levels(self) -> list[Level]:
        """`linear` (the dense stage's estimate), then the refining U-Net's levels."""
        h, w = self.shape.target_shape
        linear = Level("linear", self.dense, lambda out: out.reshape(len(out), 1, h, w))
        return [linear, *self.refiner.levels()]


@torch.no_grad()
def dense_inputs_and_targets(
    model: PhysicsNet, data: PreparedData, rows: np.ndarray, device: torch.device
) -> tuple[np.ndarray, np.ndarray]:
    """The dense stage's inputs (normalised, pooled) and the flattened targets of the given frames, float64."""
    xs, ys = [], []
    for x, y in data.frames.batches(rows, INIT_CHUNK_FRAMES):
        xs.append(model.dense_input(x.to(device, torch.float32)).double().cpu().numpy())
        ys.append(y.reshape(len(y), -1).double().cpu().numpy())
    return np.concatenate(xs), np.concatenate(ys)


def initialise_from_ridge(model: PhysicsNet, data: PreparedData, seed: int) -> dict:
    """Fit ridge on the training frames' dense inputs and copy it into the dense stage."""
    started = time.perf_counter()
    rows = np.asarray(data.split.train, np.int64)
    n_inputs = model.dense.in_features
    limit = max(3, INIT_MAX_VALUES // n_inputs)
    if len(rows) > limit:
        rows = np.sort(np.random.default_rng(seed).choice(rows, limit, replace=False))
    device = model.dense.weight.device
    x, y = dense_inputs_and_targets(model, data, rows, device)
    fit = fit_linear(x, y)
    with torch.no_grad():
        model.dense.weight.copy_(torch.from_numpy(fit.weights.T).to(model.dense.weight))
        model.dense.bias.copy_(torch.from_numpy(fit.intercept).to(model.dense.bias))
    record = {
        "method": "ridge",
        "frames": len(rows),
        "dense_inputs": n_inputs,
        "alpha_relative": fit.alpha_relative,
        "seconds": round(time.perf_counter() - started, 3),
    }
    logger.info(
        "dense stage initialised from ridge on %d training frames x %d inputs (alpha %.3g relative) in %.1f s",
        *(record["frames"], n_inputs, fit.alpha_relative, record["seconds"]),
    )
    return record


class PhysicsKind(ModelKind):
    """The physics-first net as a model kind: ridge-initialised, the dense stage at its own learning rate."""

    name = kind_name(PhysicsConfig)
    data_initialised = True

    def plan(self, settings: ConvLayers, speckle_shape: tuple[int, int], target_shape: tuple[int, int]) -> PhysicsShape:
        if not isinstance(settings, PhysicsConfig):
            raise TypeError(
                f"the physics-first net is planned from PhysicsConfig settings, not {type(settings).__name__}"
            )
        return plan_physics(settings, speckle_shape, target_shape)

    def arch_from_dict(self, arch: dict) -> PhysicsShape:
        return PhysicsShape.from_dict(arch)

    def build(self, arch: PhysicsShape) -> PhysicsNet:  # type: ignore[override]
        return PhysicsNet(arch)

    def parameter_groups(self, model: nn.Module, config: TrainConfig) -> list[dict]:
        """Adam moves every weight by about lr per step whatever its gradient's size; summed over the thousands of
        inputs of the dense stage that would swamp the ridge solution at once, so the dense stage steps at
        lr * dense_lr_factor (the refiner at lr)."""
        net = _unwrap(model)
        settings = config.model
        factor = settings.dense_lr_factor if isinstance(settings, PhysicsConfig) else 1.0
        dense = list(net.dense.parameters())
        dense_ids = {id(p) for p in dense}
        rest = [p for p in net.parameters() if id(p) not in dense_ids]
        return [{"params": dense, "lr": config.lr * factor}, {"params": rest}]

    def initialise(self, model: nn.Module, data: PreparedData, config: TrainConfig) -> dict:
        return initialise_from_ridge(_unwrap(model), data, config.seed)


def _unwrap(model: nn.Module) -> PhysicsNet:
    net = getattr(model, "module", model)
    if not isinstance(net, PhysicsNet):
        raise TypeError(f"expected a PhysicsNet, got {type(net).__name__}")
    return net


KIND = PhysicsKind()
