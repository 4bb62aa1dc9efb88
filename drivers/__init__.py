"""Device contracts (`Laser`, `DMD`, `Camera`) and real backends. Knows nothing of simulation."""

from speckle_lab.drivers.camera import Camera, Frame, FrameBlock, Roi, TriggerMode
from speckle_lab.drivers.capabilities import PatternReadback, RegionOfInterest, TriggeredSequences
from speckle_lab.drivers.device import Device, DeviceIdentity
from speckle_lab.drivers.dmd import DMD, DmdGeometry
from speckle_lab.drivers.errors import (
    DeviceDisconnected,
    DeviceError,
    DeviceTimeout,
    EmissionVetoed,
    LaserFault,
    LaserOffFailed,
    OutOfRange,
)
from speckle_lab.drivers.laser import Laser, LaserStatus

__all__ = [
    "DMD",
    "Camera",
    "Device",
    "DeviceDisconnected",
    "DeviceError",
    "DeviceIdentity",
    "DeviceTimeout",
    "DmdGeometry",
    "EmissionVetoed",
    "Frame",
    "FrameBlock",
    "Laser",
    "LaserFault",
    "LaserOffFailed",
    "LaserStatus",
    "OutOfRange",
    "PatternReadback",
    "RegionOfInterest",
    "Roi",
    "TriggerMode",
    "TriggeredSequences",
]
