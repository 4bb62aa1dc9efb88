"""A ViALUX DMD (V-series boards, ALP-4.x API) through ALP4lib (`from ALP4 import ALP4`).

ALP4lib wraps the vendor DLL; it is imported when the DMD is opened, never at import time. Patterns go
to the board as one byte per mirror, `[frame, row, col]` in C order (ALP_DATA_MSB_ALIGN, the default):
for 1-bit sequences bit 7 sets the mirror, so binary patterns are sent as 0 / 255.

One call bypasses ALP4lib: its `ProjInquire` (1.0.3 and 1.1.0) passes four arguments to
`AlpProjInquire(ALP_ID DeviceId, long InquireType, long *UserVarPtr)`, which alp.h declares with three (the DLL
would read the sequence id as the inquire type and the inquire type as the output pointer), so `wait()` calls
the DLL ALP4lib loaded with the header's signature (`_proj_inquire`).
"""

from __future__ import annotations

import ctypes
import functools
import importlib
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from speckle_lab.drivers.device import DeviceIdentity
from speckle_lab.drivers.dmd import DMD
from speckle_lab.drivers.errors import DeviceError, DeviceTimeout, OutOfRange

# ALP API values (alp.h), used when the installed ALP4lib does not define a name itself.
ALP_API_CONSTANTS: dict[str, int] = {
    "ALP_DEFAULT": 0,
    "ALP_DEVICE_NUMBER": 2000,
    "ALP_VERSION": 2001,
    "ALP_TRIGGER_EDGE": 2005,
    "ALP_EDGE_FALLING": 2008,
    "ALP_EDGE_RISING": 2009,
    "ALP_SEQ_REPEAT": 2100,
    "ALP_BIN_MODE": 2104,
    "ALP_BIN_NORMAL": 2105,
    "ALP_BIN_UNINTERRUPTED": 2106,
    "ALP_MIN_PICTURE_TIME": 2211,
    "ALP_PROJ_MODE": 2300,
    "ALP_MASTER": 2301,
    "ALP_SLAVE": 2302,
    "ALP_PROJ_STATE": 2400,
    "ALP_PROJ_ACTIVE": 1200,
    "ALP_PROJ_IDLE": 1201,
}
ALP_OK = 0
POLL_INTERVAL_S = 0.002


def alp_image_data(patterns: np.ndarray) -> tuple[np.ndarray, int]:
    """The flat uint8 stream ALP4lib's SeqPut expects for `[frame, row, col]` patterns, and the bit depth
    to allocate: bool -> 1 bit (0 / 255, bit 7 is the mirror), uint8 -> 8-bit gray as is."""
    if patterns.dtype == np.bool_:
        return np.ascontiguousarray(patterns, dtype=np.uint8).ravel() * np.uint8(255), 1
    return np.ascontiguousarray(patterns, dtype=np.uint8).ravel(), 8


@dataclass
class _Sequence:
    handle: Any  # ALP4lib's SequenceId (a ctypes c_long) as SeqAlloc returned it
    n_frames: int
    bit_depth: int
    picture_time_us: int
    trigger_in: bool


@dataclass
class _Run:
    sequence: _Sequence
    repeat: int  # 0: until stop()

    @property
    def duration_s(self) -> float:
        if self.repeat == 0:
            return math.inf
        return self.repeat * self.sequence.n_frames * self.sequence.picture_time_us * 1e-6


class Alp4DMD(DMD):
    """A ViALUX ALP-4 DMD. `show` runs a one-picture sequence continuously; `load_sequence` + `start`
    run a preloaded sequence, master (internal timing, a synch pulse per picture on the synch output)
    or slave (`trigger_in`: one picture per edge on the trigger input)."""

    def __init__(
        self,
        version: str = "4.3",
        lib_dir: str | None = None,
        device_number: int | None = None,
        max_pattern_rate_hz: float | None = None,
        trigger_edge: str = "rising",
        show_picture_time_us: int | None = None,
    ) -> None:
        if trigger_edge not in ("rising", "falling"):
            raise ValueError(f"trigger edge {trigger_edge!r} is neither 'rising' nor 'falling'")
        self._label = f"ViALUX ALP-{version} (device {device_number if device_number is not None else 'first'})"
        try:
            alp_module = importlib.import_module("ALP4")
        except ImportError as error:
            raise DeviceError(
                self._label, "import ALP4", f"{error}: install ALP4lib and the ViALUX ALP-{version} API"
            ) from None
        self._k = {name: int(getattr(alp_module, name, value)) for name, value in ALP_API_CONSTANTS.items()}
        self._alp_errors: dict[int, str] = dict(getattr(alp_module, "ALP_ERRORS", {}))
        self._trigger_edge = trigger_edge
        self._show_picture_time_us = show_picture_time_us
        self._lock = threading.RLock()
        self._closed = False
        self._sequence: _Sequence | None = None  # from load_sequence
        self._show_sequence: _Sequence | None = None  # the one-picture sequence `show` runs
        self._run: _Run | None = None
        self._identity: DeviceIdentity | None = None
        self._alp = self._call("load ALP library", alp_module.ALP4, version=version, libDir=lib_dir)
        self._call("initialize", self._alp.Initialize, device_number)
        try:
            self._mirror_shape = (int(self._alp.nSizeY), int(self._alp.nSizeX))  # the identity names it
            super().__init__(self._read_identity(version, device_number), self._mirror_shape)
            super().__init__(max_pattern_rate_hz=max_pattern_rate_hz or self._inquire_max_rate_hz())
        except BaseException:
            self._call("free", self._alp.Free)
            raise

    # -- vendor calls ---------------------------------------------------------------------------------
    def _call(self, command: str, function: Any, *args: Any, **kwargs: Any) -> Any:
        """Call ALP4lib; whatever it raises (ALPError, OSError, its own bugs) becomes a DeviceError."""
        try:
            return function(*args, **kwargs)
        except Exception as error:
            raise DeviceError(self._name, command, f"{type(error).__name__}: {error}") from None

    @property
    def _name(self) -> str:
        return str(self._identity) if self._identity is not None else self._label

    def _read_identity(self, version: str, device_number: int | None) -> DeviceIdentity:
        serial = self._inquire_text(self._k["ALP_DEVICE_NUMBER"]) or (
            str(device_number) if device_number is not None else "unknown"
        )
        rows, cols = self._mirror_shape
        model = f"ALP-{version} {cols}x{rows} (DMD type {getattr(getattr(self._alp, 'DMDType', None), 'value', '?')})"
        return DeviceIdentity("dmd", "ViALUX", model, serial, self._inquire_text(self._k["ALP_VERSION"]), "alp4")

    def _inquire_text(self, inquire_type: int) -> str:
        """DevInquire as text; '' where ALP4lib's DevInquire fails (some versions call `c_double.value()`)."""
        try:
            return str(int(self._alp.DevInquire(inquire_type)))
        except Exception:
            return ""

    def _proj_inquire(self, inquire_type: int, command: str) -> int:
        """`AlpProjInquire(ALP_ID DeviceId, long InquireType, long *UserVarPtr)` as alp.h declares it, on the DLL
        ALP4lib loaded (ALP4lib's own ProjInquire passes a fourth argument)."""
        value = ctypes.c_long(0)
        dll = self._alp._ALPLib
        code = self._call(
            command, lambda: dll.AlpProjInquire(self._alp.ALP_ID, ctypes.c_long(inquire_type), ctypes.byref(value))
        )
        if code != ALP_OK:
            reason = self._alp_errors.get(code, "unknown ALP error")
            raise DeviceError(self._name, command, f"AlpProjInquire returned {code}: {reason}")
        return int(value.value)

    def _inquire_max_rate_hz(self) -> float:
        """1 / ALP_MIN_PICTURE_TIME of a binary uninterrupted sequence: the board's fastest binary rate."""
        probe = self._allocate(1, 1, "inquire minimum picture time")
        try:
            min_us = self._call(
                "inquire ALP_MIN_PICTURE_TIME", self._alp.SeqInquire, self._k["ALP_MIN_PICTURE_TIME"], probe.handle
            )
        finally:
            self._free(probe, "inquire minimum picture time")
        if not min_us or min_us <= 0:
            raise DeviceError(
                self._name, "inquire ALP_MIN_PICTURE_TIME", f"got {min_us}; configure max_pattern_rate_hz instead"
            )
        return 1e6 / float(min_us)

    def _allocate(self, n_frames: int, bit_depth: int, command: str) -> _Sequence:
        handle = self._call(
            f"{command}: SeqAlloc({n_frames}, bitDepth={bit_depth})",
            self._alp.SeqAlloc,
            nbImg=n_frames,
            bitDepth=bit_depth,
        )
        sequence = _Sequence(handle, n_frames, bit_depth, 0, False)
        if bit_depth == 1:
            try:
                self._call(
                    f"{command}: binary uninterrupted mode",
                    self._alp.SeqControl,
                    self._k["ALP_BIN_MODE"],
                    self._k["ALP_BIN_UNINTERRUPTED"],
                    handle,
                )
            except DeviceError:
                self._free(sequence, command)
                raise
        return sequence

    def _free(self, sequence: _Sequence | None, command: str) -> None:
        if sequence is not None:
            self._call(f"{command}: FreeSeq", self._alp.FreeSeq, sequence.handle)

    def _halt(self, command: str) -> None:
        self._run = None
        self._call(f"{command}: Halt", self._alp.Halt)

    def _require_open(self, command: str) -> None:
        if self._closed:
            raise DeviceError(self._name, command, "the DMD is closed")

    # -- the DMD contract -----------------------------------------------------------------------------
    @property
    def trigger_out_line(self) -> str:
        """`TriggeredSequences`: the board's synch output pulses once per picture."""
        return "ALP synch output"

    def show(self, pattern: np.ndarray) -> None:
        """Halt whatever runs and display `pattern` continuously (master mode) until the next call."""
        patterns = self.check_patterns(pattern, "show")
        data, bit_depth = alp_image_data(patterns[:1])
        with self._lock:
            self._require_open("show")
            self._halt("show")
            old, self._show_sequence = self._show_sequence, None
            self._free(old, "show")
            sequence = self._allocate(1, bit_depth, "show")
            self._show_sequence = sequence
            self._call("show: SeqPut", self._alp.SeqPut, imgData=data, SequenceId=sequence.handle)
            timing = {} if self._show_picture_time_us is None else {"pictureTime": int(self._show_picture_time_us)}
            self._call("show: SetTiming", self._alp.SetTiming, SequenceId=sequence.handle, **timing)
            self._call("show: master mode", self._alp.ProjControl, self._k["ALP_PROJ_MODE"], self._k["ALP_MASTER"])
            self._call("show: Run (continuous)", self._alp.Run, SequenceId=sequence.handle, loop=True)

    def load_sequence(
        self,
        patterns: np.ndarray,
        picture_time_us: float,
        trigger_in: bool = False,
        trigger_out: bool = True,
    ) -> None:
        """Upload the patterns (1-bit uninterrupted for bool, 8-bit for uint8). The picture time is whole
        microseconds on the board. The synch output pulses once per picture whatever `trigger_out` says."""
        patterns = self.check_patterns(patterns, "load sequence")
        command = f"load sequence of {len(patterns)} patterns"
        self.check_picture_time_us(picture_time_us, command)
        picture_us = round(picture_time_us)
        data, bit_depth = alp_image_data(patterns)
        with self._lock:
            self._require_open(command)
            self._halt(command)
            old, self._sequence = self._sequence, None
            self._free(old, command)
            sequence = self._allocate(len(patterns), bit_depth, command)
            try:
                min_us = self._call(
                    f"{command}: inquire ALP_MIN_PICTURE_TIME",
                    self._alp.SeqInquire,
                    self._k["ALP_MIN_PICTURE_TIME"],
                    sequence.handle,
                )
                if min_us and picture_us < min_us:
                    raise OutOfRange(
                        self._name,
                        command,
                        f"picture time {picture_us} us is below this sequence's minimum {min_us} us ({bit_depth}-bit)",
                    )
                self._call(f"{command}: SeqPut", self._alp.SeqPut, imgData=data, SequenceId=sequence.handle)
                self._call(
                    f"{command}: SetTiming({picture_us} us)",
                    self._alp.SetTiming,
                    SequenceId=sequence.handle,
                    pictureTime=picture_us,
                )
            except DeviceError:
                self._free(sequence, command)
                raise
            sequence.picture_time_us = picture_us
            sequence.trigger_in = trigger_in
            self._sequence = sequence

    def start(self, repeat: int = 1) -> None:
        """Run the loaded sequence `repeat` times (ProjStart with ALP_SEQ_REPEAT), or until `stop` for 0
        (ProjStartCont); slave mode when it was loaded with `trigger_in`."""
        command = f"start(repeat={repeat})"
        with self._lock:
            self._require_open(command)
            sequence = self._sequence
            if sequence is None:
                raise OutOfRange(self._name, command, "no sequence is loaded")
            if repeat < 0:
                raise OutOfRange(self._name, command, "repeat must be >= 0")
            self._halt(command)  # projection settings change only while idle
            mode = self._k["ALP_SLAVE"] if sequence.trigger_in else self._k["ALP_MASTER"]
            self._call(f"{command}: projection mode", self._alp.ProjControl, self._k["ALP_PROJ_MODE"], mode)
            if sequence.trigger_in:
                edge = self._k["ALP_EDGE_RISING" if self._trigger_edge == "rising" else "ALP_EDGE_FALLING"]
                self._call(f"{command}: trigger edge", self._alp.DevControl, self._k["ALP_TRIGGER_EDGE"], edge)
            if repeat:
                self._call(
                    f"{command}: ALP_SEQ_REPEAT",
                    self._alp.SeqControl,
                    self._k["ALP_SEQ_REPEAT"],
                    repeat,
                    sequence.handle,
                )
            self._call(f"{command}: Run", self._alp.Run, SequenceId=sequence.handle, loop=repeat == 0)
            self._run = _Run(sequence, repeat)

    def stop(self) -> None:
        with self._lock:
            if not self._closed:
                self._halt("stop")

    def wait(self, timeout_s: float | None = None) -> None:
        """Poll ALP_PROJ_STATE until the board is idle. Without a timeout, a master-mode run gets its own
        duration plus 5 s; a run that never ends, or waits for external triggers, needs a timeout."""
        run = self._run
        if run is None:
            return
        command = f"wait(timeout_s={timeout_s})"
        if timeout_s is None:
            if run.repeat == 0 or run.sequence.trigger_in:
                raise DeviceError(
                    self._name, command, "this run has no known end (continuous or slave); give a timeout"
                )
            timeout_s = run.duration_s + 5.0
        deadline = time.monotonic() + timeout_s
        while True:
            with self._lock:
                if self._run is not run:  # halted or replaced meanwhile
                    return
                state = self._proj_inquire(self._k["ALP_PROJ_STATE"], f"{command}: ALP_PROJ_STATE")
                if state == self._k["ALP_PROJ_IDLE"]:
                    self._run = None
                    return
            if time.monotonic() >= deadline:
                raise DeviceTimeout(self._name, command, f"the sequence still runs after {timeout_s} s")
            time.sleep(POLL_INTERVAL_S)

    def state(self) -> dict[str, Any]:
        sequence = self._sequence
        return {
            **super().state(),
            "sequence_length": 0 if sequence is None else sequence.n_frames,
            "sequence_bit_depth": None if sequence is None else sequence.bit_depth,
            "picture_time_us": None if sequence is None else sequence.picture_time_us,
            "trigger_in": None if sequence is None else sequence.trigger_in,
            "running": self._run is not None,
        }

    def close(self) -> None:
        """Halt, free the sequences and the device. Every step is tried; the first failure is raised."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            errors: list[DeviceError] = []
            steps: list[Callable[[], None]] = [lambda: self._halt("close")]
            steps += [functools.partial(self._free, s, "close") for s in (self._sequence, self._show_sequence) if s]
            steps.append(lambda: self._call("close: Free", self._alp.Free))
            for step in steps:
                try:
                    step()
                except DeviceError as error:
                    errors.append(error)
            self._sequence = self._show_sequence = None
            if errors:
                raise errors[0]
