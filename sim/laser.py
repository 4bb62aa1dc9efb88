"""A simulated CW laser: what it emits reaches the optical table's DMD."""

from __future__ import annotations

import threading

import numpy as np

from speckle_lab.drivers import DeviceIdentity, Laser, LaserFault, LaserStatus
from speckle_lab.sim.table import OpticalTable


class SimulatedLaser(Laser):
    """Emits `power_setpoint_w` onto the table while emission is on and no fault is present.

    `inject_fault` and `open_interlock` let tests and the GUI rehearse what a real laser does.
    """

    def __init__(
        self,
        table: OpticalTable,
        max_power_w: float = 0.1,
        device_max_power_w: float = 0.1,
        wavelength_nm: float = 532.0,
        power_noise: float = 0.002,
        seed: int = 0,
    ) -> None:
        model = f"SimLaser {wavelength_nm:.0f} nm"
        identity = DeviceIdentity("laser", "speckle-lab", model, "SIM-L-0001", "1.0", "sim")
        super().__init__(0.0, min(max_power_w, device_max_power_w), identity)
        self._table = table
        self._wavelength_nm = wavelength_nm
        self._power_noise = power_noise
        self._rng = np.random.default_rng(seed)
        self._lock = threading.Lock()
        self._setpoint_w = 0.0
        self._emission = False
        self._fault: str | None = None
        self._interlock_closed = True

    @property
    def wavelength_nm(self) -> float:
        return self._wavelength_nm

    def _publish(self) -> None:
        emitting = self._emission and self._fault is None and self._interlock_closed
        self._table.set_emitted_power_w(self._setpoint_w if emitting else 0.0)

    def _set_power_w(self, power_w: float) -> None:
        with self._lock:
            self._setpoint_w = power_w
            self._publish()

    @property
    def power_setpoint_w(self) -> float:
        return self._setpoint_w

    @property
    def measured_power_w(self) -> float:
        emitted = self._table.emitted_power_w
        return float(emitted * (1 + self._power_noise * self._rng.standard_normal())) if emitted else 0.0

    @property
    def emission(self) -> bool:
        return self._emission

    def _emission_exchange(self) -> threading.Lock:
        return self._lock

    def _check_ready_to_emit(self) -> None:
        if self._fault is not None or not self._interlock_closed:
            raise LaserFault(str(self.identity), self.ON_COMMAND, self._fault or "interlock open")

    def _switch_emission(self, on: bool) -> None:
        self._emission = on
        self._publish()

    def status(self) -> LaserStatus:
        return LaserStatus(self._emission, self._fault, self._interlock_closed, hours=0.0)

    def inject_fault(self, fault: str | None) -> None:
        """Simulate a laser fault (emission stops at once, as a real laser's would); None clears it."""
        with self._lock:
            self._fault = fault
            if fault is not None:
                self._emission = False
            self._publish()

    def open_interlock(self, opened: bool = True) -> None:
        with self._lock:
            self._interlock_closed = not opened
            if opened:
                self._emission = False
            self._publish()

    def close(self) -> None:
        with self._lock:
            self._emission = False
            self._publish()
