"""Where everything lives in a capture file, in one place: paths, dtypes, chunking, NeXus classes.

Every object is created here before SWMR starts (SWMR forbids creating objects or attributes later); the
appendable datasets are resizable along their first axis and each appendable group carries two counters,
`committed` (rows a reader may trust) and `synced` (rows also fsync'ed to disk). See docs/data-format.md.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path

import h5py
import numpy as np
import numpy.typing as npt

from speckle_lab.acquisition.datafile.errors import CaptureFileError

FORMAT_ATTR = "speckle_lab_format"
FORMAT_NAME = "speckle-lab"
FORMAT_VERSION = 1
FORMAT = f"{FORMAT_NAME}/{FORMAT_VERSION}"

ENTRY = "/entry"
FRAMES = "/entry/frames"
DARK = "/entry/dark"
REFERENCE = "/entry/reference"
EVENTS = "/entry/events"
STATUS = "/entry/status"
END_TIME = "/entry/end_time"
TITLE = "/entry/title"
INSTRUMENT = "/entry/instrument"
PLAN = "/entry/plan"
PROVENANCE = "/entry/provenance"

COMMITTED = "committed"
SYNCED = "synced"

#: The statuses a writer stores. A stop by the operator (Stop, Ctrl-C, SIGTERM) is `aborted`, its reason in the
#: `aborted` event; "interrupted" is no stored status but what `inspect` calls a `running` file with no writer.
STATUSES = ("running", "complete", "aborted", "failed")
STATUS_DTYPE = np.dtype("S16")
#: ISO 8601 UTC with microseconds and offset is 32 characters; fixed size, so it can be rewritten under SWMR.
END_TIME_DTYPE = np.dtype("S32")

#: Unit of a quantity named with a unit suffix (`exposure_us`, `laser_power_w`), as a NeXus `units` attribute;
#: longest suffix first. Names without a known suffix get no `units`.
UNIT_SUFFIXES = (
    ("_dn_per_e", "counts/electron"),
    ("_e_per_s", "electron/s"),
    ("_cycles_per_px", "1/pixel"),
    ("_per_joule", "1/J"),
    ("_us", "us"),
    ("_ms", "ms"),
    ("_hz", "Hz"),
    ("_nm", "nm"),
    ("_um", "um"),
    ("_mm", "mm"),
    ("_mw", "mW"),
    ("_db", "dB"),
    ("_px", "pixel"),
    ("_rad", "rad"),
    ("_w", "W"),
    ("_s", "s"),
    ("_e", "electron"),
    ("_dn", "counts"),
    ("_c", "degC"),
)


def units_for(name: str) -> str | None:
    """The unit a name's suffix states (`power_w` -> "W"), None when it states none."""
    lowered = name.lower()
    for suffix, unit in UNIT_SUFFIXES:
        if lowered.endswith(suffix) and len(lowered) > len(suffix):
            return unit
    return None


DARK_PHASES = ("start", "end")  # stored as uint8 codes 0, 1

EVENT_KIND_BYTES = 24
EVENT_MESSAGE_BYTES = 256
EVENT_DTYPE = np.dtype(
    [("time_s", "<f8"), ("row", "<i8"), ("kind", f"S{EVENT_KIND_BYTES}"), ("message", f"S{EVENT_MESSAGE_BYTES}")]
)


class EventKind(StrEnum):
    """The one list of event kinds a capture logs (stored as text in `/entry/events/log`)."""

    CAMERA_TIMEOUT = "camera_timeout"
    FRAME_GAP = "frame_gap"
    RETRY = "retry"
    LASER_FAULT = "laser_fault"
    DEVICE_ERROR = "device_error"
    WRITE_ERROR = "write_error"
    ABORTED = "aborted"
    RESUMED = "resumed"
    STEP_MODE = "step_mode"
    PAUSED = "paused"
    PAUSE_ENDED = "pause_ended"
    LASER_ARMING = "laser_arming"
    LASER_ON = "laser_on"
    LASER_OFF = "laser_off"
    LASER_OFF_FAILED = "laser_off_failed"
    REFERENCE_RETAKEN = "reference_retaken"


KNOWN_EVENT_KINDS = tuple(kind.value for kind in EventKind)

#: How loud each event and each final status is in the logs (an unknown event kind is a warning).
EVENT_LOG_LEVELS = {"step_mode": logging.INFO, "resumed": logging.INFO, "aborted": logging.WARNING}
EVENT_LOG_LEVELS |= {"paused": logging.INFO, "pause_ended": logging.INFO, "laser_off": logging.INFO}
EVENT_LOG_LEVELS |= {"laser_arming": logging.INFO, "laser_on": logging.INFO}
EVENT_LOG_LEVELS |= {"reference_retaken": logging.WARNING, "laser_off_failed": logging.CRITICAL}
EVENT_LOG_LEVELS |= {kind: logging.ERROR for kind in ("laser_fault", "device_error", "write_error")}
STATUS_LOG_LEVELS = {
    "running": logging.INFO,
    "complete": logging.INFO,
    "aborted": logging.WARNING,
    "failed": logging.ERROR,
}

FRAME_COLUMNS = ("speckle", "target", "target_index", "timestamp", "frame_id")
DARK_COLUMNS = ("speckle", "timestamp", "phase")
REFERENCE_COLUMNS = ("speckle", "timestamp", "after_row", "correlation")
EVENT_COLUMNS = ("log",)
RESERVED_FRAME_NAMES = frozenset((*FRAME_COLUMNS, COMMITTED, SYNCED))

# Image chunks of about 512 KiB: big enough that HDF5's per-chunk cost vanishes (64 frames of 64x64 uint16),
# small enough that a reader of one frame reads little more and that HDF5, which allocates whole chunks, does
# not take much disk ahead of the data. Frames above 4 MiB are split by rows so a chunk never exceeds 4 MiB
# (and bypasses the chunk cache when written whole).
CHUNK_TARGET_BYTES = 512 << 10
CHUNK_MAX_BYTES = 4 << 20
FEW_FRAMES_CHUNK = 8  # dark and reference frames: tens per night, a full-size chunk would be mostly empty
VECTOR_CHUNK_ROWS = 4096
WRITER_CHUNK_CACHE_BYTES = 2 << 20  # holds the partly filled tail chunk of each image dataset between blocks


def image_chunks(frame_shape: tuple[int, int], itemsize: int, max_frames: int | None = None) -> tuple[int, int, int]:
    height, width = frame_shape
    frame_bytes = max(1, height * width * itemsize)
    if frame_bytes <= CHUNK_MAX_BYTES:
        frames = max(1, CHUNK_TARGET_BYTES // frame_bytes)
        return (min(frames, max_frames or frames), height, width)
    parts = math.ceil(frame_bytes / CHUNK_MAX_BYTES)
    return (1, math.ceil(height / parts), width)


def frame_columns(frame_fields: Mapping[str, np.dtype] | list[str]) -> tuple[str, ...]:
    return (*FRAME_COLUMNS, *frame_fields)


def table_columns(entry: h5py.Group) -> dict[str, tuple[str, ...]]:
    """Appendable group path -> the datasets that grow together in it."""
    return {
        FRAMES: frame_columns(read_frame_fields(entry)),
        DARK: DARK_COLUMNS,
        REFERENCE: REFERENCE_COLUMNS,
        EVENTS: EVENT_COLUMNS,
    }


def read_frame_fields(entry: h5py.Group) -> list[str]:
    names = entry["frames"].attrs.get("frame_fields", ())
    return [str(name) for name in np.atleast_1d(names)] if len(names) else []


def _nx(group: h5py.Group, nx_class: str) -> h5py.Group:
    group.attrs["NX_class"] = nx_class
    return group


def _appendable(group: h5py.Group, name: str, dtype, tail: tuple[int, ...], chunks: tuple[int, ...]) -> h5py.Dataset:
    return group.create_dataset(name, shape=(0, *tail), maxshape=(None, *tail), dtype=dtype, chunks=chunks)


def _counters(group: h5py.Group) -> None:
    for name in (COMMITTED, SYNCED):
        group.create_dataset(name, data=np.int64(0))
    group[COMMITTED].attrs["description"] = "rows a reader may trust: read min(len(dataset), committed)"
    group[SYNCED].attrs["description"] = "rows whose data was fsync'ed before this count was written"


def check_frame_fields(frame_fields: Mapping[str, npt.DTypeLike]) -> dict[str, np.dtype]:
    checked = {}
    for name, dtype in frame_fields.items():
        if not name.isidentifier() or name in RESERVED_FRAME_NAMES:
            raise ValueError(f"frame field name {name!r} is reserved or not an identifier")
        dtype = np.dtype(dtype)
        if dtype.kind not in "biuf" or dtype.shape:
            raise ValueError(f"frame field {name!r}: dtype {dtype} is not a numeric scalar dtype")
        checked[name] = dtype
    return checked


def create_layout(
    f: h5py.File,
    *,
    speckle_shape: tuple[int, int],
    speckle_dtype: np.dtype,
    target_shape: tuple[int, int],
    frame_fields: Mapping[str, np.dtype],
) -> None:
    """Create every group and dataset of an empty capture (metadata datasets excepted, see metadata.py)."""
    f.attrs["NX_class"] = "NXroot"
    f.attrs["default"] = "entry"
    f.attrs["creator"] = FORMAT_NAME
    entry = _nx(f.create_group("entry"), "NXentry")
    entry.attrs[FORMAT_ATTR] = FORMAT
    entry.attrs["default"] = "frames"
    entry.create_dataset("status", data=np.array(b"running", dtype=STATUS_DTYPE))
    entry["status"].attrs["values"] = ", ".join(STATUSES)

    image_chunk = image_chunks(speckle_shape, speckle_dtype.itemsize)
    few_images_chunk = image_chunks(speckle_shape, speckle_dtype.itemsize, max_frames=FEW_FRAMES_CHUNK)
    target_chunk = image_chunks(target_shape, 4)
    vector = (VECTOR_CHUNK_ROWS,)

    frames = _nx(entry.create_group("frames"), "NXdata")
    frames.attrs["signal"] = "speckle"
    _frame_axes(frames, "frame_id", ("timestamp", "target_index"))
    frames.attrs["frame_fields"] = list(frame_fields) if frame_fields else np.array([], dtype=h5py.string_dtype())
    speckle = _appendable(frames, "speckle", speckle_dtype, speckle_shape, image_chunk)
    speckle.attrs.update(interpretation="image", units="counts", long_name="speckle (camera counts)")
    target = _appendable(frames, "target", np.float32, target_shape, target_chunk)
    target.attrs.update(interpretation="image", long_name="target shown on the DMD, in [0, 1]")
    _appendable(frames, "target_index", np.int64, (), vector).attrs["long_name"] = "row of the plan's target list"
    _timestamps(frames, vector)
    _appendable(frames, "frame_id", np.int64, (), vector).attrs["long_name"] = "camera frame id"
    for name, dtype in frame_fields.items():
        field = _appendable(frames, name, dtype, (), vector)
        if (unit := units_for(name)) is not None:
            field.attrs["units"] = unit
    _counters(frames)

    dark = _nx(entry.create_group("dark"), "NXdata")
    _stack(dark, speckle_dtype, speckle_shape, few_images_chunk, "dark frame, laser off (camera counts)")
    _timestamps(dark, vector)
    phase = _appendable(dark, "phase", np.uint8, (), vector)
    phase.attrs["values"] = ", ".join(f"{code} = {name}" for code, name in enumerate(DARK_PHASES))
    _counters(dark)

    reference = _nx(entry.create_group("reference"), "NXdata")
    _stack(reference, speckle_dtype, speckle_shape, few_images_chunk, "reference pattern (camera counts)")
    _timestamps(reference, vector)
    _appendable(reference, "after_row", np.int64, (), vector).attrs["long_name"] = "frame rows committed before it"
    correlation = _appendable(reference, "correlation", np.float64, (), vector)
    correlation.attrs["long_name"] = "Pearson correlation with the first reference frame"
    _counters(reference)

    events = _nx(entry.create_group("events"), "NXcollection")
    _appendable(events, "log", EVENT_DTYPE, (), (64,)).attrs["kinds"] = ", ".join(KNOWN_EVENT_KINDS)
    _counters(events)


def _frame_axes(group: h5py.Group, frame_axis: str, alternatives: tuple[str, ...] = ()) -> None:
    """NXdata axes of a (frames, rows, cols) signal: `frame_axis` along the frames, pixel indices across;
    `alternatives` are other per-frame datasets a reader may offer as the frame axis."""
    group.attrs["axes"] = [frame_axis, ".", "."]
    for name in (frame_axis, *alternatives):
        group.attrs[f"{name}_indices"] = np.int64(0)


def _stack(group: h5py.Group, dtype: np.dtype, shape: tuple[int, int], chunks: tuple[int, ...], long_name: str) -> None:
    """A plottable stack of camera frames (dark, reference): the group's NXdata signal, timestamps its axis."""
    group.attrs["signal"] = "speckle"
    _frame_axes(group, "timestamp")
    stack = _appendable(group, "speckle", dtype, shape, chunks)
    stack.attrs.update(interpretation="image", units="counts", long_name=long_name)


def _timestamps(group: h5py.Group, chunks: tuple[int, ...]) -> None:
    timestamp = _appendable(group, "timestamp", np.float64, (), chunks)
    timestamp.attrs.update(units="s", long_name="seconds since 1970-01-01T00:00:00Z")


METADATA_PATHS = (
    f"{PLAN}/plan",
    f"{PLAN}/target_stats",
    f"{PLAN}/n_planned",
    f"{INSTRUMENT}/bench",
    f"{INSTRUMENT}/devices",
    f"{INSTRUMENT}/medium",
    f"{PROVENANCE}/run_id",
    f"{PROVENANCE}/software_version",
    f"{PROVENANCE}/created_s",
    f"{PROVENANCE}/host",
    f"{PROVENANCE}/writer_host",
    f"{PROVENANCE}/writer_boot_id",
)


REQUIRED_PATHS = (
    *(f"{FRAMES}/{name}" for name in (*FRAME_COLUMNS, COMMITTED, SYNCED)),
    *(f"{DARK}/{name}" for name in (*DARK_COLUMNS, COMMITTED, SYNCED)),
    *(f"{REFERENCE}/{name}" for name in (*REFERENCE_COLUMNS, COMMITTED, SYNCED)),
    *(f"{EVENTS}/{name}" for name in (*EVENT_COLUMNS, COMMITTED, SYNCED)),
    STATUS,
    *METADATA_PATHS,
)


def check_format(f: h5py.File, path: Path) -> None:
    """CaptureFileError unless `f` is a capture file this version can read, naming what is missing."""
    if "entry" not in f:
        raise CaptureFileError(f"{path}: not a speckle-lab capture file (an HDF5 file without /entry)")
    found = f["entry"].attrs.get(FORMAT_ATTR)
    if found is None:
        raise CaptureFileError(f"{path}: not a speckle-lab capture file (/entry has no {FORMAT_ATTR} attribute)")
    found = found.decode() if isinstance(found, bytes) else str(found)
    name, _, version = found.partition("/")
    if name != FORMAT_NAME or not version.isdigit():
        raise CaptureFileError(f"{path}: unknown data format {found!r}; expected {FORMAT!r}")
    if int(version) > FORMAT_VERSION:
        raise CaptureFileError(
            f"{path}: written in data format {found}, newer than this speckle-lab reads ({FORMAT}); upgrade speckle-lab"
        )
    for required in REQUIRED_PATHS:
        if required not in f:
            raise CaptureFileError(f"{path}: not a complete speckle-lab capture file: {required} is missing")
    for name in read_frame_fields(f["entry"]):
        if f"{FRAMES}/{name}" not in f:
            raise CaptureFileError(f"{path}: damaged capture file: frame field {FRAMES}/{name} is missing")
