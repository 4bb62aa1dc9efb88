"""The model kinds: the one table of their names, settings classes and implementations.

A kind's name is the `kind` literal of its settings class (model/config.py); this table adds where its
implementation lives (imported on first use, so listing the kinds for `--help` costs no torch import) and a
one-line summary. Checkpoints record the kind's name (`model_kind`); checkpoints written before there were
kinds (format version 1) hold the reference U-Net and load as it.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from speckle_lab.model.config import ConvLayers, ModelConfig, PhysicsConfig, kind_name
from speckle_lab.model.errors import ModelInputError

if TYPE_CHECKING:
    from speckle_lab.model.kind import ModelKind


@dataclass(frozen=True)
class KindEntry:
    settings: type[ConvLayers]
    module: str  # exposes KIND, the kind's ModelKind
    summary: str

    @property
    def name(self) -> str:
        return kind_name(self.settings)


_ENTRIES = (
    KindEntry(ModelConfig, "speckle_lab.model.unet", "reference U-Net from speckle to target (convolutions only)"),
    KindEntry(
        PhysicsConfig,
        "speckle_lab.model.physics",
        "physics-first: dense linear stage initialised from ridge, then a U-Net residual on the target grid",
    ),
)
KINDS: dict[str, KindEntry] = {entry.name: entry for entry in _ENTRIES}
DEFAULT_KIND = kind_name(ModelConfig)
#: The kind of a checkpoint written before kinds existed (format version 1): only U-Nets were trained then.
LEGACY_KIND = DEFAULT_KIND


def kind_names() -> tuple[str, ...]:
    return tuple(KINDS)


def entry(name: str) -> KindEntry:
    found = KINDS.get(name)
    if found is None:
        raise ModelInputError(f"model kind {name!r}: unknown; expected one of {', '.join(KINDS)}")
    return found


def model_kind(name: str) -> ModelKind:
    """The implementation of kind `name` (imports torch and the kind's module)."""
    return importlib.import_module(entry(name).module).KIND


def settings_for(name: str, **fields: object) -> ConvLayers:
    """Validated settings of kind `name` (defaults for what `fields` leaves out)."""
    return entry(name).settings.model_validate(fields)
