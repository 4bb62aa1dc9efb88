"""The GenICam camera against TLSimu, the GenTL producer shipped in `genicam==1.5.0` (the dev extra).

What TLSimu has, and so what these tests rely on: four devices (serials SN_InterfaceA_0/1, SN_InterfaceB_0/1;
the *_0 ones are TLSimuMono), Width/Height (8..4096 in steps of 4, no OffsetX/OffsetY), PixelFormat with
Mono8..Mono16 (but it always delivers Mono8), TriggerMode On/Off, TriggerSource Software only,
TriggerSoftware, AcquisitionMode; no exposure, gain or trigger activation nodes. Its Mono8 image is a ramp,
pixel (r, c) of frame k = (r + c + k) mod 256, and one software trigger makes one frame.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator

import numpy as np
import pytest

from speckle_lab.drivers import DMD, DeviceError, DeviceIdentity, DeviceTimeout, OutOfRange, Roi, TriggerMode
from speckle_lab.drivers.cameras import GenICamCamera, find_tlsimu_cti

MONO = "SN_InterfaceA_0"
OTHER_MONO = "SN_InterfaceB_0"
TIMEOUT_S = 0.2
BOUND_S = TIMEOUT_S + 0.5  # a missed trigger costs the timeout plus scheduling slack: never a hang


def _tlsimu() -> str:
    cti = find_tlsimu_cti()
    if cti is None:
        pytest.skip("TLSimu.cti not found: install genicam==1.5.0 (the dev extra)")
    try:
        from harvesters.core import Harvester
    except ImportError:
        pytest.skip("harvesters is not installed (the genicam extra)")
    harvester = Harvester()
    try:
        harvester.add_file(str(cti))
        harvester.update()
        if not harvester.device_info_list:
            pytest.skip(f"the TLSimu producer at {cti} loads but lists no device on this platform")
    except Exception as error:
        pytest.skip(f"the TLSimu producer at {cti} cannot be loaded here: {error}")
    finally:
        harvester.reset()
    return str(cti)


@pytest.fixture(scope="module")
def cti() -> str:
    return _tlsimu()


@pytest.fixture
def camera(cti: str) -> Iterator[GenICamCamera]:
    with GenICamCamera(cti, serial=MONO) as cam:
        cam.set_roi(Roi(0, 0, 48, 64))
        yield cam


def ramp(shape: tuple[int, int], frame_id: int) -> np.ndarray:
    rows, cols = np.indices(shape)
    return ((rows + cols + frame_id) % 256).astype(np.uint8)


def test_opens_by_serial_with_identity_sensor_and_software_trigger(camera: GenICamCamera) -> None:
    assert camera.identity == DeviceIdentity("camera", "EMVA_D", "TLSimu", MONO, camera.identity.firmware, "genicam")
    assert camera.sensor_shape == (4096, 4096)  # no SensorWidth/WidthMax: Width.max at offset 0
    assert camera.trigger_mode is TriggerMode.SOFTWARE
    assert (camera.pixel_format, camera.bit_depth, camera.dtype) == ("Mono8", 8, np.dtype(np.uint8))
    assert camera.state()["roi"] == [0, 0, 48, 64]


def test_one_frame_per_software_trigger_with_increasing_ids(camera: GenICamCamera) -> None:
    camera.start(n_buffers=8)
    frames = []
    for _ in range(5):
        camera.software_trigger()
        frames.append(camera.read(timeout_s=1.0))
    ids = [f.frame_id for f in frames]
    assert np.array_equal(np.diff(ids), np.ones(4))
    for frame in frames:
        assert frame.pixels.shape == (48, 64) and frame.pixels.dtype == np.uint8
        assert np.array_equal(frame.pixels, ramp((48, 64), frame.frame_id))  # [row, col], nothing transposed
    stamps = np.array([f.timestamp_s for f in frames])
    assert np.all(np.diff(stamps) > 0) and abs(stamps[-1] - time.time()) < 5.0  # epoch seconds
    camera.stop()


def test_no_trigger_is_a_timeout_within_bounded_time(camera: GenICamCamera) -> None:
    camera.start()
    started = time.monotonic()
    with pytest.raises(DeviceTimeout, match=r"TLSimu .*read frame \(timeout 0.2 s\): no complete frame"):
        camera.read(timeout_s=TIMEOUT_S)
    assert TIMEOUT_S * 0.9 <= time.monotonic() - started < BOUND_S
    camera.software_trigger()  # the camera still works after the miss
    assert camera.read(timeout_s=1.0).pixels.shape == (48, 64)


def test_pixels_are_copied_out_before_the_buffer_is_requeued(camera: GenICamCamera) -> None:
    camera.start(n_buffers=5)  # TLSimu's minimum: the buffers are reused within the loop below
    camera.software_trigger()
    first = camera.read(timeout_s=1.0)
    for _ in range(12):
        camera.software_trigger()
        camera.read(timeout_s=1.0)
    assert first.pixels.flags.owndata
    assert np.array_equal(first.pixels, ramp((48, 64), first.frame_id))


def test_free_run_streams_without_triggers(camera: GenICamCamera) -> None:
    camera.set_trigger_mode(TriggerMode.FREE_RUN)
    camera.start()
    block = camera.read_block(4, timeout_s=1.0)
    assert block.pixels.shape == (4, 48, 64)
    assert np.array_equal(np.diff(block.frame_ids), np.ones(3))
    with pytest.raises(DeviceError, match="not acquiring in software trigger mode"):
        camera.software_trigger()
    with pytest.raises(DeviceError, match="stop acquisition first"):
        camera.set_trigger_mode(TriggerMode.SOFTWARE)
    camera.stop()
    camera.set_trigger_mode(TriggerMode.SOFTWARE)


def test_hardware_trigger_is_refused_where_the_producer_has_no_line(camera: GenICamCamera) -> None:
    with pytest.raises(OutOfRange, match="TriggerSource Line0 is not offered; the camera has Software"):
        camera.set_trigger_mode(TriggerMode.HARDWARE)
    assert camera.trigger_mode is TriggerMode.SOFTWARE


def test_roi_round_trip_and_refusals(camera: GenICamCamera) -> None:
    camera.set_roi(Roi(0, 0, 32, 40))
    assert camera.roi == Roi(0, 0, 32, 40) and camera.shape == (32, 40)
    with pytest.raises(OutOfRange, match="Height moves in steps of 4 from 8: 28 or 32, not 30"):
        camera.set_roi(Roi(0, 0, 30, 40))
    with pytest.raises(OutOfRange, match="no OffsetY node"):
        camera.set_roi(Roi(4, 0, 32, 40))
    with pytest.raises(OutOfRange, match="the sensor is 4096x4096"):
        camera.set_roi(Roi(0, 0, 32, 5000))
    assert camera.roi == Roi(0, 0, 32, 40)  # nothing changed
    camera.start()
    with pytest.raises(DeviceError, match="stop acquisition first"):
        camera.set_roi(Roi(0, 0, 48, 64))
    camera.software_trigger()
    assert camera.read(timeout_s=1.0).pixels.shape == (32, 40)


def test_exposure_and_gain_without_nodes(cti: str, camera: GenICamCamera) -> None:
    assert math.isnan(camera.exposure_us)
    with pytest.raises(OutOfRange, match="no ExposureTime or ExposureTimeAbs node"):
        camera.set_exposure_us(40.0)
    assert camera.gain_db == 0.0
    camera.set_gain_db(0.0)
    with pytest.raises(OutOfRange, match="no Gain node"):
        camera.set_gain_db(6.0)
    with GenICamCamera(cti, serial=OTHER_MONO, fixed_exposure_us=40.0) as fixed:
        fixed.set_exposure_us(40.0)  # what the capture engine asks for: accepted
        with pytest.raises(OutOfRange, match=r"fixed at 40.0 us"):
            fixed.set_exposure_us(80.0)
        fixed.start()
        fixed.software_trigger()
        assert fixed.read(timeout_s=1.0).exposure_us == 40.0


def test_pixel_format_sets_depth_and_a_mismatched_buffer_is_an_error(camera: GenICamCamera) -> None:
    with pytest.raises(OutOfRange, match="supported formats"):
        camera.set_pixel_format("Mono12Packed")
    camera.set_pixel_format("Mono16")
    assert (camera.bit_depth, camera.dtype) == (16, np.dtype(np.uint16))
    camera.start()
    camera.software_trigger()
    with pytest.raises(DeviceError, match="buffer holds Mono8 pixels but PixelFormat is Mono16"):
        camera.read(timeout_s=1.0)  # TLSimu ignores the setting: refused, not silently rescaled
    camera.stop()
    camera.set_pixel_format("Mono8")


def test_open_by_index_and_unknown_devices(cti: str) -> None:
    with GenICamCamera(cti, index=2) as cam:
        assert cam.identity.serial == OTHER_MONO
    with pytest.raises(DeviceError, match=r"open camera serial nope: not found; devices: 0: SN_InterfaceA_0"):
        GenICamCamera(cti, serial="nope")
    with pytest.raises(DeviceError, match="open camera index 9: not found"):
        GenICamCamera(cti, index=9)
    with pytest.raises(DeviceError, match=r"no such \.cti file"):
        GenICamCamera("/nonexistent/producer.cti")


def test_close_releases_the_device(cti: str) -> None:
    first = GenICamCamera(cti, serial=MONO)
    other = GenICamCamera(cti, serial=OTHER_MONO)  # two cameras on one producer at once
    with pytest.raises(DeviceError, match="open camera serial SN_InterfaceA_0"):
        GenICamCamera(cti, serial=MONO)  # in use
    first.start()
    first.close()
    first.close()  # a second close is harmless
    with pytest.raises(DeviceError, match="closed"):
        first.start()
    with pytest.raises(DeviceError, match="closed"):
        first.state()  # refused: the node map is gone (touching it would crash GenApi)
    again = GenICamCamera(cti, serial=MONO)  # released: it opens again
    again.start()
    again.software_trigger()
    assert again.read(timeout_s=1.0).pixels.ndim == 2
    again.close()
    other.close()


def test_step_capture_through_the_capture_engine(cti: str) -> None:
    """The capture engine's step mode with this camera: software trigger per pattern, consecutive ids."""
    from speckle_lab.acquisition.frame_capture import StepCapture

    class Shutter(DMD):
        identity = DeviceIdentity("dmd", "test", "Shutter", "0")
        mirror_shape = (4, 4)
        max_pattern_rate_hz = 1000.0

        def show(self, pattern: np.ndarray) -> None:
            self.check_patterns(pattern, "show")

        def load_sequence(self, patterns, picture_time_us, trigger_in=False, trigger_out=True) -> None: ...
        def start(self, repeat: int = 1) -> None: ...
        def stop(self) -> None: ...
        def wait(self, timeout_s: float | None = None) -> None: ...
        def close(self) -> None: ...

    with GenICamCamera(cti, serial=MONO, fixed_exposure_us=40.0) as cam:
        cam.set_roi(Roi(0, 0, 16, 24))
        capture = StepCapture(Shutter(), cam, exposure_us=40.0, timeout_s=1.0, settle_s=0.0)
        capture.open()
        block = capture.capture(np.zeros((5, 4, 4), dtype=bool))
        capture.close()
    assert block.pixels.shape == (5, 16, 24) and block.pixels.dtype == np.uint8
    assert np.array_equal(block.pixels[2], ramp((16, 24), int(block.frame_ids[2])))
