# ruff: noqa: N802 (the vendor's method names)
"""A stand-in for the ALP4lib module (`from ALP4 import ALP4`), at its Python boundary.

It has the `ALP4` class methods the driver uses, with ALP4lib's signatures, the ALP API's constants and
error codes (raised as `ALPError`, as ALP4lib does), and the board rules that bite in practice: projection
settings only while idle, no upload into or freeing of a running sequence, data sized nbImg x rows x cols,
a minimum picture time per bit depth. Every call is recorded. Install with `install(monkeypatch)`.
"""

from __future__ import annotations

import ctypes as ct
import math
import sys
import time
import types
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

ALP_DEFAULT = 0
ALP_OK = 0
ALP_DEVICE_NUMBER = 2000
ALP_VERSION = 2001
ALP_TRIGGER_EDGE = 2005
ALP_EDGE_FALLING = 2008
ALP_EDGE_RISING = 2009
ALP_SEQ_REPEAT = 2100
ALP_BITNUM = 2103
ALP_BIN_MODE = 2104
ALP_BIN_NORMAL = 2105
ALP_BIN_UNINTERRUPTED = 2106
ALP_MIN_PICTURE_TIME = 2211
ALP_PROJ_MODE = 2300
ALP_MASTER = 2301
ALP_SLAVE = 2302
ALP_PROJ_STATE = 2400
# ALP_PROJ_ACTIVE (1200) and ALP_PROJ_IDLE (1201) are not defined by ALP4lib: the driver brings them.
PROJ_ACTIVE, PROJ_IDLE = 1200, 1201

ALP_ERRORS = {
    1001: "The specified ALP device has not been found or is not ready.",
    1002: "The ALP device is not in idle state.",
    1005: "One of the parameters is invalid.",
    1007: "The requested memory is not available (full?).",
    1008: "The sequence specified is currently in use.",
    1011: "Communication error.",
}

#: Fastest picture times of the simulated board (a V-7000 XGA: 22.7 kHz binary uninterrupted).
MIN_PICTURE_TIME_US = {(1, True): 44, (1, False): 58, (8, False): 4_000}


class ALPError(Exception):
    def __init__(self, error_code: int) -> None:
        self.code = error_code
        super().__init__(ALP_ERRORS[error_code])


@dataclass
class FakeSequence:
    bit_depth: int
    n_frames: int
    data: np.ndarray | None = None
    picture_time_us: int = 33_334  # the ALP default: 30 Hz
    bin_uninterrupted: bool = False
    repeat: int = 1
    controls: dict[int, int] = field(default_factory=dict)


class ALP4:
    """The board: one instance per `ALP4(...)`, reachable afterwards as `FakeAlp4Module.instances[-1]`."""

    rows, cols, dmd_type = 768, 1024, 4  # XGA 0.7" type A
    instances: ClassVar[list[ALP4]] = []

    def __init__(self, version: str = "4.3", libDir: str | None = None) -> None:
        self.version, self.lib_dir = version, libDir
        self.calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []
        self.fail_next: dict[str, int] = {}  # method name -> ALP error code raised at its next call
        self.sequences: dict[int, FakeSequence] = {}
        self.proj_mode = ALP_MASTER
        self.trigger_edge = ALP_EDGE_RISING
        self.running: int | None = None
        self.running_until = 0.0
        self.allocated = False
        self.freed = False
        self._next_id = 1
        ALP4.instances.append(self)

    # -- bookkeeping ----------------------------------------------------------------------------------
    def _enter(self, name: str, *args: Any, **kwargs: Any) -> None:
        self.calls.append((name, args, kwargs))
        if name in self.fail_next:
            raise ALPError(self.fail_next.pop(name))
        if name not in ("Initialize",) and not self.allocated:
            raise ALPError(1001)

    def names(self) -> list[str]:
        return [name for name, _, _ in self.calls]

    def _active(self) -> bool:
        if self.running is not None and time.monotonic() >= self.running_until:
            self.running = None
        return self.running is not None

    def _sequence(self, sequence_id: Any) -> FakeSequence:
        key = int(getattr(sequence_id, "value", sequence_id or 0))
        if key not in self.sequences:
            raise ALPError(1005)
        return self.sequences[key]

    # -- ALP4lib's API --------------------------------------------------------------------------------
    def Initialize(self, DeviceNum: int | None = None) -> None:
        self._enter("Initialize", DeviceNum)
        self.allocated = True
        self.nSizeX, self.nSizeY = self.cols, self.rows
        self.DMDType = ct.c_long(self.dmd_type)

    def DevInquire(self, inquireType: int) -> int:
        self._enter("DevInquire", inquireType)
        return {ALP_DEVICE_NUMBER: 4242, ALP_VERSION: 7}[inquireType]

    def SeqAlloc(self, nbImg: int = 1, bitDepth: int = 1) -> ct.c_long:
        self._enter("SeqAlloc", nbImg=nbImg, bitDepth=bitDepth)
        if not 1 <= bitDepth <= 8 or nbImg < 1:
            raise ALPError(1005)
        sequence_id = ct.c_long(self._next_id)
        self._next_id += 1
        self.sequences[sequence_id.value] = FakeSequence(bitDepth, nbImg)
        return sequence_id

    def SeqControl(self, controlType: int, value: int, SequenceId: Any = None) -> None:
        self._enter("SeqControl", controlType, value, SequenceId)
        sequence = self._sequence(SequenceId)
        sequence.controls[controlType] = value
        if controlType == ALP_BIN_MODE:
            sequence.bin_uninterrupted = value == ALP_BIN_UNINTERRUPTED
        elif controlType == ALP_SEQ_REPEAT:
            sequence.repeat = value

    def SeqInquire(self, inquireType: int, SequenceId: Any = None) -> int:
        self._enter("SeqInquire", inquireType, SequenceId)
        sequence = self._sequence(SequenceId)
        if inquireType == ALP_MIN_PICTURE_TIME:
            return MIN_PICTURE_TIME_US[(1 if sequence.bit_depth == 1 else 8, sequence.bin_uninterrupted)]
        raise ALPError(1005)

    def SeqPut(
        self, imgData: Any, SequenceId: Any = None, PicOffset: int = 0, PicLoad: int = 0, dataFormat: str = "Python"
    ) -> None:
        self._enter("SeqPut", SequenceId=SequenceId, PicOffset=PicOffset, PicLoad=PicLoad)
        sequence = self._sequence(SequenceId)
        if self._active() and self.sequences.get(self.running) is sequence:
            raise ALPError(1008)
        data = np.asarray(imgData).astype(np.uint8)  # what ALP4lib does before handing the pointer over
        if data.ndim != 1 or data.size != sequence.n_frames * self.rows * self.cols:
            raise ALPError(1005)
        sequence.data = data.copy()

    def SetTiming(
        self,
        SequenceId: Any = None,
        illuminationTime: int | None = None,
        pictureTime: int | None = None,
        synchDelay: int | None = None,
        synchPulseWidth: int | None = None,
        triggerInDelay: int | None = None,
    ) -> None:
        self._enter("SetTiming", SequenceId=SequenceId, pictureTime=pictureTime)
        sequence = self._sequence(SequenceId)
        if pictureTime is not None and pictureTime != ALP_DEFAULT:
            minimum = MIN_PICTURE_TIME_US[(1 if sequence.bit_depth == 1 else 8, sequence.bin_uninterrupted)]
            if pictureTime < minimum:
                raise ALPError(1005)
            sequence.picture_time_us = pictureTime

    def ProjControl(self, controlType: int, value: int) -> None:
        self._enter("ProjControl", controlType, value)
        if self._active():
            raise ALPError(1002)
        if controlType == ALP_PROJ_MODE:
            self.proj_mode = value

    def DevControl(self, controlType: int, value: int) -> None:
        self._enter("DevControl", controlType, value)
        if controlType == ALP_TRIGGER_EDGE:
            self.trigger_edge = value

    def Run(self, SequenceId: Any = None, loop: bool = True) -> None:
        self._enter("Run", SequenceId=SequenceId, loop=loop)
        sequence = self._sequence(SequenceId)
        if sequence.data is None:
            raise ALPError(1005)
        self.running = int(SequenceId.value)
        if loop or self.proj_mode == ALP_SLAVE:  # a slave sequence waits for triggers that never come here
            self.running_until = math.inf
        else:
            self.running_until = (
                time.monotonic() + sequence.repeat * sequence.n_frames * sequence.picture_time_us * 1e-6
            )

    def ProjInquire(self, inquireType: int, SequenceId: Any = None) -> int:
        self._enter("ProjInquire", inquireType, SequenceId)
        if inquireType == ALP_PROJ_STATE:
            return PROJ_ACTIVE if self._active() else PROJ_IDLE
        if inquireType == ALP_PROJ_MODE:
            return self.proj_mode
        raise ALPError(1005)

    def Halt(self) -> None:
        self._enter("Halt")
        self.running = None

    def FreeSeq(self, SequenceId: Any = None) -> None:
        self._enter("FreeSeq", SequenceId)
        key = int(SequenceId.value)
        if self._active() and self.running == key:
            raise ALPError(1008)
        self._sequence(SequenceId)
        del self.sequences[key]

    def Free(self) -> None:
        self._enter("Free")
        if self._active():
            raise ALPError(1002)
        self.allocated = False
        self.freed = True


def module() -> types.ModuleType:
    """A fresh `ALP4` module object holding this file's names, as `import ALP4` would give."""
    fake = types.ModuleType("ALP4")
    for name, value in globals().items():
        if name.startswith("ALP") or name in ("ALP4", "ALPError"):
            setattr(fake, name, value)
    return fake


def install(monkeypatch: Any) -> type[ALP4]:
    """Make `import ALP4` return the fake for one test; returns the class (its `instances` list emptied)."""
    ALP4.instances.clear()
    monkeypatch.setitem(sys.modules, "ALP4", module())
    return ALP4
