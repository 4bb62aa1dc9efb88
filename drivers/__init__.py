"""Device contracts (`Laser`, `DMD`, `Camera`) and real backends. Knows nothing of simulation."""

from drivers.camera import Camera, Frame, FrameBlock, Roi, TriggerMode
from drivers.capabilities import PatternReadback, RegionOfInterest, TriggeredSequences
from drivers.device import Device, DeviceIdentity
from drivers.dmd import DMD, DmdGeometry
from drivers.errors import DeviceDisconnected, DeviceError, DeviceTimeout, LaserFault, OutOfRange
from drivers.laser import Laser, LaserStatus

__all__ = [
    "DMD",
    "Camera",
    "Device",
    "DeviceDisconnected",
    "DeviceError",
    "DeviceIdentity",
    "DeviceTimeout",
    "DmdGeometry",
    "Frame",
    "FrameBlock",
    "Laser",
    "LaserFault",
    "LaserStatus",
    "OutOfRange",
    "PatternReadback",
    "RegionOfInterest",
    "Roi",
    "TriggerMode",
    "TriggeredSequences",
]
