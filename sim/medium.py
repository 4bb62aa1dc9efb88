"""Scattering media as linear maps from DMD macropixels to camera pixels.

Every medium is one float32 matrix `[input, 2 * coefficient]` holding the real and the imaginary parts of a
complex linear map side by side (a DMD pattern is real, so one real GEMM gives the complex coefficients),
followed by a fixed linear transform from coefficients to the camera's complex field:

- `dense`: the coefficients are the camera pixels themselves (the transform is the identity).
- `band_limited`: the coefficients are the pupil's Fourier modes; a batched inverse FFT makes the field. A
  speckle whose grain is set by a pupil has only as many degrees of freedom as the pupil has modes (about
  pi r^2 N: 3,400 of 16,384 pixels at a 2-pixel grain), so the GEMM shrinks by N / modes.

The complex field is made in one place, `field_of` (for the band-limited medium, the `_field_of_parts` that it
and `_field_of_product` share): a term added to the field (a ballistic fraction, say) belongs there or in
`project`, and then reaches every path (fields, intensities and the camera's fast path).
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from functools import cached_property

import numpy as np
import scipy.fft

from speckle_lab.sim.parallel import map_row_chunks

# Half width at half maximum of |2 J1(x) / x|^2 is at x = 1.6163; a circular pupil of radius rho
# (cycles/pixel) gives an intensity autocorrelation of full width 2 * 1.6163 / (2 pi rho) pixels.
_JINC2_HWHM = 1.6163
_SINC2_FWHM = 0.886

REPRESENTATIONS = ("auto", "dense", "band_limited")


def pupil_radius_for_grain(grain_px: float) -> float:
    """Pupil radius (cycles/pixel) whose speckle intensity autocorrelation has FWHM `grain_px`."""
    return _JINC2_HWHM / (np.pi * grain_px)


def circular_pupil(shape: tuple[int, int], radius_cycles_per_px: float) -> np.ndarray:
    fy = np.fft.fftfreq(shape[0])[:, None]
    fx = np.fft.fftfreq(shape[1])[None, :]
    return (fy**2 + fx**2 <= radius_cycles_per_px**2).astype(np.float32)


class Medium(ABC):
    """A linear, static scattering medium with a reproducible seed and a checksum of its matrix."""

    kind: str = ""
    representation: str = "dense"

    def __init__(self, n_inputs: int, output_shape: tuple[int, int], seed: int) -> None:
        self.n_inputs = int(n_inputs)
        self.output_shape = (int(output_shape[0]), int(output_shape[1]))
        self.seed = int(seed)

    @property
    def n_outputs(self) -> int:
        return self.output_shape[0] * self.output_shape[1]

    @property
    def n_coefficients(self) -> int:
        """Complex coefficients per frame that the GEMM makes: the pixels (dense) or the pupil modes."""
        return self.n_outputs

    @cached_property
    def matrix(self) -> np.ndarray:
        """`[input, 2 * coefficient]` float32: real parts of all coefficients, then imaginary parts."""
        matrix = self._build_matrix()
        matrix.setflags(write=False)
        return matrix

    @property
    def pupil_modes(self) -> np.ndarray | None:
        """Flat indices of the camera's Fourier modes the coefficients fill (band-limited), or None when the
        coefficients are the pixels. `field_of` is the identity (None) or an inverse FFT of those modes."""
        return None

    @property
    def memory_bytes(self) -> int:
        """What the medium holds in memory once built (the matrix)."""
        return self.n_inputs * 2 * self.n_coefficients * 4

    @cached_property
    def checksum(self) -> str:
        """SHA-256 of the matrix bytes: two files with the same checksum saw the same medium."""
        return hashlib.sha256(np.ascontiguousarray(self.matrix).data).hexdigest()

    @abstractmethod
    def _build_matrix(self) -> np.ndarray: ...

    def field_of(self, coefficients: np.ndarray) -> np.ndarray:
        """Complex camera fields `[frame, pixel]` of complex coefficients `[frame, coefficient]`."""
        return coefficients

    def coefficients(self, inputs: np.ndarray) -> np.ndarray:
        """Complex coefficients `[frame, coefficient]` for inputs `[frame, input]` (real or complex)."""
        inputs = np.atleast_2d(inputs)
        k = self.n_coefficients
        real_part, imag_part = self.matrix[:, :k], self.matrix[:, k:]
        if np.iscomplexobj(inputs):
            xr = inputs.real.astype(np.float32)
            xi = inputs.imag.astype(np.float32)
            return (xr @ real_part - xi @ imag_part) + 1j * (xr @ imag_part + xi @ real_part)
        product = self.project(inputs)
        return product[:, :k] + 1j * product[:, k:]

    def fields(self, inputs: np.ndarray) -> np.ndarray:
        """Complex output fields `[frame, row, col]` for inputs `[frame, input]` (real or complex)."""
        return self.field_of(self.coefficients(inputs).astype(np.complex64)).reshape(-1, *self.output_shape)

    def project(self, inputs: np.ndarray) -> np.ndarray:
        """The one GEMM: `[frame, 2 * coefficient]` real then imaginary parts for real inputs `[frame, input]`."""
        # A strided view (one bit plane of a stack) would send numpy's matmul off its BLAS path.
        return np.ascontiguousarray(inputs, dtype=np.float32) @ self.matrix

    def intensity_of(self, product: np.ndarray) -> np.ndarray:
        """|field|^2 float32 `[frame, pixel]` from rows of `project` (which it may overwrite and return a view
        of). Called on row chunks in parallel, so it must not use more than one core itself."""
        field = self._field_of_product(product)
        intensity = np.square(field.real)
        intensity += np.square(field.imag)
        return intensity

    def _field_of_product(self, product: np.ndarray) -> np.ndarray:
        """Complex fields `[frame, pixel]` of rows of `project` (real parts, then imaginary parts)."""
        k = self.n_coefficients
        coefficients = np.empty((len(product), k), np.complex64)
        coefficients.real, coefficients.imag = product[:, :k], product[:, k:]
        return self.field_of(coefficients)

    def intensities(self, inputs: np.ndarray) -> np.ndarray:
        """|T x|^2 `[frame, pixel]` float32 for real inputs `[frame, input]`."""
        product = self.project(inputs)
        out = np.empty((product.shape[0], self.n_outputs), dtype=np.float32)

        def work(_: int, start: int, stop: int) -> None:
            out[start:stop] = self.intensity_of(product[start:stop])

        map_row_chunks(work, len(out))
        return out

    def describe(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "representation": self.representation,
            "n_inputs": self.n_inputs,
            "output_shape": list(self.output_shape),
            "seed": self.seed,
            "checksum_sha256": self.checksum,
        }


def _dense_intensity(product: np.ndarray, n_outputs: int) -> np.ndarray:
    """|field|^2 in place, from a product holding the real parts of the outputs then their imaginary parts."""
    np.square(product, out=product)
    return np.add(product[:, :n_outputs], product[:, n_outputs:], out=product[:, :n_outputs])


class DenseMedium(Medium):
    """The coefficients are the camera pixels: |field|^2 is computed in place from the GEMM's output."""

    def intensity_of(self, product: np.ndarray) -> np.ndarray:
        return _dense_intensity(product, self.n_outputs)


class RandomTransmissionMatrix(Medium):
    """A thick, strongly scattering medium: each input couples to a circular complex Gaussian output field.

    Every column is white complex Gaussian noise filtered by a circular pupil, so the speckle grain
    (FWHM of the intensity autocorrelation) is `grain_px` camera pixels. Columns are independent, so the
    medium has no memory effect. E|t|^2 = 1 / n_inputs: all inputs on gives mean intensity 1.

    `representation` "band_limited" stores each column as its complex Gaussian pupil modes (the Fourier
    transform of white noise is white noise, so drawing the modes directly is the same random medium) and
    makes the field with an inverse FFT; "dense" stores every pixel; "auto" takes band_limited whenever the
    pupil is smaller than the Nyquist square (grain > 1 pixel), dense otherwise.
    """

    kind = "transmission_matrix"
    _chunk = 256

    def __init__(
        self,
        n_inputs: int,
        output_shape: tuple[int, int],
        seed: int,
        grain_px: float = 1.0,
        representation: str = "auto",
    ) -> None:
        super().__init__(n_inputs, output_shape, seed)
        if grain_px < 1:
            raise ValueError(f"grain_px must be >= 1 camera pixel, got {grain_px}")
        if representation not in REPRESENTATIONS:
            raise ValueError(f"representation must be one of {', '.join(REPRESENTATIONS)}, got {representation!r}")
        self.grain_px = float(grain_px)
        self._pupil = circular_pupil(self.output_shape, pupil_radius_for_grain(self.grain_px))
        # A grain of 1 pixel asks for a pupil past the Nyquist square: no filtering, white speckle.
        self._filtered = self.grain_px > 1.0 and self._pupil.sum() < self._pupil.size
        if not self._filtered:
            self._pupil[...] = 1
        if representation == "auto":
            representation = "band_limited" if self._filtered else "dense"
        self.representation = representation
        self._modes = np.flatnonzero(self._pupil.ravel()) if representation == "band_limited" else None
        if self._modes is not None:
            # The pupil fills only the rows |fy| <= radius of the Fourier grid (about half of them at a 2-pixel
            # grain): the inverse FFT transforms those rows along x first, then every column along y, which
            # skips the empty rows' transforms. Positions are in the float32 view of the complex rows.
            mode_rows, mode_cols = np.divmod(self._modes, self.output_shape[1])
            self._pupil_rows = np.unique(mode_rows)
            slot = np.searchsorted(self._pupil_rows, mode_rows) * self.output_shape[1] + mode_cols
            self._real_slots, self._imag_slots = 2 * slot, 2 * slot + 1

    @property
    def n_coefficients(self) -> int:
        return self.n_outputs if self._modes is None else len(self._modes)

    @property
    def pupil_modes(self) -> np.ndarray | None:
        return self._modes

    def _build_matrix(self) -> np.ndarray:
        return self._build_dense() if self._modes is None else self._build_band_limited()

    def _build_band_limited(self) -> np.ndarray:
        k = self.n_coefficients
        rng = np.random.default_rng(self.seed)
        matrix = np.empty((self.n_inputs, 2 * k), dtype=np.float32)
        for start in range(0, self.n_inputs, self._chunk):
            stop = min(start + self._chunk, self.n_inputs)
            real = rng.standard_normal((stop - start, k), dtype=np.float32)
            imag = rng.standard_normal((stop - start, k), dtype=np.float32)
            # The inverse FFT is unnormalised (norm="forward"), so by Parseval the mean intensity over the
            # camera is the sum of |mode|^2: normalise it per column to 1 / n_inputs, as the dense medium does.
            power = np.sum(real.astype(np.float64) ** 2 + imag.astype(np.float64) ** 2, axis=1, keepdims=True)
            scale = np.sqrt(1.0 / (power * self.n_inputs)).astype(np.float32)
            matrix[start:stop, :k] = real * scale
            matrix[start:stop, k:] = imag * scale
        return matrix

    def _build_dense(self) -> np.ndarray:
        rows, cols = self.output_shape
        n = self.n_outputs
        rng = np.random.default_rng(self.seed)
        matrix = np.empty((self.n_inputs, 2 * n), dtype=np.float32)
        for start in range(0, self.n_inputs, self._chunk):
            stop = min(start + self._chunk, self.n_inputs)
            shape = (stop - start, rows, cols)
            field = rng.standard_normal(shape, dtype=np.float32) + 1j * rng.standard_normal(shape, dtype=np.float32)
            if self._filtered:
                field = scipy.fft.ifft2(scipy.fft.fft2(field, workers=-1) * self._pupil, workers=-1)
            field = field.reshape(stop - start, n)
            # Normalise per column so that the grain filter does not change the mean intensity.
            power = np.mean(np.abs(field) ** 2, axis=1, keepdims=True)
            field *= np.sqrt(1.0 / (power * self.n_inputs)).astype(np.float32)
            matrix[start:stop, :n] = field.real
            matrix[start:stop, n:] = field.imag
        return matrix

    def field_of(self, coefficients: np.ndarray) -> np.ndarray:
        if self._modes is None:
            return coefficients
        return self._field_of_parts(coefficients.real, coefficients.imag)

    def _field_of_parts(self, real: np.ndarray, imag: np.ndarray) -> np.ndarray:
        """Complex fields `[frame, pixel]` of the pupil modes' real and imaginary parts `[frame, mode]`: the
        modes go straight into the pupil's rows (no complex copy), then the two-stage inverse FFT."""
        n_frames, (rows, cols) = len(real), self.output_shape
        pupil = np.zeros((n_frames, len(self._pupil_rows) * cols), np.complex64)
        as_floats = pupil.view(np.float32)
        as_floats[:, self._real_slots] = real
        as_floats[:, self._imag_slots] = imag
        along_x = scipy.fft.ifft(
            pupil.reshape(n_frames, -1, cols), axis=-1, norm="forward", overwrite_x=True, workers=1
        )
        grid = np.zeros((n_frames, rows, cols), np.complex64)
        grid[:, self._pupil_rows] = along_x
        field = scipy.fft.ifft(grid, axis=-2, norm="forward", overwrite_x=True, workers=1)
        return field.reshape(n_frames, self.n_outputs)

    def _field_of_product(self, product: np.ndarray) -> np.ndarray:
        if self._modes is None:
            return super()._field_of_product(product)
        k = self.n_coefficients
        return self._field_of_parts(product[:, :k], product[:, k:])

    def intensity_of(self, product: np.ndarray) -> np.ndarray:
        if self._modes is None:
            return _dense_intensity(product, self.n_outputs)
        return super().intensity_of(product)

    def describe(self) -> dict[str, object]:
        described = {**super().describe(), "grain_px": self.grain_px}
        if self._modes is not None:
            described["n_modes"] = len(self._modes)
        return described


GEOMETRIES = ("contact", "fourier")


class PhaseScreenDiffuser(DenseMedium):
    """A thin ground-glass diffuser: a random phase screen, the camera in its far field (Fraunhofer, one FFT).

    A thin screen has the angular memory effect: tilting the field that reaches it shifts the speckle. What a
    shift of the target on the DMD does depends on where the screen sits (`geometry`):

    - "contact": the screen against the DMD. The DMD's square active area (side `side` macropixels) sits in a
      `grid` x `grid` field whose far field the camera crops, so the grain is about `grid / side` camera pixels.
      A target moved on the DMD lights other parts of the screen: new, uncorrelated speckle (no memory effect
      for shifts; a tilt of the illumination still shifts the speckle).
    - "fourier": a lens between the DMD (its front focal plane) and the screen (its back focal plane). Each
      macropixel reaches the screen as a plane wave with its own tilt, so a target moved by (dr, dc) macropixels
      moves the speckle by (-dr, -dc) x `magnification` camera pixels: the camera field is the (flipped) DMD
      field convolved with one fixed speckle field, the point response of the screen seen through a circular
      aperture whose radius sets the grain. `magnification` (camera pixels per macropixel) is the camera side
      over the DMD side, as for the direct image of ballistic light (sim.ballistic), so a grain of 2 pixels
      still passes every spatial frequency of a 64-pixel camera's 32-macropixel DMD. The `grid` is the camera
      plus the DMD's image, so no shift brings back speckle the camera has already seen. Patterns add
      coherently: one macropixel gives mean intensity 1 / n_inputs over the camera, all of them more (a uniform
      DMD focuses to a spot on the screen). The ideal thin screen keeps the memory effect over the whole DMD; a
      real diffuser of thickness L loses it beyond angles of about wavelength / (pi L) (docs/simulator.md).
    """

    kind = "phase_screen"

    def __init__(
        self,
        side: int,
        output_shape: tuple[int, int],
        seed: int,
        grain_px: float = 2.0,
        phase_std_rad: float = 2 * np.pi,
        correlation_px: float = 1.0,
        geometry: str = "contact",
    ) -> None:
        super().__init__(side * side, output_shape, seed)
        if geometry not in GEOMETRIES:
            raise ValueError(f"geometry must be one of {', '.join(GEOMETRIES)}, got {geometry!r}")
        self.side = int(side)
        self.grain_px = float(grain_px)
        self.phase_std_rad = float(phase_std_rad)
        self.correlation_px = float(correlation_px)
        self.geometry = geometry
        if geometry == "fourier":
            if grain_px < 1:
                raise ValueError(f"grain_px must be >= 1 camera pixel, got {grain_px}")
            self.magnification = max(1, min(self.output_shape) // self.side)
            self.grid = max(self.output_shape) + self.magnification * self.side
            return
        # The far field of a square aperture of `side` samples in a `grid` grid has an intensity
        # autocorrelation of FWHM 0.886 grid / side pixels (sinc^2).
        self.grid = round(self.side * self.grain_px / _SINC2_FWHM)
        if self.grid < max(self.output_shape):
            smallest = max(self.output_shape) * _SINC2_FWHM / self.side
            raise ValueError(
                f"a {self.output_shape[0]}x{self.output_shape[1]} camera behind a {side}x{side} diffuser aperture "
                f"needs grain_px >= {smallest:.2f}, got {grain_px}"
            )

    def phase_screen(self) -> np.ndarray:
        """The screen's phase `[row, col]` over the active area (contact) or the whole grid (fourier), smoothed to
        its correlation length (in macropixels, or grid samples)."""
        rng = np.random.default_rng(self.seed)
        n = self.side if self.geometry == "contact" else self.grid
        noise = rng.standard_normal((n, n))
        if self.correlation_px > 1:
            sigma = self.correlation_px / 2.355
            fy = np.fft.fftfreq(n)[:, None]
            fx = np.fft.fftfreq(n)[None, :]
            gaussian = np.exp(-2 * (np.pi * sigma) ** 2 * (fy**2 + fx**2))
            noise = np.real(np.fft.ifft2(np.fft.fft2(noise) * gaussian))
        noise /= noise.std()
        return noise * self.phase_std_rad

    def aperture(self) -> np.ndarray:
        """fourier: the circular aperture at the screen `[grid, grid]` (centred on the zero frequency), whose
        radius makes speckle of `grain_px` camera pixels."""
        return np.fft.fftshift(circular_pupil((self.grid, self.grid), pupil_radius_for_grain(self.grain_px)))

    def propagate(self, fields: np.ndarray) -> np.ndarray:
        """Far field on the camera `[frame, row, col]` of input fields `[frame, side, side]`."""
        fields = np.atleast_3d(fields).reshape(-1, self.side, self.side)
        if self.geometry == "fourier":
            return self._propagate_fourier(fields)
        screened = fields * np.exp(1j * self.phase_screen())
        grid = np.zeros((len(fields), self.grid, self.grid), dtype=np.complex64)
        grid[:, : self.side, : self.side] = screened
        far = scipy.fft.fftshift(scipy.fft.fft2(grid, workers=-1), axes=(1, 2))
        rows, cols = self.output_shape
        top, left = (self.grid - rows) // 2, (self.grid - cols) // 2
        # E|FFT|^2 = sum |x|^2: dividing by sqrt(n_inputs) makes all inputs on give mean intensity 1.
        return far[:, top : top + rows, left : left + cols] / np.float32(np.sqrt(self.n_inputs))

    def _propagate_fourier(self, fields: np.ndarray) -> np.ndarray:
        g, m = self.grid, self.magnification
        s = m * self.side
        at_dmd = np.zeros((len(fields), g, g), dtype=np.complex64)
        start = (g - s) // 2
        at_dmd[:, start : start + s, start : start + s] = fields.repeat(m, axis=1).repeat(m, axis=2)
        pupil = self.aperture()
        screen = (pupil * np.exp(1j * np.fft.fftshift(self.phase_screen()))).astype(np.complex64)
        at_screen = scipy.fft.fftshift(
            scipy.fft.fft2(scipy.fft.ifftshift(at_dmd, axes=(1, 2)), workers=-1), axes=(1, 2)
        )
        far = scipy.fft.fftshift(
            scipy.fft.fft2(scipy.fft.ifftshift(at_screen * screen, axes=(1, 2)), workers=-1), axes=(1, 2)
        )
        rows, cols = self.output_shape
        top, left = (g - rows) // 2, (g - cols) // 2
        # One macropixel (m x m samples of unit amplitude) reaches the pupil's n samples with a modulus of at most
        # m^2; Parseval: the mean intensity over the grid is the sum over the pupil of |FFT|^2, so dividing by its
        # value for one centred macropixel gives each macropixel mean intensity 1 / n_inputs.
        one = np.abs(np.fft.fft2(np.ones((m, m)), s=(g, g))) ** 2
        norm = np.float32(np.sqrt(float((one * np.fft.ifftshift(pupil)).sum()) * self.n_inputs))
        return far[:, top : top + rows, left : left + cols] / norm

    def _build_matrix(self) -> np.ndarray:
        n = self.n_outputs
        matrix = np.empty((self.n_inputs, 2 * n), dtype=np.float32)
        chunk = 256
        for start in range(0, self.n_inputs, chunk):
            stop = min(start + chunk, self.n_inputs)
            basis = np.zeros((stop - start, self.n_inputs), dtype=np.complex64)
            basis[np.arange(stop - start), np.arange(start, stop)] = 1
            field = self.propagate(basis.reshape(-1, self.side, self.side)).reshape(stop - start, n)
            matrix[start:stop, :n] = field.real
            matrix[start:stop, n:] = field.imag
        return matrix

    def describe(self) -> dict[str, object]:
        return {
            **super().describe(),
            "grain_px": self.grain_px,
            "phase_std_rad": self.phase_std_rad,
            "correlation_px": self.correlation_px,
            "geometry": self.geometry,
        }
