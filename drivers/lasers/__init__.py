"""Real laser backends. Their vendor packages (pyserial, pyvisa) are imported only when a port is opened."""

from drivers.lasers.cobolt import CoboltLaser
from drivers.lasers.obis import ObisLaser

__all__ = ["CoboltLaser", "ObisLaser"]
