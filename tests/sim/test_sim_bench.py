"""The simulated laser, DMD and camera on one optical table: every frame reflects the table's state at its
exposure, triggers behave as on the real bench, and refusals leave the devices unchanged.

Frames are identified by their speckle: patterns light disjoint macropixel sets, so by the Siegert relation their
speckles are uncorrelated (rho = 0, SE 1/64 at 4096 pixels), while a frame correlates with the noise-free speckle of
its own pattern at rho > 0.99 (shot and read noise are small next to the speckle at the powers used).
"""

from __future__ import annotations

import time

import numpy as np
import pytest

from speckle_lab.drivers import DeviceError, DeviceTimeout, DmdGeometry, LaserFault, OutOfRange, Roi, TriggerMode
from speckle_lab.sim.table import macropixels_to_inputs, patterns_to_inputs

SIDE = 16
POWER_W = 0.005  # 32 of 256 macropixels lit, 40 us: ~300 e- mean, ~75 DN above the offset; no pixel saturates


def pearson(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(np.ravel(a).astype(np.float64), np.ravel(b).astype(np.float64))[0, 1])


def disjoint_patterns(bench, n: int, seed: int = 0) -> np.ndarray:
    """`n` mirror patterns `[n, rows, cols]` lighting disjoint sets of 256 / 8 = 32 macropixels."""
    order = np.random.default_rng(seed).permutation(SIDE * SIDE).reshape(8, -1)
    masks = np.zeros((n, SIDE * SIDE), dtype=bool)
    for i in range(n):
        masks[i, order[i % 8]] = True
    return np.stack([bench.pattern(mask.reshape(SIDE, SIDE)) for mask in masks])


def identify(bench, frames: np.ndarray, patterns: np.ndarray) -> list[int]:
    """Index of the pattern whose noise-free speckle each frame shows (rho > 0.95 with it, < 0.15 with others)."""
    references = [bench.reference(p) for p in patterns]
    found = []
    for frame in frames:
        rho = np.array([pearson(frame, ref) for ref in references])
        best = int(np.argmax(rho))
        assert rho[best] > 0.95, f"frame matches no pattern: {rho.round(3)}"
        assert np.all(np.delete(rho, best) < 0.15), f"frame matches several patterns: {rho.round(3)}"
        found.append(best)
    return found


def assert_dark(bench, frame: np.ndarray) -> None:
    """Offset plus read noise only: mean offset + K mu_d, std sqrt(K^2 sigma_d^2 + 1/12) (~1.53 DN)."""
    sensor, camera = bench.camera.sensor, bench.camera
    k = sensor.gain_dn_per_e(camera.gain_db)
    dark_e = sensor.dark_current_e_per_s * camera.exposure_us * 1e-6
    assert frame.mean() == pytest.approx(sensor.offset_dn + k * dark_e, abs=0.15)
    assert frame.astype(np.float64).std() == pytest.approx(np.sqrt(k**2 * sensor.read_noise_e**2 + 1 / 12), rel=0.1)


def emit(bench, power_w: float = POWER_W) -> None:
    bench.laser.set_power_w(power_w)
    bench.laser.set_emission(True)


# -- laser ----------------------------------------------------------------------------------------------------


def test_mean_counts_proportional_to_laser_power(make_bench) -> None:
    """Through laser, DMD and camera: mean dark-subtracted counts = K eta (P t photons/J) <I>, linear in P."""
    bench = make_bench(seed=2)
    half = np.random.default_rng(1).random((SIDE, SIDE)) < 0.5
    pattern = bench.pattern(half)
    bench.dmd.show(pattern)
    bench.camera.set_exposure_us(10.0)
    bench.camera.start()
    bench.camera.software_trigger()
    dark = bench.camera.read(1.0).pixels.astype(np.float64).mean()
    relative = bench.reference(pattern)
    per_watt = []
    for power_w in (0.001, 0.002, 0.005, 0.01, 0.02):
        emit(bench, power_w)
        bench.camera.software_trigger()
        frame = bench.camera.read(1.0).pixels
        assert frame.max() < bench.camera.sensor.saturation_dn
        signal = frame.astype(np.float64).mean() - dark
        assert signal == pytest.approx(bench.expected_dn(relative, power_w).mean() - dark, rel=0.02)
        per_watt.append(signal / power_w)
    assert np.ptp(per_watt) / np.mean(per_watt) < 0.02


@pytest.mark.parametrize("how", ["emission off", "never switched on", "zero power"])
def test_laser_off_gives_dark_frame(make_bench, how: str) -> None:
    """No light on the table: the camera reads a dark frame, whatever the DMD shows."""
    bench = make_bench()
    bench.dmd.show(bench.pattern(np.ones((SIDE, SIDE), dtype=bool)))
    if how == "emission off":
        emit(bench)
        bench.laser.set_emission(False)
    elif how == "zero power":
        emit(bench, 0.0)
    assert bench.table.emitted_power_w == 0.0
    bench.camera.start()
    bench.camera.software_trigger()
    assert_dark(bench, bench.camera.read(1.0).pixels)


@pytest.mark.parametrize("power_w", [-0.001, 0.1001, 1.0, float("nan"), float("inf")])
def test_power_outside_range_is_refused_and_nothing_changes(make_bench, power_w: float) -> None:
    """A setpoint outside the range raises OutOfRange naming device and command; setpoint and light unchanged."""
    bench = make_bench()
    emit(bench, 0.02)
    with pytest.raises(OutOfRange) as error:
        bench.laser.set_power_w(power_w)
    assert "set power" in str(error.value) and "SimLaser" in str(error.value)
    assert bench.laser.power_setpoint_w == 0.02
    assert bench.table.emitted_power_w == 0.02
    assert bench.laser.power_range_w == (0.0, 0.1)


def test_power_limit_is_the_narrower_of_device_and_safety_limit(make_bench) -> None:
    """The configured safety limit narrows the device range; a setpoint above it is refused."""
    from speckle_lab.sim.laser import SimulatedLaser

    laser = SimulatedLaser(make_bench().table, max_power_w=0.02, device_max_power_w=0.1)
    assert laser.power_range_w == (0.0, 0.02)
    with pytest.raises(OutOfRange):
        laser.set_power_w(0.05)
    assert laser.power_setpoint_w == 0.0


@pytest.mark.parametrize("trouble", ["fault", "interlock"])
def test_laser_fault_stops_emission_and_refuses_it(make_bench, trouble: str) -> None:
    """A fault or an open interlock stops emission at once (dark frames) and emission on raises LaserFault."""
    bench = make_bench()
    bench.dmd.show(bench.pattern(np.ones((SIDE, SIDE), dtype=bool)))
    emit(bench)
    if trouble == "fault":
        bench.laser.inject_fault("diode over temperature")
    else:
        bench.laser.open_interlock()
    status = bench.laser.status()
    assert not bench.laser.emission and not status.emission
    assert (status.fault is not None) if trouble == "fault" else not status.interlock_closed
    with pytest.raises(LaserFault, match="diode over temperature" if trouble == "fault" else "interlock"):
        bench.laser.set_emission(True)
    bench.camera.start()
    bench.camera.software_trigger()
    assert_dark(bench, bench.camera.read(1.0).pixels)
    # Cleared: emission is allowed again and light comes back.
    if trouble == "fault":
        bench.laser.inject_fault(None)
    else:
        bench.laser.open_interlock(False)
    bench.laser.set_emission(True)
    assert bench.table.emitted_power_w == POWER_W


def test_laser_close_turns_emission_off(make_bench) -> None:
    """Leaving the laser's context turns emission off."""
    bench = make_bench()
    with bench.laser as laser:
        emit(bench)
        assert laser.emission and bench.table.emitted_power_w == POWER_W
    assert not bench.laser.emission and bench.table.emitted_power_w == 0.0


# -- DMD ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(40, 43), (41, 44), (2, 3, 40, 44), (44, 40)])
def test_dmd_refuses_patterns_of_wrong_shape(make_bench, shape: tuple[int, ...]) -> None:
    """A pattern that is not the mirror shape raises OutOfRange naming both shapes; the shown pattern stays."""
    bench = make_bench()
    assert bench.dmd.mirror_shape == (40, 44)
    before = bench.table.snapshot()[0]
    for call in (bench.dmd.show, lambda p: bench.dmd.load_sequence(p, 100.0)):
        with pytest.raises(OutOfRange, match=r"\(40, 44\)") as error:
            call(np.zeros(shape, dtype=bool))
        assert f"{shape[-2]}, {shape[-1]})" in str(error.value)  # the refused shape is named too
    assert bench.table.snapshot()[0] is before


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int16, np.uint16, np.int8])
def test_dmd_refuses_patterns_of_wrong_dtype(make_bench, dtype: type) -> None:
    """Only bool (binary) and uint8 (gray) patterns are shown."""
    bench = make_bench()
    with pytest.raises(OutOfRange, match=np.dtype(dtype).name):
        bench.dmd.show(np.zeros(bench.dmd.mirror_shape, dtype=dtype))


def test_dmd_refuses_picture_time_below_minimum(make_bench) -> None:
    """The picture time cannot beat the maximum pattern rate: below 1e6 / rate us is OutOfRange."""
    bench = make_bench()
    patterns = disjoint_patterns(bench, 2)
    minimum = bench.dmd.min_picture_time_us
    assert minimum == pytest.approx(44.0)
    with pytest.raises(OutOfRange, match="picture time"):
        bench.dmd.load_sequence(patterns, minimum * 0.9)
    bench.dmd.load_sequence(patterns, minimum)  # the minimum itself is allowed
    with pytest.raises(OutOfRange, match="trigger"):
        bench.dmd.load_sequence(patterns, 100.0, trigger_in=True)


def test_dmd_start_without_sequence_is_refused(make_bench) -> None:
    """Starting with nothing loaded is an error, not a silent no-op."""
    with pytest.raises(OutOfRange, match="no sequence"):
        make_bench().dmd.start()


# -- camera triggers ------------------------------------------------------------------------------------------


def test_software_trigger_sees_the_table_at_trigger_time(make_bench) -> None:
    """One frame per software trigger, each showing the pattern and laser state when it was triggered."""
    bench = make_bench()
    patterns = disjoint_patterns(bench, 4)
    camera = bench.camera
    camera.start()
    emit(bench)
    bench.dmd.show(patterns[0])
    camera.software_trigger()
    bench.dmd.show(patterns[1])
    camera.software_trigger()
    bench.laser.set_emission(False)
    camera.software_trigger()
    bench.laser.set_emission(True)
    bench.dmd.load_sequence(patterns[2:4], 100.0, trigger_out=False)
    bench.dmd.start()  # a sequence that ran to its end leaves its last pattern on the mirrors
    camera.software_trigger()
    block = camera.read_block(4, timeout_s=1.0)
    assert len(block) == 4 and block.pixels.shape == (4, 64, 64) and block.pixels.dtype == np.uint16
    np.testing.assert_array_equal(np.diff(block.frame_ids), 1)
    assert identify(bench, block.pixels[[0, 1, 3]], patterns) == [0, 1, 3]
    assert_dark(bench, block.pixels[2])
    assert np.all(np.diff(block.timestamps_s) >= 0)


def test_hardware_trigger_one_frame_per_dmd_event_in_sequence_order(make_bench) -> None:
    """In hardware mode each DMD trigger-out event makes one frame: consecutive ids, sequence order, repeats."""
    bench = make_bench()
    patterns = disjoint_patterns(bench, 5)
    camera = bench.camera
    camera.set_trigger_mode(TriggerMode.HARDWARE)
    camera.start()
    emit(bench)
    bench.dmd.load_sequence(patterns, picture_time_us=100.0)
    bench.dmd.start(repeat=2)
    first = camera.read(timeout_s=1.0)
    rest = camera.read_block(9, timeout_s=1.0)
    frames = np.concatenate([first.pixels[None], rest.pixels])
    ids = np.concatenate([[first.frame_id], rest.frame_ids])
    np.testing.assert_array_equal(ids, np.arange(ids[0], ids[0] + 10))
    assert identify(bench, frames, patterns) == [0, 1, 2, 3, 4] * 2
    # Epoch seconds in float64 resolve ~0.24 us: the picture time to within 1 us.
    np.testing.assert_allclose(np.diff(rest.timestamps_s), 100e-6, atol=1e-6)
    with pytest.raises(DeviceTimeout):  # exactly 10 events: no eleventh frame
        camera.read(timeout_s=0.05)


def test_hardware_block_equals_frames_read_one_by_one(make_bench) -> None:
    """A batch computed in one GEMM is statistically the same as frames read singly: same speckle, frame
    differences of mean 0 and variance twice the EMVA temporal variance (32768 pixels: SE 0.8 %)."""
    bench = make_bench()
    patterns = disjoint_patterns(bench, 8)
    camera = bench.camera
    camera.set_trigger_mode(TriggerMode.HARDWARE)
    camera.start()
    emit(bench)
    bench.dmd.load_sequence(patterns, picture_time_us=100.0)
    bench.dmd.start()
    block = camera.read_block(8, timeout_s=1.0).pixels.astype(np.float64)
    bench.dmd.start()
    single = np.stack([camera.read(timeout_s=1.0).pixels for _ in range(8)]).astype(np.float64)
    for a, b in zip(block, single, strict=True):
        assert pearson(a, b) > 0.98
    difference = block - single
    k = camera.sensor.system_gain_dn_per_e
    signal = (block + single) / 2 - camera.sensor.offset_dn
    temporal_variance = k**2 * camera.sensor.read_noise_e**2 + 1 / 12 + k * signal.mean()
    assert abs(difference.mean()) < 5 * np.sqrt(2 * temporal_variance / difference.size)
    assert difference.var() / 2 == pytest.approx(temporal_variance, rel=0.05)


@pytest.mark.parametrize("mode", [TriggerMode.SOFTWARE, TriggerMode.HARDWARE])
def test_no_trigger_is_a_timeout_never_a_hang(make_bench, mode: TriggerMode) -> None:
    """Without a trigger, read raises DeviceTimeout after about `timeout_s`, and never blocks much longer."""
    bench = make_bench()
    camera = bench.camera
    camera.set_trigger_mode(mode)
    camera.start()
    emit(bench)
    timeout_s = 0.3
    started = time.monotonic()
    with pytest.raises(DeviceTimeout) as error:
        camera.read(timeout_s=timeout_s)
    elapsed = time.monotonic() - started
    assert timeout_s * 0.9 <= elapsed < timeout_s + 1.0
    assert "SimCam" in str(error.value) and "read" in str(error.value)


def test_hardware_events_that_arrived_stay_queued_after_a_timeout(make_bench) -> None:
    """Asking for more frames than events times out; the events that did arrive are still read afterwards."""
    bench = make_bench()
    patterns = disjoint_patterns(bench, 3)
    camera = bench.camera
    camera.set_trigger_mode(TriggerMode.HARDWARE)
    camera.start()
    emit(bench)
    bench.dmd.load_sequence(patterns, picture_time_us=100.0)
    bench.dmd.start()
    started = time.monotonic()
    with pytest.raises(DeviceTimeout):
        camera.read_block(5, timeout_s=0.2)
    assert time.monotonic() - started < 1.2
    block = camera.read_block(3, timeout_s=0.2)
    assert identify(bench, block.pixels, patterns) == [0, 1, 2]


def test_endless_sequence_until_stopped(make_bench) -> None:
    """repeat=0 cycles the sequence until stop(); afterwards no more events: a timeout, never a hang."""
    bench = make_bench()
    patterns = disjoint_patterns(bench, 3)
    camera = bench.camera
    camera.set_trigger_mode(TriggerMode.HARDWARE)
    camera.start()
    emit(bench)
    bench.dmd.load_sequence(patterns, picture_time_us=100.0)
    bench.dmd.start(repeat=0)
    with pytest.raises(DeviceTimeout):
        bench.dmd.wait(timeout_s=0.05)
    block = camera.read_block(7, timeout_s=1.0)
    assert identify(bench, block.pixels, patterns) == [0, 1, 2, 0, 1, 2, 0]
    bench.dmd.stop()
    bench.dmd.wait(timeout_s=0.05)
    started = time.monotonic()
    with pytest.raises(DeviceTimeout):
        camera.read(timeout_s=0.2)
    assert time.monotonic() - started < 1.2


def test_dmd_show_halts_an_endless_sequence(make_bench) -> None:
    """Showing a single pattern stops a running sequence: its trigger-out events end, the new pattern stays."""
    bench = make_bench()
    patterns = disjoint_patterns(bench, 3)
    camera = bench.camera
    camera.set_trigger_mode(TriggerMode.HARDWARE)
    camera.start()
    emit(bench)
    bench.dmd.load_sequence(patterns[:2], picture_time_us=100.0)
    bench.dmd.start(repeat=0)
    assert identify(bench, camera.read_block(3, timeout_s=1.0).pixels, patterns) == [0, 1, 0]
    bench.dmd.show(patterns[2])
    bench.dmd.wait()  # nothing runs any more: returns at once
    with pytest.raises(DeviceTimeout):
        camera.read(timeout_s=0.1)
    camera.stop()
    camera.set_trigger_mode(TriggerMode.SOFTWARE)
    camera.start()
    camera.software_trigger()
    assert identify(bench, camera.read(timeout_s=1.0).pixels[None], patterns) == [2]


def test_dmd_wait_without_timeout_on_endless_sequence_is_refused(make_bench) -> None:
    """wait() with no timeout on a sequence that repeats until stop() would never return: an error at once."""
    bench = make_bench()
    bench.dmd.load_sequence(disjoint_patterns(bench, 2), picture_time_us=100.0)
    bench.dmd.start(repeat=0)
    started = time.monotonic()
    with pytest.raises(DeviceError, match="until stop"):
        bench.dmd.wait()
    assert time.monotonic() - started < 0.5
    bench.dmd.stop()
    bench.dmd.wait()


@pytest.mark.parametrize(
    "level",
    [
        255,
        170,  # bit planes 1, 3, 5, 7: shown 170 / 255 of the picture time
        128,
        1,
    ],
)
def test_gray_level_through_camera(make_bench, level: int) -> None:
    """A gray level on a half-lit pattern gives level / 255 of the binary pattern's counts, through the camera
    (~500 DN at level 255; the mean of 4096 pixels has SE ~0.03 DN at the lowest level)."""
    bench = make_bench()
    on = np.random.default_rng(4).random((SIDE, SIDE)) < 0.5
    gray = bench.pattern(np.where(on, level, 0).astype(np.uint8))
    binary = bench.reference(bench.pattern(on))
    camera = bench.camera
    camera.start()
    emit(bench, 0.01)
    bench.dmd.show(gray)
    camera.software_trigger()
    frame = camera.read(timeout_s=1.0).pixels.astype(np.float64)
    dark = bench.expected_dn(np.zeros_like(binary), 0.01)
    expected = bench.expected_dn(binary * level / 255, 0.01)
    assert frame.mean() - dark.mean() == pytest.approx(expected.mean() - dark.mean(), rel=0.03, abs=0.1)


def test_free_run_produces_frames(make_bench) -> None:
    """Free run needs no trigger: frames keep coming, with increasing ids and timestamps, showing the table."""
    bench = make_bench()
    patterns = disjoint_patterns(bench, 2)
    camera = bench.camera
    camera.set_trigger_mode(TriggerMode.FREE_RUN)
    camera.start()
    emit(bench)
    bench.dmd.show(patterns[1])
    block = camera.read_block(3, timeout_s=1.0)
    np.testing.assert_array_equal(np.diff(block.frame_ids), 1)
    assert np.all(np.diff(block.timestamps_s) > 0)
    assert identify(bench, block.pixels, patterns) == [1, 1, 1]
    bench.dmd.show(patterns[0])
    assert identify(bench, camera.read(timeout_s=1.0).pixels[None], patterns) == [0]


def test_region_of_interest_crops_the_speckle(make_bench) -> None:
    """A region of interest reads the same speckle, cropped."""
    bench = make_bench()
    pattern = disjoint_patterns(bench, 1)[0]
    camera = bench.camera
    camera.set_roi(Roi(10, 20, 32, 40))
    assert camera.shape == (32, 40)
    with pytest.raises(OutOfRange):
        camera.set_roi(Roi(40, 40, 32, 32))
    camera.start()
    with pytest.raises(DeviceError):
        camera.set_roi(Roi(0, 0, 64, 64))  # not while acquiring
    emit(bench)
    bench.dmd.show(pattern)
    camera.software_trigger()
    frame = camera.read(timeout_s=1.0).pixels
    assert frame.shape == (32, 40)
    assert pearson(frame, bench.reference(pattern)[10:42, 20:60]) > 0.98


def test_read_before_start_is_an_error(make_bench) -> None:
    """Reading or triggering a camera that is not acquiring fails at once with DeviceError."""
    camera = make_bench().camera
    with pytest.raises(DeviceError, match="start"):
        camera.read(timeout_s=5.0)
    with pytest.raises(DeviceError):
        camera.software_trigger()


@pytest.mark.parametrize("coherent_gray", [False, True])
@pytest.mark.parametrize("kind", ["binary", "gray", "0/255"])
def test_macropixel_images_are_the_inputs_of_their_mirror_patterns(make_bench, kind: str, coherent_gray: bool) -> None:
    """The DMD contract takes macropixel images with the geometry; the simulated DMD turns them into the same
    inputs their mirror patterns give, without expanding them."""
    bench = make_bench(coherent_gray=coherent_gray)
    rng = np.random.default_rng(9)
    images = {
        "binary": rng.random((3, SIDE, SIDE)) < 0.5,
        "gray": rng.integers(0, 256, (3, SIDE, SIDE), dtype=np.uint8),
        "0/255": np.where(rng.random((3, SIDE, SIDE)) < 0.5, 255, 0).astype(np.uint8),
    }[kind]
    direct = macropixels_to_inputs(images, coherent_gray)
    through_mirrors = patterns_to_inputs(bench.geometry.to_mirrors(images), bench.geometry, coherent_gray)
    np.testing.assert_array_equal(direct.planes, through_mirrors.planes)
    np.testing.assert_array_equal(direct.weights, through_mirrors.weights)


@pytest.mark.parametrize("grain_px", [1.0, 2.0])
def test_macropixel_sequence_makes_the_frames_of_its_patterns(make_bench, grain_px: float) -> None:
    """`load_macropixels` in hardware mode, on the dense (grain 1) and the band-limited (grain 2) medium:
    each frame shows the speckle of its own pattern, in order; `show_macropixels` shows the image."""
    bench = make_bench(grain_px=grain_px)
    assert bench.table.medium.representation == ("dense" if grain_px == 1 else "band_limited")
    patterns = disjoint_patterns(bench, 4)
    g = bench.geometry
    images = patterns[:, g.active_top : g.active_top + g.active_side_mirrors : g.macropixel_mirrors,
                      g.active_left : g.active_left + g.active_side_mirrors : g.macropixel_mirrors]  # fmt: skip
    camera = bench.camera
    camera.set_trigger_mode(TriggerMode.HARDWARE)
    camera.start()
    emit(bench)
    bench.dmd.load_macropixels(images, g, picture_time_us=100.0)
    bench.dmd.start()
    block = camera.read_block(4, timeout_s=1.0)
    assert identify(bench, block.pixels, patterns) == [0, 1, 2, 3]
    assert np.array_equal(bench.dmd.shown_pattern, patterns[-1])
    bench.dmd.show_macropixels(images[1], g)
    assert np.array_equal(bench.dmd.shown_pattern, patterns[1])
    with pytest.raises(OutOfRange, match="the geometry is for"):
        bench.dmd.load_macropixels(images, DmdGeometry((64, 64), 0, 0, 2, SIDE), picture_time_us=100.0)
    # Another layout on the same mirrors goes through the mirrors, as a real DMD would show it.
    shifted = DmdGeometry(g.mirror_shape, 0, 0, g.macropixel_mirrors, SIDE)
    bench.dmd.show_macropixels(images[2], shifted)
    assert np.array_equal(bench.dmd.shown_pattern, shifted.to_mirrors(images[2:3])[0])
