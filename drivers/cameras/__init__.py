"""Real camera backends. Each module imports its vendor package lazily, inside the constructor."""

from speckle_lab.drivers.cameras.genicam import (
    PIXEL_FORMAT_BITS,
    GenICamCamera,
    find_tlsimu_cti,
    pixel_format_for_bit_depth,
)

__all__ = ["PIXEL_FORMAT_BITS", "GenICamCamera", "find_tlsimu_cti", "pixel_format_for_bit_depth"]
