"""The EMVA 1288 linear camera model: photons to digital numbers, with every noise source of the standard.

mean DN = offset + K (eta * photons + dark electrons);  var DN = K^2 (sigma_d^2 + electrons) + 1/12.
Shot noise (photons and dark current) is Poisson. Where the expected electron count is at least
`EXACT_POISSON_BELOW_E` the Poisson draw is replaced by its normal limit (skewness below 0.23, hidden by
read noise and quantisation) at a fraction of the cost; smaller counts are drawn exactly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from speckle_lab.sim.parallel import N_CHUNKS, map_row_chunks

EXACT_POISSON_BELOW_E = 20.0


def noise_generators(seed: int) -> list[np.random.Generator]:
    """One independent stream per row chunk of `sim.parallel`, so frames do not depend on thread timing."""
    return [np.random.Generator(np.random.SFC64(s)) for s in np.random.SeedSequence(seed).spawn(N_CHUNKS)]


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
        rngs: Sequence[np.random.Generator],
        dtype: np.dtype,
    ) -> np.ndarray:
        """Digital numbers `[frame, ...]` for `photons` (mean photons per pixel during the exposure),
        frames cut into row chunks that run in parallel, one noise stream each."""
        photons = np.ascontiguousarray(photons, dtype=np.float32)
        flat = photons.reshape(len(photons), -1)
        out = np.empty(flat.shape, dtype=dtype)

        def work(chunk: int, start: int, stop: int) -> None:
            self.digitize(flat[start:stop], exposure_us, gain_db, rngs[chunk], out[start:stop])

        map_row_chunks(work, len(flat))
        return out.reshape(photons.shape)

    def digitize(
        self,
        photons: np.ndarray,
        exposure_us: float,
        gain_db: float,
        rng: np.random.Generator,
        out: np.ndarray,
    ) -> None:
        """Write into `out` the digital numbers of float32 `photons` (any layout), which is overwritten."""
        gain = self.gain_dn_per_e(gain_db)
        top_dn = min(self.saturation_dn, np.floor(self.full_well_e * gain + self.offset_dn + 0.5))
        electrons = photons
        electrons *= np.float32(self.quantum_efficiency)
        electrons += np.float32(self.dark_current_e_per_s * exposure_us * 1e-6)
        self._add_shot_and_read_noise(electrons, rng)
        # Adding 0.5 before the truncating cast rounds to the nearest DN; values are clipped >= 0 first.
        electrons *= np.float32(gain)
        electrons += np.float32(self.offset_dn + 0.5)
        np.clip(electrons, 0, top_dn + 0.499, out=electrons)
        np.copyto(out, electrons, casting="unsafe")

    def _add_shot_and_read_noise(self, electrons: np.ndarray, rng: np.random.Generator) -> None:
        noise = rng.standard_normal(electrons.shape, dtype=np.float32)
        # Flat indices: numpy's nonzero and fancy indexing are several times faster in one dimension.
        if electrons.flags.c_contiguous:
            self._add_shot_and_read_noise_flat(electrons.reshape(-1), noise.reshape(-1), rng)
            return
        flat = electrons.ravel()  # a strided layout: work on a copy, then write it back
        self._add_shot_and_read_noise_flat(flat, noise.reshape(-1), rng)
        electrons[...] = flat.reshape(electrons.shape)

    def _add_shot_and_read_noise_flat(self, electrons: np.ndarray, noise: np.ndarray, rng: np.random.Generator) -> None:
        low = np.flatnonzero(electrons < EXACT_POISSON_BELOW_E)
        exact = rng.poisson(electrons[low]).astype(np.float32) if low.size else None
        # Normal limit of Poisson plus read noise: one draw with variance mean + sigma_d^2.
        spread = electrons + np.float32(self.read_noise_e**2)
        np.sqrt(spread, out=spread)
        spread *= noise
        electrons += spread
        if exact is not None:
            electrons[low] = exact + np.float32(self.read_noise_e) * noise[low]
