"""What every model kind provides, so that training, checkpoints, evaluation, inference, the live
reconstruction and the analyses work with any kind (model/registry.py lists the kinds).

A kind's net is an `nn.Module` taking normalised speckle `(B, 1, H, W)` to a reconstruction `(B, 1, h, w)`
on the target grid, with two more members: `shape`, its architecture (a frozen dataclass with
`speckle_shape`, `target_shape` and `to_dict()`, stored in the checkpoint as `arch` to rebuild the net), and
`levels()`, the named internal stages whose outputs the analyses probe (model/analysis/features.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Protocol, Self, cast

import torch
from torch import nn

from speckle_lab.model.registry import model_kind

if TYPE_CHECKING:
    from speckle_lab.model.config import ConvLayers, TrainConfig
    from speckle_lab.model.data import PreparedData


class Arch(Protocol):
    # Read-only: the architectures are frozen dataclasses.
    @property
    def speckle_shape(self) -> tuple[int, int]: ...

    @property
    def target_shape(self) -> tuple[int, int]: ...

    def to_dict(self) -> dict: ...


class ShapeRecord:
    """For an architecture's frozen dataclass of shapes, stored with the checkpoint so the net can be rebuilt:
    to a JSON-ready dict (tuples as lists) and back (lists as tuples)."""

    def to_dict(self) -> dict:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(cast(Any, self)).items()}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Self:
        fields: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in d.items()}  # checkpoint data
        return cls(**fields)


@dataclass(frozen=True)
class Level:
    """One probed stage: the module whose output is taken, and how that output becomes maps (B, C, h, w)."""

    name: str
    module: nn.Module
    as_maps: Callable[[torch.Tensor], torch.Tensor] | None = None  # None: the output already is maps


class ModelKind:
    """A kind's recipe: plan an architecture for the data's shapes, build it, rebuild it from a checkpoint,
    group its parameters for the optimizer, and initialise it from the training frames where it needs to."""

    name: str
    #: True when `initialise` sets the starting point from the training frames: the trainer then validates the
    #: initialised net as epoch 0, so the best checkpoint is never worse than that starting point.
    data_initialised: bool = False

    def plan(self, settings: ConvLayers, speckle_shape: tuple[int, int], target_shape: tuple[int, int]) -> Arch:
        raise NotImplementedError

    def arch_from_dict(self, arch: dict) -> Arch:
        raise NotImplementedError

    def build(self, arch: Arch) -> nn.Module:
        raise NotImplementedError

    def parameter_groups(self, model: nn.Module, config: TrainConfig) -> list[dict]:
        """Adam's parameter groups; one group at the configured learning rate unless the kind says otherwise."""
        return [{"params": list(model.parameters())}]

    def initialise(self, model: nn.Module, data: PreparedData, config: TrainConfig) -> dict | None:
        """Set a data-driven starting point from the training frames (kinds with `data_initialised`); returns what
        was done, recorded in the checkpoints. Under data parallelism only rank 0 calls it: DistributedDataParallel
        hands rank 0's parameters to every rank when it wraps the net."""
        return None


def build_model(settings: ConvLayers, speckle_shape: tuple[int, int], target_shape: tuple[int, int]) -> nn.Module:
    """A fresh net of the settings' kind for the data's shapes."""
    kind = model_kind(settings.kind)  # type: ignore[attr-defined]
    return kind.build(kind.plan(settings, speckle_shape, target_shape))


def rebuild(kind_name: str, arch: dict) -> nn.Module:
    """The net of a checkpoint: its kind's architecture from the stored `arch`, weights not yet loaded."""
    kind = model_kind(kind_name)
    return kind.build(kind.arch_from_dict(arch))
