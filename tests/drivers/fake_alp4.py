# ruff: noqa: N802 (the handlers are named after the DLL functions they stand for)
"""A stand-in for the ViALUX ALP-4.x API library (alp4395.dll / libalp43.so), under the real ALP4lib.

The driver reaches the DLL two ways: through ALP4lib (`from ALP4 import ALP4`, the `ALP4` class calls
`ct.CDLL(path).AlpXxx(...)`) and, for `wait()`, directly (`AlpProjInquire`). Both go to this fake, so what is
checked is what the DLL would receive. `install(monkeypatch)` gives the real `ALP4` module a `ctypes` whose
`CDLL` returns `FakeAlpDll`.

Every function checks its arguments against the C declaration in ViALUX's alp.h (`ALP_H`): the argument count,
and for each argument a ctypes value the C type accepts (by value: a Python int, `c_long`/`c_ulong` of the same
width; pointers: `byref`/`pointer` of a `c_long`/`c_ulong`, or a `c_void_p` for `void *`). A call that breaks the
declaration is recorded in `FakeAlpDll.violations` and raises `CSignatureViolation`, a BaseException, so no
`except Exception` in the driver or in ALP4lib turns it into an ordinary device error; the `board` fixture also
fails a test that left a violation behind.

Behind the checks is the board: device and sequence ids, projection settings only while idle, no upload into or
freeing of a running sequence, data read through the `void *` as PicLoad x rows x cols bytes, a minimum picture
time per bit depth, ALP return codes (the DLL returns them, ALP4lib raises `ALPError` for them).
"""

from __future__ import annotations

import ctypes as ct
import math
import time
import types
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

# -- alp.h ------------------------------------------------------------------------------------------------------
# The declarations below are ViALUX's alp.h, "ALP API Functions", as the vendor header reads in
# github.com/JQIamo/ALPD41Network include/alp.h (alp.h Version 13, (c) 2004-2015 ViALUX GmbH, commit 9b86dbd4),
# identical in the ALP-4.3 header of 2004-2024 (Version 28) that other repositories vendor. `typedef unsigned long
# ALP_ID;` (same header). ALP4lib 1.1.0's ALP4.py calls AlpProjInquire(ALP_ID, SequenceId, inquireType, &ret):
# four arguments for a three-argument declaration, which is why the driver calls the DLL itself for it.
#
#   long AlpDevAlloc( long DeviceNum, long InitFlag, ALP_ID* DeviceIdPtr);
#   long AlpDevHalt( ALP_ID DeviceId);
#   long AlpDevFree( ALP_ID DeviceId);
#   long AlpDevControl( ALP_ID DeviceId, long ControlType, long ControlValue);
#   long AlpDevInquire( ALP_ID DeviceId, long InquireType, long *UserVarPtr);
#   long AlpSeqAlloc( ALP_ID DeviceId, long BitPlanes, long PicNum, ALP_ID *SequenceIdPtr);
#   long AlpSeqFree( ALP_ID DeviceId, ALP_ID SequenceId);
#   long AlpSeqControl( ALP_ID DeviceId, ALP_ID SequenceId, long ControlType, long ControlValue);
#   long AlpSeqTiming( ALP_ID DeviceId, ALP_ID SequenceId, long IlluminateTime, long PictureTime,
#                      long SynchDelay, long SynchPulseWidth, long TriggerInDelay);
#   long AlpSeqInquire( ALP_ID DeviceId, ALP_ID SequenceId, long InquireType, long *UserVarPtr);
#   long AlpSeqPut( ALP_ID DeviceId, ALP_ID SequenceId, long PicOffset, long PicLoad, void *UserArrayPtr);
#   long AlpProjStart( ALP_ID DeviceId, ALP_ID SequenceId);
#   long AlpProjStartCont( ALP_ID DeviceId, ALP_ID SequenceId);
#   long AlpProjHalt( ALP_ID DeviceId);
#   long AlpProjWait( ALP_ID DeviceId);
#   long AlpProjControl( ALP_ID DeviceId, long ControlType, long ControlValue);
#   long AlpProjInquire( ALP_ID DeviceId, long InquireType, long *UserVarPtr);
ALP_H: dict[str, tuple[str, ...]] = {
    "AlpDevAlloc": ("long", "long", "ALP_ID*"),
    "AlpDevHalt": ("ALP_ID",),
    "AlpDevFree": ("ALP_ID",),
    "AlpDevControl": ("ALP_ID", "long", "long"),
    "AlpDevInquire": ("ALP_ID", "long", "long*"),
    "AlpSeqAlloc": ("ALP_ID", "long", "long", "ALP_ID*"),
    "AlpSeqFree": ("ALP_ID", "ALP_ID"),
    "AlpSeqControl": ("ALP_ID", "ALP_ID", "long", "long"),
    "AlpSeqTiming": ("ALP_ID", "ALP_ID", "long", "long", "long", "long", "long"),
    "AlpSeqInquire": ("ALP_ID", "ALP_ID", "long", "long*"),
    "AlpSeqPut": ("ALP_ID", "ALP_ID", "long", "long", "void*"),
    "AlpProjStart": ("ALP_ID", "ALP_ID"),
    "AlpProjStartCont": ("ALP_ID", "ALP_ID"),
    "AlpProjHalt": ("ALP_ID",),
    "AlpProjWait": ("ALP_ID",),
    "AlpProjControl": ("ALP_ID", "long", "long"),
    "AlpProjInquire": ("ALP_ID", "long", "long*"),
}

# alp.h's values (same header); return codes and the parameters this board knows.
ALP_OK, ALP_DEFAULT = 0, 0
ALP_NOT_ONLINE, ALP_NOT_IDLE, ALP_NOT_AVAILABLE, ALP_NOT_READY = 1001, 1002, 1003, 1004
ALP_PARM_INVALID, ALP_ADDR_INVALID, ALP_MEMORY_FULL, ALP_SEQ_IN_USE, ALP_ERROR_COMM = 1005, 1006, 1007, 1008, 1011
ALP_PROJ_ACTIVE, ALP_PROJ_IDLE = 1200, 1201
ALP_DEVICE_NUMBER, ALP_VERSION, ALP_TRIGGER_EDGE, ALP_EDGE_FALLING, ALP_EDGE_RISING = 2000, 2001, 2005, 2008, 2009
ALP_DEV_DMDTYPE, ALP_DEV_DISPLAY_HEIGHT, ALP_DEV_DISPLAY_WIDTH = 2021, 2057, 2058
ALP_SEQ_REPEAT, ALP_BITNUM, ALP_BIN_MODE, ALP_BIN_NORMAL, ALP_BIN_UNINTERRUPTED = 2100, 2103, 2104, 2105, 2106
ALP_DATA_FORMAT = 2110
ALP_BITPLANES, ALP_PICNUM, ALP_PICTURE_TIME, ALP_MIN_PICTURE_TIME = 2200, 2201, 2203, 2211
ALP_PROJ_MODE, ALP_MASTER, ALP_SLAVE, ALP_PROJ_STATE = 2300, 2301, 2302, 2400

#: Fastest picture times of the simulated board (a V-7000 XGA: 22.7 kHz binary uninterrupted).
MIN_PICTURE_TIME_US = {(1, True): 44, (1, False): 58, (8, False): 4_000}
C_LONG_MIN, C_ULONG_MAX = -(2 ** (8 * ct.sizeof(ct.c_long) - 1)), 2 ** (8 * ct.sizeof(ct.c_ulong)) - 1
_SAME_WIDTH_AS_LONG = (ct.c_long, ct.c_ulong)  # `typedef unsigned long ALP_ID`: one width, one register


class CSignatureViolation(BaseException):
    """A call the C declaration does not allow: on a real board an invalid parameter at best, a crash at worst."""


def _pointee(argument: Any) -> Any:
    """The ctypes object a `byref(...)` or `pointer(...)` argument points to, or None for anything else."""
    if type(argument).__name__ == "CArgObject":  # ct.byref(x)
        return argument._obj
    if isinstance(argument, ct._Pointer):
        return argument.contents
    return None


def check_argument(c_type: str, argument: Any) -> str | None:
    """Why `argument` cannot be passed where alp.h declares `c_type`; None when it can."""
    if c_type in ("long", "ALP_ID"):
        if isinstance(argument, bool) or not isinstance(argument, int | ct.c_long | ct.c_ulong | ct.c_int):
            return f"{type(argument).__name__} for a {c_type} passed by value"
        value = argument if isinstance(argument, int) else argument.value
        low, high = (0, C_ULONG_MAX) if c_type == "ALP_ID" else (C_LONG_MIN, -C_LONG_MIN - 1)
        if isinstance(argument, int) and not -(2**31) <= value < 2**31:
            return f"Python int {value} does not fit the C int ctypes passes it as"
        return None if low <= value <= high else f"{value} is out of range for {c_type}"
    if c_type in ("long*", "ALP_ID*"):
        target = _pointee(argument)
        if target is None:
            return f"{type(argument).__name__} where alp.h wants a {c_type} (byref of a c_long)"
        return None if isinstance(target, _SAME_WIDTH_AS_LONG) else f"pointer to {type(target).__name__}"
    if c_type == "void*":
        if isinstance(argument, ct.c_void_p) or _pointee(argument) is not None:
            return None
        return f"{type(argument).__name__} where alp.h wants a void *"
    raise AssertionError(f"unknown C type {c_type}")


def _value(argument: Any) -> Any:
    """What the fake records of one argument: the integer passed by value, or the pointee's type for a pointer."""
    if isinstance(argument, int):
        return argument
    if isinstance(argument, ct.c_long | ct.c_ulong | ct.c_int):
        return argument.value
    if isinstance(argument, ct.c_void_p):
        return "void*"
    target = _pointee(argument)
    return f"&{type(target).__name__}" if target is not None else repr(argument)


def _write(pointer: Any, value: int) -> None:
    _pointee(pointer).value = value


@dataclass
class FakeSequence:
    bit_depth: int
    n_frames: int
    data: np.ndarray | None = None
    picture_time_us: int = 33_334  # the ALP default: 30 Hz
    bin_uninterrupted: bool = False
    repeat: int = 1
    controls: dict[int, int] = field(default_factory=dict)


class FakeAlpDll:
    """One loaded API library with one board behind it; `FakeAlpDll.instances[-1]` after ALP4lib loaded it."""

    rows, cols, dmd_type, serial, firmware = 768, 1024, 4, 4242, 7  # XGA 0.7" type A (ALP_DMDTYPE_XGA_07A)
    instances: ClassVar[list[FakeAlpDll]] = []

    def __init__(self, path: str) -> None:
        self.path = path
        self.calls: list[tuple[str, tuple[Any, ...]]] = []
        self.violations: list[str] = []
        self.fail_next: dict[str, int] = {}  # DLL function -> the ALP return code of its next call
        self.device_id: int | None = None
        self.sequences: dict[int, FakeSequence] = {}
        self.proj_mode = ALP_MASTER
        self.trigger_edge = ALP_EDGE_RISING
        self.running: int | None = None
        self.running_until = 0.0
        self.freed = False
        self._next_id = 1
        FakeAlpDll.instances.append(self)

    def __getattr__(self, name: str) -> Any:
        """`dll.AlpXxx` as ctypes resolves an exported symbol; a name alp.h does not declare is missing."""
        if name not in ALP_H:
            raise AttributeError(f"{self.path}: undefined symbol: {name}")
        return lambda *arguments: self._call(name, arguments)

    # -- bookkeeping -------------------------------------------------------------------------------------------
    def names(self) -> list[str]:
        return [name for name, _ in self.calls]

    def _call(self, name: str, arguments: tuple[Any, ...]) -> int:
        declared = ALP_H[name]
        self.calls.append((name, tuple(_value(a) for a in arguments)))
        problems = [] if len(arguments) == len(declared) else [f"{len(arguments)} arguments, alp.h declares"]
        if not problems:
            problems = [
                f"argument {i + 1} ({c_type}): {why}"
                for i, (c_type, argument) in enumerate(zip(declared, arguments, strict=True))
                if (why := check_argument(c_type, argument)) is not None
            ]
        if problems:
            message = f"{name}({', '.join(declared)}) called with {self.calls[-1][1]}: {'; '.join(problems)}"
            self.violations.append(message)
            raise CSignatureViolation(message)
        if name in self.fail_next:
            return self.fail_next.pop(name)
        if name != "AlpDevAlloc" and (self.device_id is None or int(_plain(arguments[0])) != self.device_id):
            return ALP_NOT_AVAILABLE
        return getattr(self, f"_{name}")(*[a if _pointee(a) is not None else _plain(a) for a in arguments])

    def _active(self) -> bool:
        if self.running is not None and time.monotonic() >= self.running_until:
            self.running = None
        return self.running is not None

    # -- the board ---------------------------------------------------------------------------------------------
    def _AlpDevAlloc(self, device_num: int, init_flag: int, device_id_ptr: Any) -> int:
        if self.device_id is not None:
            return ALP_NOT_READY
        if device_num not in (ALP_DEFAULT, self.serial):  # DeviceNum: ALP_DEFAULT or the board's serial number
            return ALP_NOT_ONLINE
        self.device_id = 0xA1
        _write(device_id_ptr, self.device_id)
        return ALP_OK

    def _AlpDevInquire(self, device_id: int, inquire_type: int, value_ptr: Any) -> int:
        values = {
            ALP_DEVICE_NUMBER: self.serial,
            ALP_VERSION: self.firmware,
            ALP_DEV_DMDTYPE: self.dmd_type,
            ALP_DEV_DISPLAY_HEIGHT: self.rows,
            ALP_DEV_DISPLAY_WIDTH: self.cols,
        }
        if inquire_type not in values:
            return ALP_PARM_INVALID
        _write(value_ptr, values[inquire_type])
        return ALP_OK

    def _AlpDevControl(self, device_id: int, control_type: int, value: int) -> int:
        if control_type != ALP_TRIGGER_EDGE or value not in (ALP_EDGE_FALLING, ALP_EDGE_RISING):
            return ALP_PARM_INVALID
        self.trigger_edge = value
        return ALP_OK

    def _AlpDevHalt(self, device_id: int) -> int:
        self.running = None
        return ALP_OK

    _AlpProjHalt = _AlpDevHalt

    def _AlpDevFree(self, device_id: int) -> int:
        if self._active():
            return ALP_NOT_IDLE
        self.device_id, self.sequences, self.freed = None, {}, True
        return ALP_OK

    def _AlpSeqAlloc(self, device_id: int, bit_planes: int, pic_num: int, sequence_id_ptr: Any) -> int:
        if not 1 <= bit_planes <= 8 or pic_num < 1:
            return ALP_PARM_INVALID
        sequence_id, self._next_id = self._next_id, self._next_id + 1
        self.sequences[sequence_id] = FakeSequence(bit_planes, pic_num)
        _write(sequence_id_ptr, sequence_id)
        return ALP_OK

    def _AlpSeqFree(self, device_id: int, sequence_id: int) -> int:
        if sequence_id not in self.sequences:
            return ALP_NOT_AVAILABLE
        if self._active() and self.running == sequence_id:
            return ALP_SEQ_IN_USE
        del self.sequences[sequence_id]
        return ALP_OK

    def _AlpSeqControl(self, device_id: int, sequence_id: int, control_type: int, value: int) -> int:
        sequence = self.sequences.get(sequence_id)
        if sequence is None:
            return ALP_NOT_AVAILABLE
        if control_type == ALP_BIN_MODE and value in (ALP_BIN_NORMAL, ALP_BIN_UNINTERRUPTED):
            sequence.bin_uninterrupted = value == ALP_BIN_UNINTERRUPTED
        elif control_type == ALP_SEQ_REPEAT and value >= 1:
            sequence.repeat = value
        elif control_type not in (ALP_BITNUM, ALP_DATA_FORMAT):
            return ALP_PARM_INVALID
        sequence.controls[control_type] = value
        return ALP_OK

    def _min_picture_time_us(self, sequence: FakeSequence) -> int:
        return MIN_PICTURE_TIME_US[(1 if sequence.bit_depth == 1 else 8, sequence.bin_uninterrupted)]

    def _AlpSeqTiming(self, device_id: int, sequence_id: int, illuminate: int, picture: int, *delays: int) -> int:
        sequence = self.sequences.get(sequence_id)
        if sequence is None:
            return ALP_NOT_AVAILABLE
        if picture != ALP_DEFAULT:
            if picture < self._min_picture_time_us(sequence):
                return ALP_PARM_INVALID
            sequence.picture_time_us = picture
        return ALP_OK

    def _AlpSeqInquire(self, device_id: int, sequence_id: int, inquire_type: int, value_ptr: Any) -> int:
        sequence = self.sequences.get(sequence_id)
        if sequence is None:
            return ALP_NOT_AVAILABLE
        values = {
            ALP_MIN_PICTURE_TIME: self._min_picture_time_us(sequence),
            ALP_BITPLANES: sequence.bit_depth,
            ALP_PICNUM: sequence.n_frames,
            ALP_PICTURE_TIME: sequence.picture_time_us,
        }
        if inquire_type not in values:
            return ALP_PARM_INVALID
        _write(value_ptr, values[inquire_type])
        return ALP_OK

    def _AlpSeqPut(self, device_id: int, sequence_id: int, pic_offset: int, pic_load: int, data_ptr: Any) -> int:
        sequence = self.sequences.get(sequence_id)
        if sequence is None:
            return ALP_NOT_AVAILABLE
        if self._active() and self.running == sequence_id:
            return ALP_SEQ_IN_USE
        n_pictures = sequence.n_frames - pic_offset if pic_load == ALP_DEFAULT else pic_load
        if pic_offset < 0 or n_pictures < 1 or pic_offset + n_pictures > sequence.n_frames:
            return ALP_PARM_INVALID
        address = data_ptr.value if isinstance(data_ptr, ct.c_void_p) else ct.addressof(_pointee(data_ptr))
        if not address:
            return ALP_ADDR_INVALID
        picture_bytes = self.rows * self.cols
        received = np.frombuffer(ct.string_at(address, n_pictures * picture_bytes), dtype=np.uint8)
        if sequence.data is None:
            sequence.data = np.zeros(sequence.n_frames * picture_bytes, dtype=np.uint8)
        sequence.data[pic_offset * picture_bytes : (pic_offset + n_pictures) * picture_bytes] = received
        return ALP_OK

    def _AlpProjControl(self, device_id: int, control_type: int, value: int) -> int:
        if self._active():
            return ALP_NOT_IDLE
        if control_type != ALP_PROJ_MODE or value not in (ALP_MASTER, ALP_SLAVE):
            return ALP_PARM_INVALID
        self.proj_mode = value
        return ALP_OK

    def _AlpProjInquire(self, device_id: int, inquire_type: int, value_ptr: Any) -> int:
        if inquire_type == ALP_PROJ_STATE:
            _write(value_ptr, ALP_PROJ_ACTIVE if self._active() else ALP_PROJ_IDLE)
        elif inquire_type == ALP_PROJ_MODE:
            _write(value_ptr, self.proj_mode)
        else:
            return ALP_PARM_INVALID
        return ALP_OK

    def _start(self, sequence_id: int, continuous: bool) -> int:
        sequence = self.sequences.get(sequence_id)
        if sequence is None:
            return ALP_NOT_AVAILABLE
        if sequence.data is None:  # the board would show whatever its memory held: a test wants to know
            return ALP_PARM_INVALID
        self.running = sequence_id
        if continuous or self.proj_mode == ALP_SLAVE:  # a slave sequence waits for triggers that never come here
            self.running_until = math.inf
        else:
            duration_s = sequence.repeat * sequence.n_frames * sequence.picture_time_us * 1e-6
            self.running_until = time.monotonic() + duration_s
        return ALP_OK

    def _AlpProjStart(self, device_id: int, sequence_id: int) -> int:
        return self._start(sequence_id, continuous=False)

    def _AlpProjStartCont(self, device_id: int, sequence_id: int) -> int:
        return self._start(sequence_id, continuous=True)

    def _AlpProjWait(self, device_id: int) -> int:
        if self.running_until == math.inf and self._active():
            raise AssertionError("AlpProjWait on a run without end would block forever")
        self.running = None
        return ALP_OK


def _plain(argument: Any) -> Any:
    return argument.value if isinstance(argument, ct.c_long | ct.c_ulong | ct.c_int) else argument


def install(monkeypatch: Any) -> type[FakeAlpDll]:
    """Make the real ALP4lib load `FakeAlpDll` for one test; returns the class (its `instances` list emptied).

    Only ALP4lib's own `ct` name is replaced (a copy of ctypes whose CDLL is the fake), so nothing else in the
    process loads a fake library."""
    import pytest

    alp_module = pytest.importorskip("ALP4", reason="ALP4lib is a dev dependency: pip install -e '.[dev]'")
    fake_ctypes = types.ModuleType("ctypes")
    fake_ctypes.__dict__.update(vars(ct))
    fake_ctypes.CDLL = FakeAlpDll
    FakeAlpDll.instances.clear()
    monkeypatch.setattr(alp_module, "ct", fake_ctypes)
    return FakeAlpDll
