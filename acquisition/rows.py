"""From plan rows to what the DMD shows and what the file stores: patterns, targets, placement fields."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from speckle_lab.acquisition.plan import CapturePlan
from speckle_lab.acquisition.targets import (
    Placements,
    draw_placements,
    open_source,
    prepare,
    render_block,
    target_set_stats,
    to_dmd_levels,
)
from speckle_lab.acquisition.targets.selection import ChosenIndices
from speckle_lab.drivers import DmdGeometry

_STATS_SAMPLE = 500
_CACHED_TARGETS = 4096  # prepared targets kept (4096 of 64x64 float32: 64 MB)


@dataclass(frozen=True)
class RowBlock:
    levels: np.ndarray  # [frame, side, side], bool or uint8: what the DMD shows, one level per macropixel
    targets: np.ndarray  # [frame, row, col] float32 in [0, 1], as displayed
    target_index: np.ndarray  # [frame] int64
    fields: dict[str, np.ndarray]
    macropixels: np.ndarray  # [frame, side, side] float32: the DMD image at macropixel resolution
    geometry: DmdGeometry

    @property
    def patterns(self) -> np.ndarray:
        """Mirror patterns `[frame, mirror row, mirror col]` of `levels`, for showing one by hand (the engine
        hands the DMD the levels and the geometry)."""
        return self.geometry.to_mirrors(self.levels)


class RowMaker:
    """Deterministic: the same plan gives the same rows, so a resumed run continues exactly."""

    def __init__(self, plan: CapturePlan, geometry: DmdGeometry, mirror_shape: tuple[int, int]) -> None:
        if tuple(mirror_shape) != tuple(geometry.mirror_shape):
            raise ValueError(f"the DMD has {mirror_shape} mirrors but its layout says {geometry.mirror_shape}")
        self.plan = plan
        self.geometry = geometry
        self.source = open_source(plan.targets, seed=plan.seed)
        n_targets = plan.n_targets or plan.n_frames
        self.target_list = ChosenIndices(len(self.source), plan.target_offset + n_targets, plan.seed)
        self._offset = plan.target_offset
        self._spec = plan.placement_spec()
        self._placements = self._draw(0)
        self.binarize = None if plan.display == "gray" else plan.display
        # Prepared targets by target-list row, for plans that cycle through a list: one array, so a block
        # takes its targets in one indexing step. Rows past `_CACHED_TARGETS` are prepared each time.
        n_cached = min(n_targets, _CACHED_TARGETS)
        self._prepared = np.empty((n_cached, *plan.target_shape), np.float32)
        self._is_prepared = np.zeros(n_cached, bool)

    def _draw(self, n: int) -> Placements:
        plan = self.plan
        return draw_placements(self._spec, n, plan.seed, self.geometry.side_macropixels, plan.target_shape)

    def placements(self, rows: range) -> Placements:
        """Placements of `rows`: drawn lazily (the first k never depend on how many follow), so plans of
        any length cost memory only for the rows reached."""
        if rows.stop > len(self._placements):
            self._placements = self._draw(min(self.plan.n_frames, max(rows.stop, 2 * len(self._placements))))
        return self._placements.take(slice(rows.start, rows.stop))

    @property
    def frame_fields(self) -> dict[str, np.dtype]:
        fields = {name: values.dtype for name, values in self._placements.as_fields().items()}
        fields["source_index"] = np.dtype(np.int64)
        fields["exposure_us"] = np.dtype(np.float32)
        fields["laser_power_w"] = np.dtype(np.float32)
        return fields

    def prepared(self, list_row: int) -> np.ndarray:
        """The prepared target of one row of the target list."""
        raw = self.source.image(int(self.target_list[self._offset + list_row]))
        return prepare(raw, self.plan.target_shape)

    def _targets(self, target_index: np.ndarray) -> np.ndarray:
        cached = target_index < len(self._is_prepared)
        for i in np.unique(target_index[cached][~self._is_prepared[target_index[cached]]]):
            self._prepared[i] = self.prepared(int(i))
            self._is_prepared[i] = True
        if cached.all():
            return self._prepared[target_index]
        images = np.empty((len(target_index), *self.plan.target_shape), np.float32)
        images[cached] = self._prepared[target_index[cached]]
        for k in np.flatnonzero(~cached):
            images[k] = self.prepared(int(target_index[k]))
        return images

    def make(self, rows: range) -> RowBlock:
        target_index = self.plan.target_index(rows)
        images = self._targets(target_index)
        placements = self.placements(rows)
        macropixels, displayed = render_block(images, placements, None, self.geometry.side_macropixels, self.binarize)
        levels = to_dmd_levels(macropixels, binary=self.binarize is not None)
        fields = placements.as_fields()
        fields["source_index"] = self.target_list[self._offset + target_index]
        return RowBlock(levels, displayed.astype(np.float32), target_index, fields, macropixels, self.geometry)

    def dark_levels(self, n: int) -> np.ndarray:
        side = self.geometry.side_macropixels
        return np.zeros((n, side, side), dtype=np.bool_)

    def reference_levels(self) -> np.ndarray:
        """A fixed random binary image over the whole active area, the same for every run of this plan."""
        side = self.geometry.side_macropixels
        return np.random.default_rng([self.plan.seed, 2]).random((1, side, side)) < 0.5

    def target_stats(self) -> dict:
        n = min(_STATS_SAMPLE, self.plan.n_frames)
        block = self.make(range(0, n))
        return target_set_stats(block.targets, block.macropixels, seed=self.plan.seed)
