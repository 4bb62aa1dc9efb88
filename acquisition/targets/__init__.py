"""Targets for the DMD: sources by spec string, preparation, seeded placement with intensity fluctuations,
and the diversity statistics of a target set. Imports `drivers` contracts at most; nothing downloads."""

from speckle_lab.acquisition.targets.base import ArraySource, TargetSource
from speckle_lab.acquisition.targets.diversity import (
    CoverageAccumulator,
    coverage_summary,
    intensity_entropy,
    intrinsic_dimension_mle,
    label_sharpness,
    spatial_coverage,
    target_set_stats,
)
from speckle_lab.acquisition.targets.errors import TargetSpecError
from speckle_lab.acquisition.targets.mix import MixedSource, mix_sources
from speckle_lab.acquisition.targets.placement import (
    Placements,
    PlacementSpec,
    displayed_target,
    draw_placements,
    named_region,
    place,
    place_block,
    render,
    render_block,
    to_dmd_levels,
)
from speckle_lab.acquisition.targets.prepare import prepare
from speckle_lab.acquisition.targets.selection import choose_indices
from speckle_lab.acquisition.targets.set_stats import source_stats
from speckle_lab.acquisition.targets.sources import READY_SPECS, list_sources, open_source

__all__ = [
    "READY_SPECS",
    "ArraySource",
    "CoverageAccumulator",
    "MixedSource",
    "PlacementSpec",
    "Placements",
    "TargetSource",
    "TargetSpecError",
    "choose_indices",
    "coverage_summary",
    "displayed_target",
    "draw_placements",
    "intensity_entropy",
    "intrinsic_dimension_mle",
    "label_sharpness",
    "list_sources",
    "mix_sources",
    "named_region",
    "open_source",
    "place",
    "place_block",
    "prepare",
    "render",
    "render_block",
    "source_stats",
    "spatial_coverage",
    "target_set_stats",
    "to_dmd_levels",
]
