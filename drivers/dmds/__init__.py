"""Real DMD backends. Each imports its vendor package (ALP4lib, PySide6) lazily, inside the constructor."""

from speckle_lab.drivers.dmds.alp4 import Alp4DMD
from speckle_lab.drivers.dmds.display import DisplayDMD

__all__ = ["Alp4DMD", "DisplayDMD"]
