"""The simulator's arithmetic in torch, for a GPU: the medium's GEMM, field and intensity, and the camera's
EMVA 1288 noise, the same model as `sim.medium` and `sim.camera_model` (and checked by the same physics tests,
on the CPU). Selected per optical table with `compute="torch:<device>"`; numpy stays the default.

torch is imported only here, on first use, so the simulated bench needs no torch unless asked to.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

import numpy as np

from speckle_lab.sim.camera_model import EXACT_POISSON_BELOW_E, SensorModel
from speckle_lab.sim.medium import Medium

if TYPE_CHECKING:
    import torch

COMPUTE_NUMPY = "numpy"


def torch_device_name(compute: str) -> str | None:
    """The torch device of a `compute` setting ("numpy" -> None, "torch:cuda" -> "cuda")."""
    if compute == COMPUTE_NUMPY:
        return None
    kind, _, device = compute.partition(":")
    if kind != "torch" or not device:
        raise ValueError(f"compute must be 'numpy' or 'torch:<device>' (torch:cpu, torch:cuda), got {compute!r}")
    return device


def resolve_compute(device: str) -> str:
    """The `[sim] device` bench setting as a compute backend: "cpu" is numpy, "cuda" is torch on the GPU
    (an error when there is none), "auto" takes the GPU when torch sees one and numpy otherwise."""
    if device == "cpu":
        return COMPUTE_NUMPY
    if device not in ("cuda", "auto"):
        raise ValueError(f"sim.device must be 'cpu', 'cuda' or 'auto', got {device!r}")
    try:
        import torch

        available = torch.cuda.is_available()
    except ImportError:
        available = False
    if available:
        return "torch:cuda"
    if device == "auto":
        return COMPUTE_NUMPY
    raise ValueError("sim.device = 'cuda' but torch sees no CUDA device; use 'cpu' or 'auto'")


class TorchMedium:
    """A medium's matrix on a torch device; the same fields and intensities as the medium computes."""

    def __init__(self, medium: Medium, device: str) -> None:
        import torch

        self.medium = medium
        self.device = torch.device(device)
        self.n_inputs, self.output_shape = medium.n_inputs, medium.output_shape
        with warnings.catch_warnings():  # the matrix is read-only and torch never writes to it here
            warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
            self.matrix = torch.from_numpy(np.ascontiguousarray(medium.matrix)).to(self.device)
        modes = medium.pupil_modes
        self.modes = None if modes is None else torch.from_numpy(modes).to(self.device)

    def _tensor(self, inputs: np.ndarray | torch.Tensor) -> torch.Tensor:
        import torch

        return torch.as_tensor(np.atleast_2d(inputs), device=self.device)

    def field_of(self, coefficients: torch.Tensor) -> torch.Tensor:
        """Complex fields `[frame, pixel]` of complex coefficients (see `Medium.field_of`)."""
        import torch

        if self.modes is None:
            return coefficients
        n, (rows, cols) = len(coefficients), self.output_shape
        grid = torch.zeros((n, rows * cols), dtype=torch.complex64, device=self.device)
        grid[:, self.modes] = coefficients
        return torch.fft.ifft2(grid.view(n, rows, cols), norm="forward").reshape(n, rows * cols)

    def coefficients(self, inputs: np.ndarray | torch.Tensor) -> torch.Tensor:
        import torch

        x = self._tensor(inputs)
        k = self.matrix.shape[1] // 2
        real_part, imag_part = self.matrix[:, :k], self.matrix[:, k:]
        if x.is_complex():
            xr, xi = x.real.float(), x.imag.float()
            return torch.complex(xr @ real_part - xi @ imag_part, xr @ imag_part + xi @ real_part)
        product = x.float() @ self.matrix
        return torch.complex(product[:, :k], product[:, k:])

    def intensity_tensor(self, inputs: np.ndarray | torch.Tensor) -> torch.Tensor:
        """|field|^2 float32 `[frame, pixel]` on the device, for real inputs `[frame, input]`."""
        field = self.field_of(self.coefficients(inputs))
        return field.real.square() + field.imag.square()

    def intensities(self, inputs: np.ndarray) -> np.ndarray:
        return self.intensity_tensor(inputs).cpu().numpy()

    def fields(self, inputs: np.ndarray) -> np.ndarray:
        return self.field_of(self.coefficients(inputs)).cpu().numpy().reshape(-1, *self.output_shape)


def digitize(
    sensor: SensorModel,
    photons: torch.Tensor,
    exposure_us: float,
    gain_db: float,
    generator: torch.Generator,
) -> torch.Tensor:
    """Digital numbers (int32, on the device) of `photons`, as `SensorModel.digitize` makes them: Poisson shot
    noise (exact below `EXACT_POISSON_BELOW_E` electrons, its normal limit above), read noise, gain, offset,
    rounding and clipping at saturation."""
    import torch

    gain = sensor.gain_dn_per_e(gain_db)
    top_dn = min(sensor.saturation_dn, np.floor(sensor.full_well_e * gain + sensor.offset_dn + 0.5))
    electrons = photons * sensor.quantum_efficiency + sensor.dark_current_e_per_s * exposure_us * 1e-6
    noise = torch.randn(electrons.shape, generator=generator, device=electrons.device)
    low = electrons < EXACT_POISSON_BELOW_E
    signal = electrons + torch.sqrt(electrons + sensor.read_noise_e**2) * noise
    if bool(low.any()):
        exact = torch.poisson(electrons[low], generator=generator)
        signal[low] = exact + sensor.read_noise_e * noise[low]
    signal = signal * gain + (sensor.offset_dn + 0.5)
    return signal.clamp_(0, top_dn + 0.499).to(torch.int32)


def make_generator(device: str, seed: int) -> torch.Generator:
    import torch

    return torch.Generator(device=device).manual_seed(int(seed))
