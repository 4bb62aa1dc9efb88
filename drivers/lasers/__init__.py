"""Real laser backends. Their vendor packages (pyserial, pyvisa) are imported only when a port is opened."""

from speckle_lab.drivers.lasers.cobolt import CoboltLaser
from speckle_lab.drivers.lasers.obis import ObisLaser

__all__ = ["CoboltLaser", "ObisLaser"]
