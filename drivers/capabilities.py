"""Optional device capabilities, as small runtime-checkable protocols.

The contracts (`Laser`, `DMD`, `Camera`) hold what every device of a family does. What only some devices
can do is a protocol here: a backend has the capability by having its members (no flag to set, no base
class to add), and callers ask `isinstance(device, Capability)` instead of probing with `getattr`.

- `TriggeredSequences`: a DMD whose on-board sequencer pulses a trigger output once per pattern, so a
  camera in hardware-trigger mode takes one frame per pattern (the fast "sequence" capture mode). A DMD
  without it (a display DMD on HDMI) is driven pattern by pattern ("step" mode).
- `PatternReadback`: a DMD that can say which pattern it shows now (for previews and tests); for the
  others, what was sent is all that is known.
- `RegionOfInterest`: a camera that reads out only part of its sensor.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    import numpy as np

    from speckle_lab.drivers.camera import Roi


@runtime_checkable
class TriggeredSequences(Protocol):
    """A DMD sequencer that triggers the camera: `load_sequence(..., trigger_out=True)` then `start` makes one
    trigger pulse per pattern on `trigger_out_line`."""

    @property
    def trigger_out_line(self) -> str:
        """Where the per-pattern trigger comes out (a connector or line name, for the operator)."""
        ...


@runtime_checkable
class PatternReadback(Protocol):
    """A DMD that reports the pattern on its mirrors now (None before the first)."""

    @property
    def shown_pattern(self) -> np.ndarray | None: ...


@runtime_checkable
class RegionOfInterest(Protocol):
    """A camera that reads out a rectangle of its sensor; `set_roi` refuses one outside the sensor
    (`Camera.check_roi`) with `OutOfRange`."""

    @property
    def roi(self) -> Roi: ...

    def set_roi(self, roi: Roi) -> None: ...
