"""The GenICam camera's node handling for what TLSimu lacks (exposure, gain, offsets, trigger lines and
edges, 12-bit pixels, device timestamps), against a small in-memory node map in place of harvesters."""

from __future__ import annotations

import time
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from speckle_lab.drivers import DeviceError, DeviceTimeout, OutOfRange, Roi, TriggerMode
from speckle_lab.drivers.cameras import genicam as genicam_module
from speckle_lab.drivers.cameras.genicam import GenICamCamera, pixel_format_for_bit_depth


class OutOfRangeException(Exception):
    """Named as GenApi's, which the driver maps to OutOfRange."""


class AccessException(Exception):
    """Named as GenApi's refusal to write a locked node."""


class Numeric:
    def __init__(self, log: list, name: str, value: float, low: float, high: float, inc: int | None = None) -> None:
        self._log, self._name, self._value, self.min, self.max, self._inc = log, name, value, low, high, inc
        self.limit = high  # what the camera really takes; `max` is what it advertises
        self.locked = False

    @property
    def inc(self) -> int:
        if self._inc is None:
            raise AttributeError("float nodes have no increment")
        return self._inc

    @property
    def value(self) -> float:
        return self._value

    @value.setter
    def value(self, value: float) -> None:
        if self.locked:
            raise AccessException(f"Node is not writable: {self._name}")
        if not self.min <= value <= self.limit:
            raise OutOfRangeException(f"{value} must be equal or smaller than Max = {self.limit} in {self._name}")
        self._log.append((self._name, value))
        self._value = value


class Choice:
    def __init__(self, log: list, name: str, value: str, symbolics: tuple[str, ...]) -> None:
        self._log, self._name, self._value, self.symbolics = log, name, value, symbolics

    @property
    def value(self) -> str:
        return self._value

    @value.setter
    def value(self, value: str) -> None:
        self._log.append((self._name, value))
        self._value = value


class Command:
    def __init__(self) -> None:
        self.executed = 0

    def execute(self) -> None:
        self.executed += 1


class FakeBuffer:
    def __init__(self, pixels: np.ndarray, data_format: str, frame_id: int, timestamp_ns: int) -> None:
        component = SimpleNamespace(
            data=pixels.ravel(), data_format=data_format, height=pixels.shape[0], width=pixels.shape[1]
        )
        self.payload = SimpleNamespace(components=[component])
        self.frame_id, self.timestamp_ns = frame_id, timestamp_ns
        self.queued = False

    def __enter__(self) -> FakeBuffer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.queued = True


class FakeAcquirer:
    """A camera with the full SFNC set of nodes TLSimu lacks."""

    def __init__(self, exposure_node: str = "ExposureTime") -> None:
        self.log: list[tuple[str, Any]] = []
        log = self.log
        nodes = {
            "DeviceVendorName": SimpleNamespace(value="Acme"),
            "DeviceModelName": SimpleNamespace(value="Speckle-1"),
            "DeviceFirmwareVersion": SimpleNamespace(value="2.1"),
            "SensorHeight": SimpleNamespace(value=1024),
            "SensorWidth": SimpleNamespace(value=1280),
            "Height": Numeric(log, "Height", 1024, 2, 1024, 2),
            "Width": Numeric(log, "Width", 1280, 16, 1280, 16),
            "OffsetY": Numeric(log, "OffsetY", 0, 0, 1022, 2),
            "OffsetX": Numeric(log, "OffsetX", 0, 0, 1264, 8),
            "PixelFormat": Choice(log, "PixelFormat", "Mono12", ("Mono8", "Mono12", "Mono12p", "Mono16")),
            exposure_node: Numeric(log, exposure_node, 1000.0, 10.0, 1e6),
            "Gain": Numeric(log, "Gain", 0.0, 0.0, 24.0),
            "AcquisitionMode": Choice(log, "AcquisitionMode", "SingleFrame", ("Continuous", "SingleFrame")),
            "TriggerSelector": Choice(log, "TriggerSelector", "AcquisitionStart", ("AcquisitionStart", "FrameStart")),
            "TriggerMode": Choice(log, "TriggerMode", "Off", ("Off", "On")),
            "TriggerSource": Choice(log, "TriggerSource", "Line0", ("Software", "Line0", "Line1")),
            "TriggerActivation": Choice(log, "TriggerActivation", "RisingEdge", ("RisingEdge", "FallingEdge")),
            "TriggerSoftware": Command(),
        }
        self.remote_device = SimpleNamespace(node_map=SimpleNamespace(**nodes))
        self.min_num_buffers = 2
        self.num_buffers = 0
        self.started = self.destroyed = False
        self.buffers: list[FakeBuffer] = []
        self.handed_out: list[FakeBuffer] = []

    @property
    def nodes(self) -> Any:
        return self.remote_device.node_map

    def start(self) -> None:
        self.started = True

    def stop(self) -> None:
        self.started = False

    def destroy(self) -> None:
        self.destroyed = True

    def try_fetch(self, timeout: float) -> FakeBuffer | None:
        if self.buffers:
            self.handed_out.append(self.buffers.pop(0))
            return self.handed_out[-1]
        time.sleep(min(timeout, 0.01))
        return None


@pytest.fixture
def acquirer(monkeypatch: pytest.MonkeyPatch) -> FakeAcquirer:
    fake = FakeAcquirer()
    info = SimpleNamespace(serial_number="SN42", vendor="", model="", version="")
    monkeypatch.setattr(genicam_module, "open_acquirer", lambda cti, serial, index: (fake, info))
    monkeypatch.setattr(genicam_module, "release_acquirer", lambda cti, acquirer: acquirer.destroy())
    return fake


@pytest.fixture
def camera(acquirer: FakeAcquirer) -> Iterator[GenICamCamera]:
    with GenICamCamera("fake.cti", serial="SN42", trigger_line="Line1", trigger_edge="FallingEdge") as cam:
        acquirer.log.clear()
        yield cam


def test_open_configures_continuous_software_trigger_on_frame_start(acquirer: FakeAcquirer) -> None:
    with GenICamCamera("fake.cti") as cam:
        assert str(cam.identity) == "Acme Speckle-1 (serial SN42, genicam)" and cam.identity.firmware == "2.1"
        assert cam.sensor_shape == (1024, 1280) and cam.bit_depth == 12 and cam.dtype == np.uint16
        assert acquirer.log == [
            ("AcquisitionMode", "Continuous"),
            ("TriggerSelector", "FrameStart"),
            ("TriggerSource", "Software"),
            ("TriggerMode", "On"),
        ]
    assert acquirer.destroyed


def test_exposure_prefers_exposure_time_and_falls_back_to_exposure_time_abs(monkeypatch: pytest.MonkeyPatch) -> None:
    for node_name in ("ExposureTime", "ExposureTimeAbs"):
        fake = FakeAcquirer(exposure_node=node_name)
        info = SimpleNamespace(serial_number="SN1")
        monkeypatch.setattr(
            genicam_module, "open_acquirer", lambda cti, serial, index, fake=fake, info=info: (fake, info)
        )
        monkeypatch.setattr(genicam_module, "release_acquirer", lambda cti, acquirer: None)
        with GenICamCamera("fake.cti") as cam:
            cam.set_exposure_us(250.0)
            assert cam.exposure_us == 250.0 and getattr(fake.nodes, node_name).value == 250.0
            with pytest.raises(OutOfRange, match=rf"set exposure 5.0 us: {node_name} allows \[10.0, 1000000.0\] us"):
                cam.set_exposure_us(5.0)
            assert cam.exposure_us == 250.0


def test_gain_range_and_genapi_refusals(camera: GenICamCamera, acquirer: FakeAcquirer) -> None:
    camera.set_gain_db(6.0)
    assert camera.gain_db == 6.0
    with pytest.raises(OutOfRange, match=r"Gain allows \[0.0, 24.0\] dB"):
        camera.set_gain_db(30.0)
    acquirer.nodes.Gain.max = 100.0  # advertises more than it takes: GenApi's own refusal is OutOfRange too
    with pytest.raises(OutOfRange, match=r"set Gain = 30\.0: OutOfRangeException: 30\.0 must be equal or smaller"):
        camera.set_gain_db(30.0)
    acquirer.nodes.Gain.locked = True
    with pytest.raises(DeviceError, match=r"set Gain = 3\.0: AccessException: Node is not writable"):
        camera.set_gain_db(3.0)


def test_roi_with_offsets_is_written_in_a_safe_order_and_on_the_increment_grid(
    camera: GenICamCamera, acquirer: FakeAcquirer
) -> None:
    camera.set_roi(Roi(row=10, col=16, height=100, width=208))
    assert camera.roi == Roi(10, 16, 100, 208)
    assert acquirer.log == [
        ("OffsetY", 0), ("OffsetX", 0), ("Height", 100), ("Width", 208), ("OffsetY", 10), ("OffsetX", 16),
    ]  # fmt: skip
    acquirer.log.clear()
    with pytest.raises(OutOfRange, match="OffsetX moves in steps of 8 from 0: 8 or 16, not 12"):
        camera.set_roi(Roi(10, 12, 100, 208))
    with pytest.raises(OutOfRange, match="Width must be at least 16"):
        camera.set_roi(Roi(0, 0, 100, 8))
    assert acquirer.log == [] and camera.roi == Roi(10, 16, 100, 208)


def test_hardware_trigger_selects_line_and_edge(camera: GenICamCamera, acquirer: FakeAcquirer) -> None:
    camera.set_trigger_mode(TriggerMode.HARDWARE)
    assert camera.trigger_mode is TriggerMode.HARDWARE
    assert acquirer.log == [
        ("TriggerSelector", "FrameStart"),
        ("TriggerSource", "Line1"),
        ("TriggerActivation", "FallingEdge"),
        ("TriggerMode", "On"),
    ]
    camera.start()
    with pytest.raises(DeviceError, match="not acquiring in software trigger mode"):
        camera.software_trigger()
    camera.stop()
    camera.set_trigger_mode(TriggerMode.FREE_RUN)
    assert acquirer.log[-1] == ("TriggerMode", "Off")


def test_frames_copy_12_bit_pixels_and_anchor_device_timestamps(camera: GenICamCamera, acquirer: FakeAcquirer) -> None:
    pixels = np.arange(6 * 8, dtype=np.uint16).reshape(6, 8) * 85  # up to 3995: 12-bit values
    acquirer.buffers = [
        FakeBuffer(pixels, "Mono12", frame_id=7, timestamp_ns=5_000_000_000),
        FakeBuffer(pixels + 1, "Mono12", frame_id=8, timestamp_ns=5_012_500_000),
    ]
    camera.start(n_buffers=1)
    assert acquirer.num_buffers == 2  # raised to the producer's minimum
    first, second = camera.read(timeout_s=0.5), camera.read(timeout_s=0.5)
    assert first.pixels.dtype == np.uint16 and np.array_equal(first.pixels, pixels)
    assert not np.shares_memory(first.pixels, acquirer.handed_out[0].payload.components[0].data)
    assert all(buffer.queued for buffer in acquirer.handed_out)
    assert (first.frame_id, second.frame_id) == (7, 8)
    assert second.timestamp_s - first.timestamp_s == pytest.approx(0.0125, abs=1e-6)  # the camera's clock
    assert abs(first.timestamp_s - time.time()) < 5.0
    assert first.exposure_us == 1000.0


def test_a_padded_buffer_is_refused_and_a_silent_producer_times_out(
    camera: GenICamCamera, acquirer: FakeAcquirer
) -> None:
    buffer = FakeBuffer(np.zeros((4, 8), dtype=np.uint16), "Mono12", 1, 1)
    buffer.payload.components[0].width = 6  # line padding the driver does not undo
    acquirer.buffers = [buffer]
    camera.start()
    with pytest.raises(DeviceError, match="32 pixels in a 4x6 buffer"):
        camera.read(timeout_s=0.5)
    assert buffer.queued  # given back to the producer even so
    started = time.monotonic()
    with pytest.raises(DeviceTimeout):
        camera.read(timeout_s=0.1)
    assert time.monotonic() - started < 0.5


def test_bit_depth_names() -> None:
    assert [pixel_format_for_bit_depth(b) for b in (8, 10, 12, 16)] == ["Mono8", "Mono10", "Mono12", "Mono16"]
    with pytest.raises(ValueError, match="no monochrome pixel format of 14 bits"):
        pixel_format_for_bit_depth(14)
