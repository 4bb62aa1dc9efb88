"""The simulated camera against the EMVA 1288 linear model, measured as the standard does: flat field, pairs of
frames, dark frames.

mean y = offset + K (eta * photons + mu_d);  var y = K^2 (sigma_d^2 + eta * photons + mu_d) + 1/12.
A 128x128 flat field gives 16384 pixels per frame: a variance has relative standard error sqrt(2/N) = 1.1 %.
"""

from __future__ import annotations

import numpy as np
import pytest

from speckle_lab.drivers import TriggerMode
from speckle_lab.sim.camera_model import SensorModel
from speckle_lab.sim.medium import Medium

SHAPE = (128, 128)


class FlatField(Medium):
    """Test double: every macropixel lights every pixel with the same phase, so all on gives intensity 1."""

    kind = "flat_field"

    def _build_matrix(self) -> np.ndarray:
        matrix = np.zeros((self.n_inputs, 2 * self.n_outputs), dtype=np.float32)
        matrix[:, : self.n_outputs] = 1.0 / self.n_inputs
        return matrix


@pytest.fixture(params=["numpy", "torch:cpu"])
def flat_bench(make_bench, request: pytest.FixtureRequest):
    """A 4x4-macropixel DMD fully on in front of a flat field; software-triggered camera, laser emitting.
    The camera's noise comes from numpy or from the torch backend (`sim.torch_backend`) on the CPU."""

    def build(sensor: SensorModel | None = None, gain_db: float = 0.0, exposure_us: float = 40.0):
        medium = FlatField(16, SHAPE, seed=0)
        bench = make_bench(medium=medium, side=4, sensor=sensor, camera_seed=3, compute=request.param)
        bench.dmd.show(bench.pattern(np.ones((4, 4), dtype=bool)))
        bench.camera.set_gain_db(gain_db)
        bench.camera.set_exposure_us(exposure_us)
        bench.camera.set_trigger_mode(TriggerMode.SOFTWARE)
        bench.camera.start()
        return bench

    return build


def grab(bench, power_w: float, n_frames: int) -> np.ndarray:
    """`n_frames` software-triggered frames at `power_w` (0: laser emission off), as float64."""
    if power_w > 0:
        bench.laser.set_power_w(power_w)
        bench.laser.set_emission(True)
    else:
        bench.laser.set_emission(False)
    for _ in range(n_frames):
        bench.camera.software_trigger()
    return bench.camera.read_block(n_frames, timeout_s=1.0).pixels.astype(np.float64)


def photons_per_pixel(bench, power_w: float) -> float:
    return power_w * bench.camera.exposure_us * 1e-6 * bench.table.photons_per_joule


# From ~5 e- (exact Poisson draws) to ~9600 e- (normal limit), below saturation (15980 e- at K = 0.25) at 0 dB.
POWERS_W = [1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 2e-2]


@pytest.mark.parametrize("gain_db", [0.0, 6.0])
def test_photon_transfer_slope_is_system_gain(flat_bench, gain_db: float) -> None:
    """Photon transfer: temporal variance (half the variance of a frame difference) against mean signal above
    dark is a line of slope K (within 5 %) and intercept K^2 sigma_d^2 + 1/12; the mean is K eta photons."""
    bench = flat_bench(gain_db=gain_db)
    sensor = bench.camera.sensor
    k = sensor.gain_dn_per_e(gain_db)
    dark = grab(bench, 0.0, 2)
    dark_mean = dark.mean()
    means, variances = [], []
    for power_w in np.array(POWERS_W) * sensor.system_gain_dn_per_e / k:  # same DN range at any gain
        a, b = grab(bench, power_w, 2)
        assert a.max() < sensor.saturation_dn
        signal = (a.mean() + b.mean()) / 2 - dark_mean
        means.append(signal)
        variances.append(np.var(a - b) / 2)
        expected = k * sensor.quantum_efficiency * photons_per_pixel(bench, power_w)
        assert signal == pytest.approx(expected, rel=0.02, abs=0.05), f"responsivity at {power_w} W"
    means_a, variances_a = np.array(means), np.array(variances)
    # Weighted least squares: the standard error of each variance is proportional to the variance itself.
    slope, intercept = np.polyfit(means_a, variances_a, 1, w=1 / variances_a)
    assert slope == pytest.approx(k, rel=0.05)
    assert intercept == pytest.approx(k**2 * sensor.read_noise_e**2 + 1 / 12, rel=0.1)


@pytest.mark.parametrize("exposure_us", [40.0, 500_000.0, 2_000_000.0])
def test_dark_frames_match_model(flat_bench, exposure_us: float) -> None:
    """Laser off: mean = offset + K mu_d and variance = K^2 (sigma_d^2 + mu_d) + 1/12, mu_d = dark current x time
    (4 frames, 65536 pixels: SE of the mean 0.008 DN, of the variance 0.6 %)."""
    bench = flat_bench(exposure_us=exposure_us)
    sensor = bench.camera.sensor
    k = sensor.system_gain_dn_per_e
    dark_e = sensor.dark_current_e_per_s * exposure_us * 1e-6  # 0.0008 e-, 10 e- (exact Poisson), 40 e-
    frames = grab(bench, 0.0, 4)
    assert frames.mean() == pytest.approx(sensor.offset_dn + k * dark_e, abs=0.05)
    assert frames.var() == pytest.approx(k**2 * (sensor.read_noise_e**2 + dark_e) + 1 / 12, rel=0.03)
    # Temporal noise only: frame-to-frame differences carry twice the variance, no fixed pattern.
    assert np.var(frames[0] - frames[1]) / 2 == pytest.approx(frames.var(), rel=0.03)


@pytest.mark.parametrize("bit_depth", [8, 10, 12])
def test_saturation_clips_at_adc_maximum(flat_bench, bit_depth: int) -> None:
    """Overexposed pixels read 2^bits - 1, never more, in the smallest unsigned dtype that holds them."""
    sensor = SensorModel(bit_depth=bit_depth, offset_dn=10.0, system_gain_dn_per_e=2.0**bit_depth / 10_000)
    bench = flat_bench(sensor=sensor)
    assert bench.camera.dtype == (np.uint8 if bit_depth <= 8 else np.uint16)
    # ~48000 e- mean on an ADC that saturates at ~10000 e-: everything clips.
    saturated = grab(bench, 0.1, 1)
    assert np.all(saturated == 2**bit_depth - 1)
    # Around saturation: the noisy signal straddles the top code, which is the maximum and is reached.
    electrons_at_top = (sensor.saturation_dn - sensor.offset_dn) / sensor.system_gain_dn_per_e
    power_w = electrons_at_top / sensor.quantum_efficiency / photons_per_pixel(bench, 1.0)
    near = grab(bench, power_w, 1)
    assert near.max() == 2**bit_depth - 1
    assert 0.2 < np.mean(near == 2**bit_depth - 1) < 0.8


def test_full_well_limits_before_adc(flat_bench) -> None:
    """When the ADC range exceeds the full well, the signal stops at offset + K * full well (5100 DN here)."""
    sensor = SensorModel(bit_depth=16, system_gain_dn_per_e=0.25, full_well_e=20_000.0, offset_dn=100.0)
    bench = flat_bench(sensor=sensor)
    assert np.all(grab(bench, 0.1, 1) == 100 + 0.25 * 20_000)
