"""The EMVA 1288 linear camera model: photons to digital numbers, with every noise source of the standard.

mean DN = offset + K (eta * photons + dark electrons);  var DN = K^2 (sigma_d^2 + electrons) + 1/12.
Shot noise (photons and dark current) is Poisson. Where the expected electron count is large the
Poisson draw is replaced by its normal limit, which is exact to well below a quantisation step there
and an order of magnitude cheaper; counts below `_EXACT_POISSON_BELOW` are drawn exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_EXACT_POISSON_BELOW = 50.0


@dataclass(frozen=True)
class SensorModel:
    """Parameters of one camera, named as in EMVA 1288."""

    quantum_efficiency: float = 0.6  # eta, electrons per photon
    system_gain_dn_per_e: float = 0.25  # K at 0 dB gain
    read_noise_e: float = 6.0  # sigma_d, temporal dark noise in electrons
    dark_current_e_per_s: float = 20.0
    offset_dn: float = 100.0  # black level
    bit_depth: int = 12
    full_well_e: float = 20_000.0

    @property
    def saturation_dn(self) -> int:
        return 2**self.bit_depth - 1

    def gain_dn_per_e(self, gain_db: float) -> float:
        return self.system_gain_dn_per_e * 10 ** (gain_db / 20)

    def expose(
        self,
        photons: np.ndarray,
        exposure_us: float,
        gain_db: float,
        rng: np.random.Generator,
        dtype: np.dtype,
    ) -> np.ndarray:
        """Digital numbers for `photons` (mean photons per pixel during the exposure), any shape.

        A contiguous float32 `photons` is used as scratch space and overwritten.
        """
        electrons = np.ascontiguousarray(photons, dtype=np.float32)
        electrons *= self.quantum_efficiency
        electrons += self.dark_current_e_per_s * exposure_us * 1e-6
        self._add_shot_and_read_noise(electrons, rng)
        np.minimum(electrons, self.full_well_e, out=electrons)
        digital = electrons
        digital *= self.gain_dn_per_e(gain_db)
        digital += self.offset_dn
        np.rint(digital, out=digital)
        np.clip(digital, 0, self.saturation_dn, out=digital)
        return digital.astype(dtype)

    def _add_shot_and_read_noise(self, electrons: np.ndarray, rng: np.random.Generator) -> None:
        flat = electrons.reshape(-1)
        noise = rng.standard_normal(flat.size, dtype=np.float32)
        low = np.flatnonzero(flat < _EXACT_POISSON_BELOW)
        exact = rng.poisson(flat[low]).astype(np.float32) if low.size else None
        # Normal limit of Poisson plus read noise: one draw with variance mean + sigma_d^2.
        scale = flat + np.float32(self.read_noise_e**2)
        np.sqrt(scale, out=scale)
        scale *= noise
        flat += scale
        if exact is not None:
            flat[low] = exact + self.read_noise_e * noise[low]
