"""A GenICam camera through harvesters, on any GenTL producer (.cti): area cameras over GigE Vision or
USB3 Vision, or the TLSimu producer shipped with the `genicam` package for tests.

harvesters and genicam are imported when a camera is opened, never at import time.
"""

from __future__ import annotations

import contextlib
import importlib.util
import math
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from speckle_lab.drivers.camera import Camera, Frame, Roi, TriggerMode
from speckle_lab.drivers.cameras import genicam_nodes as nodes
from speckle_lab.drivers.cameras.harvester_pool import open_acquirer, release_acquirer
from speckle_lab.drivers.device import DeviceIdentity
from speckle_lab.drivers.errors import DeviceError, DeviceTimeout, OutOfRange

PIXEL_FORMAT_BITS: dict[str, int] = {"Mono8": 8, "Mono10": 10, "Mono12": 12, "Mono16": 16}
TRIGGER_EDGES = ("RisingEdge", "FallingEdge")
EXPOSURE_NODES = ("ExposureTime", "ExposureTimeAbs")  # SFNC name first, then the pre-SFNC-2 GigE name


def pixel_format_for_bit_depth(bit_depth: int) -> str:
    """The unpacked monochrome pixel format of a bit depth (a bench setting `bit_depth = 12` -> `Mono12`)."""
    for name, bits in PIXEL_FORMAT_BITS.items():
        if bits == bit_depth:
            return name
    raise ValueError(f"no monochrome pixel format of {bit_depth} bits; supported: {sorted(PIXEL_FORMAT_BITS.values())}")


def find_tlsimu_cti() -> Path | None:
    """The TLSimu GenTL producer inside the installed `genicam` package (1.5.0 ships it), or None."""
    spec = importlib.util.find_spec("genicam")
    if spec is None or spec.origin is None:
        return None
    cti = Path(spec.origin).parent / "TLSimu.cti"
    return cti if cti.is_file() else None


class GenICamCamera(Camera):
    """A monochrome GenICam camera. Settings that change the payload (ROI, pixel format, trigger) are set
    while stopped; `read` copies the pixels out of the GenTL buffer before the buffer is queued again.

    Cameras without an exposure node (TLSimu) report `fixed_exposure_us` (NaN when not given) and accept
    only that value; cameras without a `Gain` node have a fixed gain of 0 dB.
    """

    def __init__(
        self,
        cti_path: str | Path,
        serial: str | None = None,
        index: int = 0,
        pixel_format: str | None = None,
        trigger_line: str = "Line0",
        trigger_edge: str = "RisingEdge",
        fixed_exposure_us: float | None = None,
    ) -> None:
        if trigger_edge not in TRIGGER_EDGES:
            raise ValueError(f"trigger edge {trigger_edge!r} is not one of {TRIGGER_EDGES}")
        if pixel_format is not None and pixel_format not in PIXEL_FORMAT_BITS:
            raise ValueError(f"pixel format {pixel_format!r} is not one of {list(PIXEL_FORMAT_BITS)}")
        self._cti = Path(cti_path)
        self._trigger_line = trigger_line
        self._trigger_edge = trigger_edge
        self._fixed_exposure_us = fixed_exposure_us
        self._lock = threading.RLock()
        self._acquiring = False
        self._closed = False
        self._anchor: tuple[float, int] | None = None  # (host epoch s, device ns) of the first frame after start
        self._frames_read = 0
        self._acquirer, info = open_acquirer(self._cti, serial, index)
        try:
            self._nodes = self._acquirer.remote_device.node_map
            super().__init__(self._read_identity(info))  # errors while reading the sensor name the camera
            super().__init__(sensor_shape=self._read_sensor_shape())
            self._pixel_format = self._current_pixel_format(pixel_format)
            if pixel_format is not None:
                nodes.write_choice(str(self._identity), "PixelFormat", self._node("PixelFormat"), pixel_format)
            acquisition_mode = self._node("AcquisitionMode")
            if acquisition_mode is not None and "Continuous" in nodes.symbolics(acquisition_mode):
                nodes.write(str(self._identity), "AcquisitionMode", acquisition_mode, "Continuous")
            self._mode = TriggerMode.FREE_RUN
            self._exposure_cache_us = self.exposure_us
            try:
                self.set_trigger_mode(TriggerMode.SOFTWARE)
            except OutOfRange:
                self.set_trigger_mode(TriggerMode.FREE_RUN)
        except BaseException:
            release_acquirer(self._cti, self._acquirer)
            raise

    # -- identity and geometry ------------------------------------------------------------------------
    def _node(self, name: str) -> Any | None:
        """The node, None when the camera lacks it. After close the node map is gone (touching it would
        crash the GenApi library), so every access goes through here and is refused."""
        if self._closed:
            raise DeviceError(str(self._identity), f"access {name}", "the camera is closed")
        return nodes.node(self._nodes, name)

    def _exposure_node(self) -> tuple[str, Any] | None:
        for name in EXPOSURE_NODES:
            entry = self._node(name)
            if entry is not None:
                return name, entry
        return None

    def _text(self, *names: str) -> str:
        for name in names:
            entry = self._node(name)
            if entry is not None:
                try:
                    value = str(entry.value)
                except Exception:
                    continue
                if value:
                    return value
        return ""

    def _read_identity(self, info: Any) -> DeviceIdentity:
        return DeviceIdentity(
            kind="camera",
            vendor=self._text("DeviceVendorName") or str(getattr(info, "vendor", "")),
            model=self._text("DeviceModelName") or str(getattr(info, "model", "")),
            serial=str(getattr(info, "serial_number", "")) or self._text("DeviceSerialNumber"),
            firmware=self._text("DeviceFirmwareVersion", "DeviceVersion") or str(getattr(info, "version", "")),
            backend="genicam",
        )

    def _read_sensor_shape(self) -> tuple[int, int]:
        """SensorHeight/SensorWidth, else HeightMax/WidthMax, else the largest Height/Width at the offset."""
        for rows_name, cols_name in (("SensorHeight", "SensorWidth"), ("HeightMax", "WidthMax")):
            rows, cols = self._node(rows_name), self._node(cols_name)
            if rows is not None and cols is not None:
                return int(rows.value), int(cols.value)
        height, width = self._required("Height"), self._required("Width")
        offset_y, offset_x = self._node("OffsetY"), self._node("OffsetX")
        rows = int(height.max) + (int(offset_y.value) if offset_y is not None else 0)
        cols = int(width.max) + (int(offset_x.value) if offset_x is not None else 0)
        return rows, cols

    def _required(self, name: str) -> Any:
        entry = self._node(name)
        if entry is None:
            raise DeviceError(str(self._identity), f"read {name}", f"the camera has no {name} node")
        return entry

    def _current_pixel_format(self, wanted: str | None) -> str:
        current = str(nodes.read(str(self._identity), "PixelFormat", self._required("PixelFormat")))
        chosen = wanted or current
        if chosen not in PIXEL_FORMAT_BITS:
            raise OutOfRange(
                str(self._identity), "open", f"pixel format {chosen} is not one of {list(PIXEL_FORMAT_BITS)}"
            )
        return chosen

    @property
    def pixel_format(self) -> str:
        return self._pixel_format

    def set_pixel_format(self, pixel_format: str) -> None:
        """Mono8, Mono10, Mono12 or Mono16 (unpacked); sets `bit_depth` and `dtype`. While stopped."""
        command = f"set pixel format {pixel_format}"
        if pixel_format not in PIXEL_FORMAT_BITS:
            raise OutOfRange(str(self._identity), command, f"supported formats are {list(PIXEL_FORMAT_BITS)}")
        with self._lock:
            self._require_stopped(command)
            nodes.write_choice(str(self._identity), "PixelFormat", self._node("PixelFormat"), pixel_format)
            self._pixel_format = pixel_format

    @property
    def bit_depth(self) -> int:
        return PIXEL_FORMAT_BITS[self._pixel_format]

    # -- exposure and gain ----------------------------------------------------------------------------
    @property
    def exposure_us(self) -> float:
        node = self._exposure_node()
        if node is None:
            return math.nan if self._fixed_exposure_us is None else float(self._fixed_exposure_us)
        name, entry = node
        return float(nodes.read(str(self._identity), name, entry))

    def set_exposure_us(self, exposure_us: float) -> None:
        command = f"set exposure {exposure_us} us"
        with self._lock:
            node = self._exposure_node()
            if node is None:
                fixed = self._fixed_exposure_us
                if fixed is None or not math.isclose(exposure_us, fixed, rel_tol=1e-9):
                    raise OutOfRange(
                        str(self._identity),
                        command,
                        f"the camera has no {' or '.join(EXPOSURE_NODES)} node; its exposure is fixed"
                        + ("" if fixed is None else f" at {fixed} us (fixed_exposure_us)"),
                    )
                return
            name, entry = node
            low, high, _ = nodes.limits(entry)
            if not low <= exposure_us <= high:
                raise OutOfRange(str(self._identity), command, f"{name} allows [{low}, {high}] us")
            nodes.write(str(self._identity), name, entry, float(exposure_us))
            self._exposure_cache_us = float(entry.value)

    @property
    def gain_db(self) -> float:
        entry = self._node("Gain")
        return 0.0 if entry is None else float(nodes.read(str(self._identity), "Gain", entry))

    def set_gain_db(self, gain_db: float) -> None:
        command = f"set gain {gain_db} dB"
        with self._lock:
            entry = self._node("Gain")
            if entry is None:
                if gain_db != 0.0:
                    raise OutOfRange(str(self._identity), command, "the camera has no Gain node; its gain is 0 dB")
                return
            low, high, _ = nodes.limits(entry)
            if not low <= gain_db <= high:
                raise OutOfRange(str(self._identity), command, f"Gain allows [{low}, {high}] dB")
            nodes.write(str(self._identity), "Gain", entry, float(gain_db))

    # -- region of interest ---------------------------------------------------------------------------
    @property
    def roi(self) -> Roi:
        device = str(self._identity)
        offset_y, offset_x = self._node("OffsetY"), self._node("OffsetX")
        return Roi(
            row=0 if offset_y is None else int(nodes.read(device, "OffsetY", offset_y)),
            col=0 if offset_x is None else int(nodes.read(device, "OffsetX", offset_x)),
            height=int(nodes.read(device, "Height", self._required("Height"))),
            width=int(nodes.read(device, "Width", self._required("Width"))),
        )

    def _check_step(self, command: str, name: str, value: int) -> None:
        """Refuse (never round) a value off the node's increment grid or without a node to hold it."""
        entry = self._node(name)
        if entry is None:
            if value != 0:
                raise OutOfRange(str(self._identity), command, f"the camera has no {name} node: {name} must be 0")
            return
        low, _, inc = nodes.limits(entry)
        if name.startswith("Offset"):
            low = 0
        if value < low:
            raise OutOfRange(str(self._identity), command, f"{name} must be at least {low}")
        if inc and (value - low) % int(inc):
            below = value - (value - low) % int(inc)
            raise OutOfRange(
                str(self._identity),
                command,
                f"{name} moves in steps of {int(inc)} from {low}: {below} or {below + int(inc)}, not {value}",
            )

    def set_roi(self, roi: Roi) -> None:
        command = f"set roi {roi}"
        with self._lock:
            self.check_roi(roi)
            self._require_stopped(command)
            steps = {"OffsetY": roi.row, "OffsetX": roi.col, "Height": roi.height, "Width": roi.width}
            for name, value in steps.items():
                self._check_step(command, name, value)
            previous = self.roi
            try:
                self._write_roi(roi)
            except DeviceError:
                with contextlib.suppress(DeviceError):  # best effort: put the old region back
                    self._write_roi(previous)
                raise

    def _write_roi(self, roi: Roi) -> None:
        """Offsets to 0 first, so the new size fits whatever the old offsets were; then size, then offsets."""
        device = str(self._identity)
        offsets = [(name, self._node(name), value) for name, value in (("OffsetY", roi.row), ("OffsetX", roi.col))]
        for name, entry, _ in offsets:
            if entry is not None:
                nodes.write(device, name, entry, 0)
        nodes.write(device, "Height", self._required("Height"), roi.height)
        nodes.write(device, "Width", self._required("Width"), roi.width)
        for name, entry, value in offsets:
            if entry is not None:
                nodes.write(device, name, entry, value)

    # -- trigger --------------------------------------------------------------------------------------
    @property
    def trigger_mode(self) -> TriggerMode:
        return self._mode

    @property
    def trigger_line(self) -> str:
        return self._trigger_line

    @property
    def trigger_edge(self) -> str:
        return self._trigger_edge

    def set_trigger_mode(self, mode: TriggerMode) -> None:
        """Software (TriggerSource Software), hardware (the configured line and edge) or free run
        (TriggerMode Off), on the FrameStart trigger when the camera has a TriggerSelector."""
        mode = TriggerMode(mode)
        command = f"set trigger mode {mode}"
        device = str(self._identity)
        with self._lock:
            self._require_stopped(command)
            writes = self._trigger_writes(mode, command)
            selector = self._node("TriggerSelector")
            if selector is not None and "FrameStart" in nodes.symbolics(selector):
                nodes.write(device, "TriggerSelector", selector, "FrameStart")
            for name, value in writes:
                nodes.write(device, name, self._node(name), value)
            self._mode = mode

    def _trigger_writes(self, mode: TriggerMode, command: str) -> list[tuple[str, str]]:
        """The node writes for a mode, all checked before the first is made (nothing changes on refusal)."""
        device = str(self._identity)
        trigger_mode = self._node("TriggerMode")
        want_mode = "Off" if mode is TriggerMode.FREE_RUN else "On"
        if trigger_mode is None:
            if mode is TriggerMode.FREE_RUN:
                return []
            raise OutOfRange(device, command, "the camera has no TriggerMode node")
        if want_mode not in nodes.symbolics(trigger_mode):
            raise OutOfRange(device, command, f"TriggerMode offers {', '.join(nodes.symbolics(trigger_mode))}")
        if mode is TriggerMode.FREE_RUN:
            return [("TriggerMode", "Off")]
        source = self._node("TriggerSource")
        offered = nodes.symbolics(source) if source is not None else ()
        wanted_source = "Software" if mode is TriggerMode.SOFTWARE else self._trigger_line
        if wanted_source not in offered:
            raise OutOfRange(
                device, command, f"TriggerSource {wanted_source} is not offered; the camera has {', '.join(offered)}"
            )
        writes = [("TriggerSource", wanted_source)]
        if mode is TriggerMode.SOFTWARE:
            if self._node("TriggerSoftware") is None:
                raise OutOfRange(device, command, "the camera has no TriggerSoftware command")
        else:
            activation = self._node("TriggerActivation")
            if activation is not None:
                if self._trigger_edge not in nodes.symbolics(activation):
                    raise OutOfRange(
                        device, command, f"TriggerActivation offers {', '.join(nodes.symbolics(activation))}"
                    )
                writes.append(("TriggerActivation", self._trigger_edge))
            elif self._trigger_edge != "RisingEdge":
                raise OutOfRange(device, command, "the camera has no TriggerActivation node to select the edge")
        return [*writes, ("TriggerMode", "On")]

    # -- acquisition ----------------------------------------------------------------------------------
    @property
    def acquiring(self) -> bool:
        return self._acquiring

    def _require_open(self, command: str) -> None:
        if self._closed:
            raise DeviceError(str(self._identity), command, "the camera is closed")

    def _require_stopped(self, command: str) -> None:
        self._require_open(command)
        if self._acquiring:
            raise DeviceError(str(self._identity), command, "stop acquisition first")

    def start(self, n_buffers: int = 16) -> None:
        """Announce `n_buffers` buffers (at least the producer's minimum) and start streaming. A camera
        already acquiring is stopped first, so no stale frame survives a restart."""
        command = f"start({n_buffers} buffers)"
        with self._lock:
            self._require_open(command)
            if n_buffers < 1:
                raise OutOfRange(str(self._identity), command, "at least one buffer is needed")
            if self._acquiring:
                self.stop()
            try:
                minimum = int(getattr(self._acquirer, "min_num_buffers", 1))
                self._acquirer.num_buffers = max(int(n_buffers), minimum)
                self._acquirer.start()
            except Exception as error:
                raise DeviceError(str(self._identity), command, f"{type(error).__name__}: {error}") from None
            self._exposure_cache_us = self.exposure_us
            self._anchor = None
            self._acquiring = True

    def stop(self) -> None:
        with self._lock:
            if self._closed or not self._acquiring:
                return
            self._acquiring = False
            try:
                self._acquirer.stop()
            except Exception as error:
                raise DeviceError(str(self._identity), "stop", f"{type(error).__name__}: {error}") from None

    def software_trigger(self) -> None:
        with self._lock:
            if not self._acquiring or self._mode is not TriggerMode.SOFTWARE:
                raise DeviceError(
                    str(self._identity), "software trigger", "the camera is not acquiring in software trigger mode"
                )
            nodes.execute(str(self._identity), "TriggerSoftware", self._node("TriggerSoftware"))

    def read(self, timeout_s: float) -> Frame:
        """The next frame; `DeviceTimeout` when none completes within `timeout_s` (a missed trigger)."""
        command = f"read frame (timeout {timeout_s} s)"
        with self._lock:
            if not self._acquiring:
                raise DeviceError(str(self._identity), command, "the camera is not acquiring; call start()")
            buffer = self._fetch(command, timeout_s)
            with buffer:  # queued back to the producer on leaving, so copy the pixels first
                pixels = self._copy_pixels(buffer, command)
                frame_id = self._frame_id(buffer)
                timestamp_s = self._timestamp_s(buffer)
            self._frames_read += 1
            return Frame(pixels, frame_id, timestamp_s, self._exposure_cache_us)

    def _fetch(self, command: str, timeout_s: float) -> Any:
        """harvesters' own `fetch(timeout=0)` waits forever and retries incomplete buffers without a
        deadline; `try_fetch` in a loop against one deadline keeps the wait bounded."""
        deadline = time.monotonic() + max(float(timeout_s), 0.0)
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise DeviceTimeout(
                    str(self._identity), command, f"no complete frame within {timeout_s} s (missed trigger?)"
                )
            try:
                buffer = self._acquirer.try_fetch(timeout=left)
            except Exception as error:
                raise DeviceError(str(self._identity), command, f"{type(error).__name__}: {error}") from None
            if buffer is not None:
                return buffer

    def _copy_pixels(self, buffer: Any, command: str) -> np.ndarray:
        component = buffer.payload.components[0]
        delivered = str(component.data_format)
        if delivered != self._pixel_format:
            raise DeviceError(
                str(self._identity),
                command,
                f"the buffer holds {delivered} pixels but PixelFormat is {self._pixel_format}: the producer "
                "ignores the pixel format setting",
            )
        rows, cols = int(component.height), int(component.width)
        data = component.data
        if data is None or data.size != rows * cols:
            size = None if data is None else data.size
            raise DeviceError(str(self._identity), command, f"{size} pixels in a {rows}x{cols} buffer (line padding?)")
        return np.array(data.reshape(rows, cols), dtype=self.dtype, copy=True)

    def _frame_id(self, buffer: Any) -> int:
        try:
            return int(buffer.frame_id)
        except Exception:  # producers without a frame id: count frames read
            return self._frames_read

    def _timestamp_s(self, buffer: Any) -> float:
        """Seconds since the epoch with the camera clock's precision: the device timestamp, anchored to the
        host clock at the first frame after `start` (and again if the camera clock jumps back)."""
        now = time.time()
        try:
            ticks_ns = int(buffer.timestamp_ns)
        except Exception:
            ticks_ns = 0
        if ticks_ns <= 0:
            return now
        if self._anchor is None or ticks_ns < self._anchor[1]:
            self._anchor = (now, ticks_ns)
        return self._anchor[0] + (ticks_ns - self._anchor[1]) * 1e-9

    # -- lifetime -------------------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        return {
            **super().state(),
            "pixel_format": self._pixel_format,
            "trigger_line": self._trigger_line,
            "trigger_edge": self._trigger_edge,
            "producer": str(self._cti),
        }

    def close(self) -> None:
        """Stop streaming and release the device (another process or camera object may then open it)."""
        with self._lock:
            if self._closed:
                return
            try:
                self.stop()
            finally:
                self._closed = True
                release_acquirer(self._cti, self._acquirer)
