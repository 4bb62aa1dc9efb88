"""Training configuration: one validated object, stored with every checkpoint so a run can be reproduced.

`TrainConfig.model` is the settings of one model kind, told apart by its `kind` field (a settings object
without one is the U-Net's): `ModelConfig` for the reference U-Net, `PhysicsConfig` for the physics-first net.
Each class's `kind` literal is the kind's name; `model/registry.py` maps the names to their implementations.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, model_validator

LossKind = Literal["mse_dice", "npcc", "mse_npcc"]
DeviceChoice = Literal["auto", "cpu", "cuda"]
NormalisationMode = Literal["dataset", "per_frame"]
DataMode = Literal["auto", "memory", "stream"]
Precision = Literal["auto", "bf16", "off"]
SelectionMetric = Literal["pcc", "dice"]  # model.metric_names.Metric values, checked by the tests


class ConvLayers(BaseModel):
    """A U-Net's size (the reference net's, or the physics-first net's refiner). The defaults are small enough
    to train several nets on two CPU cores in minutes."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)  # inf/NaN: refused
    #: the loss of a TrainConfig that names none, for this kind
    default_loss: ClassVar[LossKind] = "mse_dice"

    depth: int = Field(3, ge=1, le=6, description="resolution levels (depth - 1 poolings)")
    base_width: int = Field(16, ge=1, description="channels at the first level, doubled at each level down")
    kernel_size: int = Field(7, ge=1, description="odd convolution kernel size (7 as in the reference study)")
    batch_norm: bool = True

    @model_validator(mode="after")
    def _odd_kernel(self) -> ConvLayers:
        if self.kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be odd to keep the feature maps aligned, got {self.kernel_size}")
        return self


class ModelConfig(ConvLayers):
    """The reference U-Net from speckle to target (model/unet.py)."""

    kind: Literal["unet"] = "unet"
    working_shape: tuple[int, int] | None = Field(
        None, description="U-Net resolution (rows, cols); None: the target shape"
    )
    unshuffle_factor: int | None = Field(
        None, ge=1, le=16, description="speckle space-to-depth factor; None: chosen from the shapes"
    )


class PhysicsConfig(ConvLayers):
    """The physics-first net (model/physics.py): a dense linear stage from the standardised speckle to the
    target grid, initialised from the ridge solution of its training frames, then a U-Net of these layers on
    the target grid adding a residual. The U-Net fields size that refining U-Net."""

    default_loss: ClassVar[LossKind] = "mse_npcc"  # MSE + Dice trades validation PCC for Dice (docs/models.md)

    kind: Literal["physics"] = "physics"
    max_dense_weights: int = Field(
        2**26,
        ge=1,
        description="weights of the dense stage at most: the camera is area-pooled by the smallest integer "
        "factor that keeps (pooled camera pixels) x (target pixels) within it",
    )
    dense_lr_factor: float = Field(
        0.01, gt=0, description="the dense stage's Adam learning rate is lr times this (the refiner's is lr)"
    )


def kind_name(settings_class: type[ConvLayers]) -> str:
    """The name of a model kind: the default of its settings class's `kind` literal."""
    return settings_class.model_fields["kind"].default


def _kind_of(settings: Any) -> str:
    """The discriminator of the model settings: their `kind`, the U-Net's when absent (runs before kinds)."""
    if isinstance(settings, dict):
        return settings.get("kind", kind_name(ModelConfig))
    return getattr(settings, "kind", kind_name(ModelConfig))


#: Every model kind's settings class, in the order the kinds are listed.
MODEL_SETTINGS: tuple[type[ConvLayers], ...] = (ModelConfig, PhysicsConfig)
SETTINGS_OF_KIND: dict[str, type[ConvLayers]] = {kind_name(s): s for s in MODEL_SETTINGS}

ModelSettings = Annotated[
    Annotated[ModelConfig, Tag(kind_name(ModelConfig))] | Annotated[PhysicsConfig, Tag(kind_name(PhysicsConfig))],
    Discriminator(_kind_of),
]


class TrainConfig(BaseModel):
    """Everything that decides a training run's outcome (and a few things that decide only its speed)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)  # inf/NaN: refused

    epochs: int = Field(50, ge=1)
    lr: float = Field(
        1e-4, gt=0, lt=3.4e37, description="Adam learning rate (from 3.4e37 on, Adam's first step overflows float32)"
    )
    batch_size: int = Field(32, ge=1)
    loss: LossKind = Field(
        "mse_dice",
        description="mse_dice: w * MSE + (1 - w) * soft-Dice; npcc: -PCC; mse_npcc: w * MSE + (1 - w) * (1 - PCC). "
        "Not given: the model kind's (mse_dice for the U-Net, mse_npcc for the physics-first net)",
    )
    mse_weight: float = Field(0.5, ge=0, le=1, description="w in the mse_dice and mse_npcc losses")
    selection_metric: SelectionMetric = Field(
        "pcc",
        description="validation metric that early stopping and the best checkpoint follow: pcc, the metric "
        "`evaluate` and the study report; dice, the reference study's",
    )
    patience_epochs: int | None = Field(
        10, ge=1, description="stop when the selection metric has not improved for this many epochs; None: never"
    )
    min_improvement: float = Field(0.0, ge=0, description="a smaller rise of the selection metric is no improvement")
    val_fraction: float = Field(0.1, ge=0, lt=1)
    test_fraction: float = Field(0.1, ge=0, lt=1)
    seed: int = Field(0, ge=0, lt=2**63, description="seeds the split, the initial net and the batch order")
    device: DeviceChoice = "auto"
    model: ModelSettings = ModelConfig()
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

    @model_validator(mode="before")
    @classmethod
    def _kind_default_loss(cls, data: Any) -> Any:
        """A configuration that names no loss gets its model kind's (recorded, so a run's loss is always stated)."""
        if isinstance(data, dict) and "loss" not in data:
            settings = SETTINGS_OF_KIND.get(_kind_of(data.get("model", {})))
            if settings is not None:  # an unknown kind is refused by the model field's own validation
                data = {**data, "loss": settings.default_loss}
        return data

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
        "min_improvement",
        "device",
        "mixed_precision",
        "pin_memory",
        "read_ahead_groups",
    }
)
