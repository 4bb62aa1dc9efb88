"""The DMD test patterns live in `lab.patterns` (the bench session builds them); the Devices page names them."""

from speckle_lab.lab.patterns import PATTERN_NAMES, PatternKind, PatternRequest, make_pattern

__all__ = ["PATTERN_NAMES", "PatternKind", "PatternRequest", "make_pattern"]
