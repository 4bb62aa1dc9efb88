"""Training configuration: one validated object, stored with every checkpoint so a run can be reproduced."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

LossKind = Literal["mse_dice", "npcc"]
DeviceChoice = Literal["auto", "cpu", "cuda"]
NormalisationMode = Literal["dataset", "per_frame"]
DataMode = Literal["auto", "memory", "stream"]
Precision = Literal["auto", "bf16", "off"]


class ModelConfig(BaseModel):
    """U-Net size. The defaults are small enough to train several nets on two CPU cores in minutes."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)  # inf/NaN: refused

    depth: int = Field(3, ge=1, le=6, description="resolution levels (depth - 1 poolings)")
    base_width: int = Field(16, ge=1, description="channels at the first level, doubled at each level down")
    kernel_size: int = Field(7, ge=1, description="odd convolution kernel size (7 as in the reference study)")
    batch_norm: bool = True
    working_shape: tuple[int, int] | None = Field(
        None, description="U-Net resolution (rows, cols); None: the target shape"
    )
    unshuffle_factor: int | None = Field(
        None, ge=1, le=16, description="speckle space-to-depth factor; None: chosen from the shapes"
    )

    @model_validator(mode="after")
    def _odd_kernel(self) -> ModelConfig:
        if self.kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be odd to keep the feature maps aligned, got {self.kernel_size}")
        return self


class TrainConfig(BaseModel):
    """Everything that decides a training run's outcome (and a few things that decide only its speed)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)  # inf/NaN: refused

    epochs: int = Field(50, ge=1)
    lr: float = Field(
        1e-4, gt=0, lt=3.4e37, description="Adam learning rate (from 3.4e37 on, Adam's first step overflows float32)"
    )
    batch_size: int = Field(32, ge=1)
    loss: LossKind = "mse_dice"
    mse_weight: float = Field(0.5, ge=0, le=1, description="w in w * MSE + (1 - w) * soft-Dice loss")
    patience_epochs: int | None = Field(
        10, ge=1, description="stop when validation Dice has not improved for this many epochs; None: never"
    )
    min_dice_improvement: float = Field(0.0, ge=0, description="a smaller rise of validation Dice is no improvement")
    val_fraction: float = Field(0.1, ge=0, lt=1)
    test_fraction: float = Field(0.1, ge=0, lt=1)
    seed: int = Field(0, ge=0, lt=2**63, description="seeds the split, the initial net and the batch order")
    device: DeviceChoice = "auto"
    model: ModelConfig = ModelConfig()
    normalisation: NormalisationMode = "dataset"
    data_mode: DataMode = "auto"
    max_frames_in_memory: int | None = Field(None, ge=1, description="stream when there are more frames than this")
    memory_budget_mb: float = Field(2048.0, gt=0, description="stream when the float32 frames need more than this")
    chunk_frames: int = Field(256, ge=1, description="frames per read when streaming")
    shuffle_chunks: int = Field(4, ge=1, description="chunks shuffled together when streaming")
    read_ahead_groups: int = Field(
        1, ge=0, description="streamed groups read ahead on a worker thread while the net trains; 0: read in line"
    )
    mixed_precision: Precision = Field(
        "auto", description="bf16 autocast of the forward pass; auto: on for CUDA, off on the CPU"
    )
    pin_memory: bool = Field(True, description="page-locked batches and non-blocking copies on CUDA; no CPU effect")
    channels_last: bool = Field(True, description="channels_last memory format: a few % faster on CPU")
    compile_model: bool = Field(
        False, description="torch.compile the net: 13-70 s compiling for ~1 % over channels_last on CPU"
    )

    @model_validator(mode="after")
    def _fractions(self) -> TrainConfig:
        if self.val_fraction + self.test_fraction >= 1:
            raise ValueError("val_fraction + test_fraction must leave frames for training")
        return self


# Fields that may change when a stopped run is resumed: they do not change what the finished epochs computed.
# The precision follows the device (auto), so it may change with it; read-ahead and pinning change only speed.
RESUMABLE_CHANGES = frozenset(
    {
        "epochs",
        "patience_epochs",
        "min_dice_improvement",
        "device",
        "mixed_precision",
        "pin_memory",
        "read_ahead_groups",
    }
)
