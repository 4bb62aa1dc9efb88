"""Speckle statistics of the simulated media checked against theory (circular complex Gaussian speckle).

Sample sizes: a 128x128 camera with grain 1 px gives N = 16384 independent pixels, so a mean has a relative
standard error 1/sqrt(N) = 0.8 %, a speckle contrast about 1.1 % and a Pearson correlation (1 - rho^2)/sqrt(N)
<= 0.008. Tolerances below are 4 to 6 standard errors; seeds are fixed, so the tests are deterministic.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from speckle_lab.sim.medium import Medium, PhaseScreenDiffuser, RandomTransmissionMatrix, circular_pupil
from speckle_lab.sim.table import patterns_to_inputs
from speckle_lab.sim.torch_backend import TorchMedium

SIDE = 16
N_INPUTS = SIDE * SIDE
SHAPE = (128, 128)


def pearson(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(np.ravel(a).astype(np.float64), np.ravel(b).astype(np.float64))[0, 1])


def contrast(intensity: np.ndarray) -> float:
    values = np.asarray(intensity, dtype=np.float64)
    return float(values.std() / values.mean())


def lit(count: int, seed: int) -> np.ndarray:
    """A binary macropixel vector `[input]` with `count` random macropixels on."""
    x = np.zeros(N_INPUTS, dtype=np.float32)
    x[np.random.default_rng(seed).permutation(N_INPUTS)[:count]] = 1
    return x


REPRESENTATIONS = ["dense", "band_limited"]
BACKENDS = [*REPRESENTATIONS, "torch"]  # torch: the band-limited medium computed by sim.torch_backend on the CPU


def make_medium(
    backend: str, shape: tuple[int, int] = SHAPE, seed: int = 11, grain_px: float = 1.0
) -> RandomTransmissionMatrix | TorchMedium:
    representation = "dense" if backend == "dense" else "band_limited"
    medium = RandomTransmissionMatrix(N_INPUTS, shape, seed, grain_px, representation)
    return TorchMedium(medium, "cpu") if backend == "torch" else medium


@pytest.fixture(scope="module", params=BACKENDS)
def medium(request: pytest.FixtureRequest) -> RandomTransmissionMatrix | TorchMedium:
    """A grain of 1 pixel: the band-limited medium keeps every mode of the Nyquist square."""
    return make_medium(request.param)


def test_speckle_histogram_is_exponential(medium: RandomTransmissionMatrix | TorchMedium) -> None:
    """Fully developed speckle: I = |sum of circular Gaussians|^2 is exponential (KS test, p > 0.01 / 3)."""
    for seed in range(3):
        intensity = medium.intensities(lit(N_INPUTS // 2, seed)[None])[0].astype(np.float64)
        result = stats.kstest(intensity, stats.expon(scale=intensity.mean()).cdf)
        assert result.pvalue > 0.01 / 3, f"pattern {seed}: KS D = {result.statistic:.4f}, p = {result.pvalue:.2g}"


@pytest.mark.parametrize("count", [1, 16, 64, 128, 256])
def test_speckle_contrast_is_one(medium: RandomTransmissionMatrix | TorchMedium, count: int) -> None:
    """Contrast std/mean of fully developed speckle is 1 (16384 pixels: standard error ~0.011, tolerance 0.05)."""
    intensity = medium.intensities(lit(count, seed=count)[None])[0]
    assert abs(contrast(intensity) - 1) < 0.05


def test_mean_intensity_is_proportional_to_lit_macropixels(make_bench) -> None:
    """E|Tx|^2 = |x|^2 / n_inputs: mean intensity grows as the number of lit macropixels (and as |x|^2)."""
    bench = make_bench(output_shape=SHAPE, seed=12)
    rng = np.random.default_rng(3)
    for count in (8, 32, 64, 128, 256):
        macropixels = np.zeros(N_INPUTS, dtype=bool)
        macropixels[rng.permutation(N_INPUTS)[:count]] = True
        mean = bench.reference(bench.pattern(macropixels.reshape(SIDE, SIDE))).mean()
        assert mean == pytest.approx(count / N_INPUTS, rel=0.04), f"{count} lit macropixels"
    # Half the mirrors of every macropixel on: amplitude 1/2 per macropixel, |x|^2 = n / 4.
    half = np.zeros(bench.geometry.mirror_shape, dtype=bool)
    g = bench.geometry
    span = g.active_side_mirrors
    half[g.active_top : g.active_top + span : 2, g.active_left : g.active_left + span] = True
    assert bench.reference(half).mean() == pytest.approx(0.25, rel=0.04)


@pytest.mark.parametrize("shared", [0, 32, 64, 96, 128])
def test_siegert_relation(medium: RandomTransmissionMatrix | TorchMedium, shared: int) -> None:
    """Intensity correlation of two patterns = |x1.x2|^2 / (|x1|^2 |x2|^2) (Siegert), within 0.04."""
    order = np.random.default_rng(5).permutation(N_INPUTS)
    x1 = np.zeros(N_INPUTS, np.float32)
    x2 = np.zeros(N_INPUTS, np.float32)
    x1[order[:128]] = 1
    x2[order[:shared]] = 1  # shares `shared` macropixels with x1 ...
    x2[order[128 : 128 + 128 - shared]] = 1  # ... and lights 128 - shared others
    i1, i2 = medium.intensities(np.stack([x1, x2]))
    expected = float(x1 @ x2) ** 2 / (float(x1 @ x1) * float(x2 @ x2))
    assert pearson(i1, i2) == pytest.approx(expected, abs=0.04)


def test_siegert_relation_unequal_patterns(medium: RandomTransmissionMatrix | TorchMedium) -> None:
    """A 64-macropixel subset of a 128-macropixel pattern: correlation 64^2 / (128 * 64) = 0.5."""
    x1 = lit(128, seed=7)
    x2 = x1.copy()
    x2[np.flatnonzero(x1)[64:]] = 0
    i1, i2 = medium.intensities(np.stack([x1, x2]))
    assert pearson(i1, i2) == pytest.approx(0.5, abs=0.04)


def bit_plane_contrast(gray: np.ndarray) -> float:
    """Predicted contrast of an 8-bit pattern shown as bit planes x_b with weights w_b = 2^b / 255.

    The planes' speckles I_b are exponential with E I_b = m_b / n and cov(I_i, I_j) = (x_i.x_j)^2 / n^2, so
    C^2 = sum_ij w_i w_j (x_i.x_j)^2 / (sum_i w_i m_i)^2 = sum_ij w_i w_j rho_ij m_i m_j / (sum_i w_i m_i)^2.
    """
    planes = np.stack([((gray.ravel() >> b) & 1).astype(np.float64) for b in range(8)])
    weights = 2.0 ** np.arange(8) / 255
    overlaps = planes @ planes.T
    return float(np.sqrt(weights @ overlaps**2 @ weights) / (weights @ np.diag(overlaps)))


GRAY_PATTERNS = {
    "uniform random": np.random.default_rng(21).integers(0, 256, (SIDE, SIDE)),
    "random in [100, 200)": np.random.default_rng(22).integers(100, 200, (SIDE, SIDE)),
    "ramp": np.tile(np.arange(SIDE) * 17, (SIDE, 1)),
    "two levels 85 and 170": np.where(np.random.default_rng(23).random((SIDE, SIDE)) < 0.5, 85, 170),
    "one level 170": np.full((SIDE, SIDE), 170),
}


@pytest.mark.parametrize("name", list(GRAY_PATTERNS))
def test_gray_bit_planes_reduce_contrast(make_bench, name: str) -> None:
    """Gray = incoherent sum of bit-plane speckles weighted 2^b/255: contrast as the overlap formula predicts."""
    gray = GRAY_PATTERNS[name].astype(np.uint8)
    bench = make_bench(output_shape=SHAPE, seed=13)
    intensity = bench.reference(bench.pattern(gray))
    predicted = bit_plane_contrast(gray)
    assert contrast(intensity) == pytest.approx(predicted, abs=0.03)
    if name == "one level 170":
        assert predicted == pytest.approx(1.0)  # every plane in use shows the same mirrors: one speckle
    else:
        assert predicted < 0.95 and contrast(intensity) < 0.95
    # Mean: E I = sum_b w_b m_b / n.
    planes = np.stack([(gray.ravel() >> b) & 1 for b in range(8)]).astype(np.float64)
    expected_mean = (2.0 ** np.arange(8) / 255) @ planes.sum(axis=1) / N_INPUTS
    assert intensity.mean() == pytest.approx(expected_mean, rel=0.03)


def test_gray_single_bit_plane_is_weighted(make_bench) -> None:
    """Levels {0, 128} use one bit plane, shown 128/255 of the time: intensity 128/255 of the binary pattern's."""
    bench = make_bench(output_shape=(64, 64), seed=14)
    on = np.random.default_rng(8).random((SIDE, SIDE)) < 0.5
    binary = bench.reference(bench.pattern(on))
    for level in (1, 16, 128, 255):
        gray = bench.reference(bench.pattern(np.where(on, level, 0).astype(np.uint8)))
        np.testing.assert_allclose(gray, binary * level / 255, rtol=1e-4, atol=1e-7, err_msg=f"level {level}")


def test_coherent_gray_gives_full_contrast(make_bench) -> None:
    """With `coherent_gray` the gray levels are field amplitudes: one complex Gaussian speckle, contrast 1."""
    gray = GRAY_PATTERNS["uniform random"].astype(np.uint8)
    bench = make_bench(output_shape=SHAPE, seed=13, coherent_gray=True)
    inputs = patterns_to_inputs(bench.pattern(gray)[None], bench.geometry, coherent_gray=True)
    intensity = bench.table.intensity(inputs)[0]
    assert contrast(intensity) == pytest.approx(1.0, abs=0.05)
    amplitude = gray.astype(np.float64) / 255
    assert intensity.mean() == pytest.approx(np.sum(amplitude**2) / N_INPUTS, rel=0.03)
    assert np.array_equal(intensity, bench.reference(bench.pattern(gray)).ravel())  # the table uses it too


def autocorrelation_fwhm(frames: np.ndarray) -> tuple[float, float]:
    """FWHM (pixels) of the normalised intensity autocovariance along rows and along columns.

    Circular autocovariance (the simulated speckle is periodic: the pupil filter is applied by FFT), averaged
    over frames; the half-maximum crossing is linearly interpolated between integer lags.
    """
    centred = frames - frames.mean(axis=(1, 2), keepdims=True)
    spectrum = np.abs(np.fft.fft2(centred)) ** 2
    acov = np.fft.ifft2(spectrum).real.mean(axis=0)
    acov /= acov[0, 0]

    def width(profile: np.ndarray) -> float:
        below = int(np.argmax(profile < 0.5))
        lag = below - 1 + (profile[below - 1] - 0.5) / (profile[below - 1] - profile[below])
        return 2 * lag

    return width(acov[0, :]), width(acov[:, 0])


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("grain_px", [1.0, 2.0, 4.0])
def test_grain_size_matches_autocorrelation_width(grain_px: float, backend: str) -> None:
    """The FWHM of the intensity autocovariance (|jinc|^2 for a circular pupil) is the configured grain size."""
    medium = make_medium(backend, seed=15, grain_px=grain_px)
    x = np.stack([lit(128, seed) for seed in range(8)])
    frames = medium.intensities(x).reshape(-1, *SHAPE)
    along_rows, along_cols = autocorrelation_fwhm(frames)
    assert along_rows == pytest.approx(grain_px, rel=0.15)
    assert along_cols == pytest.approx(grain_px, rel=0.15)


def tilt(medium_side: int, grid: int, shift: tuple[int, int]) -> np.ndarray:
    """Linear phase ramp exp(2 pi i k.r / grid) over the DMD's macropixels (integer cycles over the grid)."""
    r, c = np.divmod(np.arange(medium_side * medium_side), medium_side)
    return np.exp(2j * np.pi * (shift[0] * r + shift[1] * c) / grid).astype(np.complex64)


def shifted_correlation(medium: Medium | TorchMedium, field_in: np.ndarray, shift: tuple[int, int], grid: int) -> float:
    """Correlation of the tilted input's speckle, shifted back by `shift`, with the untilted one (overlap only)."""
    side = int(np.sqrt(medium.n_inputs))
    before, after = np.abs(medium.fields(np.stack([field_in, field_in * tilt(side, grid, shift)]))) ** 2
    (dr, dc), (rows, cols) = shift, medium.output_shape
    moved = after[max(dr, 0) : rows + min(dr, 0), max(dc, 0) : cols + min(dc, 0)]
    still = before[max(-dr, 0) : rows + min(-dr, 0), max(-dc, 0) : cols + min(-dc, 0)]
    return pearson(moved, still)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("shift", [(2, 3), (-3, 1), (0, -5)])
def test_thin_diffuser_memory_effect(shift: tuple[int, int], backend: str) -> None:
    """A thin screen has the memory effect: a tilt by k cycles shifts the speckle by k pixels; a thick random
    matrix has none (the same shift leaves uncorrelated speckle, |rho| < 0.1 at 4096 pixels, SE 0.016)."""
    diffuser = PhaseScreenDiffuser(SIDE, (64, 64), seed=16, grain_px=4.0)
    amplitude = lit(160, seed=17).astype(np.complex64)
    assert shifted_correlation(diffuser, amplitude, shift, diffuser.grid) > 0.99
    matrix = make_medium(backend, (64, 64), seed=16)
    assert abs(shifted_correlation(matrix, amplitude, shift, diffuser.grid)) < 0.1


@pytest.mark.parametrize("representation", REPRESENTATIONS)
def test_same_seed_same_medium_different_seed_uncorrelated(representation: str) -> None:
    """A medium is reproducible from its seed (same matrix, same checksum); another seed gives independent speckle."""
    a, b = (RandomTransmissionMatrix(N_INPUTS, SHAPE, 31, 2.0, representation) for _ in range(2))
    c = RandomTransmissionMatrix(N_INPUTS, SHAPE, seed=32, grain_px=2.0, representation=representation)
    assert np.array_equal(a.matrix, b.matrix) and a.checksum == b.checksum
    assert c.checksum != a.checksum
    assert a.describe() == b.describe()
    x = lit(128, seed=1)[None]
    # Grain 2 px: about N / 4 independent speckles, SE of rho ~ 0.016; tolerance 0.08.
    assert abs(pearson(a.intensities(x), c.intensities(x))) < 0.08
    screen_a, screen_b = (PhaseScreenDiffuser(SIDE, (64, 64), seed=33, grain_px=4.0) for _ in range(2))
    assert np.array_equal(screen_a.matrix, screen_b.matrix) and screen_a.checksum == screen_b.checksum
    assert PhaseScreenDiffuser(SIDE, (64, 64), seed=34, grain_px=4.0).checksum != screen_a.checksum


def test_band_limited_medium_is_the_pupil_modes() -> None:
    """At a 2-pixel grain the band-limited medium holds only the pupil's modes (about pi r^2 N of N pixels),
    says so in its description, and its fields carry no power outside the pupil."""
    dense = RandomTransmissionMatrix(N_INPUTS, SHAPE, seed=41, grain_px=2.0, representation="dense")
    band = RandomTransmissionMatrix(N_INPUTS, SHAPE, seed=41, grain_px=2.0)
    assert band.representation == "band_limited" and dense.representation == "dense"
    radius = 1.6163 / (np.pi * 2.0)
    assert band.n_coefficients == pytest.approx(np.pi * radius**2 * SHAPE[0] * SHAPE[1], rel=0.02)
    assert band.memory_bytes == band.matrix.nbytes < dense.matrix.nbytes / 4
    assert band.describe()["representation"] == "band_limited" and band.describe()["n_modes"] == band.n_coefficients
    assert dense.describe()["representation"] == "dense" and "n_modes" not in dense.describe()
    spectrum = np.abs(np.fft.fft2(band.fields(lit(128, seed=2)[None])[0])) ** 2
    outside = spectrum[circular_pupil(SHAPE, radius) == 0]
    assert outside.max() < 1e-8 * spectrum.max()
    # Mean intensity with all inputs on is 1 (E|t|^2 = 1 / n_inputs), as for the dense medium.
    assert band.intensities(np.ones((1, N_INPUTS), np.float32)).mean() == pytest.approx(1.0, rel=0.05)


@pytest.mark.parametrize("shape", [(32, 32), (24, 40)])
def test_band_limited_field_is_the_inverse_fft_of_the_whole_grid(shape: tuple[int, int]) -> None:
    """The two-stage inverse FFT that skips the pupil's empty rows gives the field of the plain 2-D inverse FFT
    of the modes placed in the whole Fourier grid (square and oblong cameras)."""
    band = RandomTransmissionMatrix(N_INPUTS, shape, seed=43, grain_px=2.5)
    coefficients = band.coefficients(lit(64, seed=3)[None].repeat(3, axis=0)).astype(np.complex64)
    grid = np.zeros((3, shape[0] * shape[1]), np.complex128)
    grid[:, band.pupil_modes] = coefficients
    expected = np.fft.ifft2(grid.reshape(3, *shape), norm="forward").reshape(3, -1)
    field = band.field_of(coefficients)
    assert np.abs(field - expected).max() < 1e-5 * np.abs(expected).max()
    product = band.project(lit(64, seed=3)[None])
    assert np.allclose(
        band.intensity_of(product.copy()), np.abs(expected[:1]) ** 2, rtol=0, atol=1e-5 * np.abs(expected).max() ** 2
    )


def test_representation_is_checked() -> None:
    with pytest.raises(ValueError, match="representation must be one of"):
        RandomTransmissionMatrix(N_INPUTS, SHAPE, seed=1, representation="sparse")


def test_torch_medium_computes_what_the_medium_computes() -> None:
    """The torch backend is the same linear map: fields and intensities agree with numpy's to float32 rounding."""
    for representation in REPRESENTATIONS:
        medium = RandomTransmissionMatrix(N_INPUTS, (64, 64), seed=42, grain_px=2.0, representation=representation)
        x = np.stack([lit(100, seed) for seed in range(3)])
        on_torch = TorchMedium(medium, "cpu")
        np.testing.assert_allclose(on_torch.intensities(x), medium.intensities(x), rtol=1e-3, atol=1e-6)
        field_in = x[0] * tilt(SIDE, 64, (1, 2))
        np.testing.assert_allclose(on_torch.fields(field_in), medium.fields(field_in), atol=1e-5)


@pytest.mark.parametrize("shift", [(0, 8), (-3, 5)])
def test_a_thin_diffuser_behind_a_lens_moves_the_speckle_with_the_target(shift: tuple[int, int]) -> None:
    """geometry "fourier": a target moved by (dr, dc) macropixels moves the speckle by -(dr, dc) x magnification
    camera pixels (the memory effect acting on DMD shifts); in contact, the same move gives new speckle (what
    correlation remains, about 0.25 at this grain, is the far-field envelope both share)."""
    side, shape = 16, (64, 64)
    lens = PhaseScreenDiffuser(side, shape, seed=21, grain_px=2.0, geometry="fourier")
    contact = PhaseScreenDiffuser(side, shape, seed=21, grain_px=4.0)
    target = np.zeros((side, side), np.float32)
    target[4:10, 2:8] = np.random.default_rng(3).random((6, 6)) > 0.5
    moved = np.roll(target, shift, axis=(0, 1))
    m = lens.magnification
    assert m == 4 and lens.describe()["geometry"] == "fourier"
    dr, dc = -m * shift[0], -m * shift[1]
    rows, cols = shape
    for medium, above in ((lens, True), (contact, False)):
        before, after = medium.intensities(np.stack([target.ravel(), moved.ravel()])).reshape(2, *shape)
        overlap = pearson(
            after[max(dr, 0) : rows + min(dr, 0), max(dc, 0) : cols + min(dc, 0)],
            before[max(-dr, 0) : rows + min(-dr, 0), max(-dc, 0) : cols + min(-dc, 0)],
        )
        assert overlap > 0.99 if above else abs(overlap) < 0.5
    one = np.zeros((1, side * side), np.float32)
    one[0, 37] = 1
    assert lens.intensities(one).mean() == pytest.approx(1 / side**2, rel=0.1)  # one macropixel: 1 / n_inputs
    with pytest.raises(ValueError, match="geometry"):
        PhaseScreenDiffuser(side, shape, seed=1, geometry="mirror")
