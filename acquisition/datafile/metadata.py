"""Run metadata (plan, bench, devices, medium, provenance) as JSON strings, written once before SWMR starts.

JSON rather than a tree of HDF5 attributes: the plan and bench are nested dicts whose schema belongs to
other modules, and a JSON string round-trips them exactly and is readable in any HDF5 browser.
"""

from __future__ import annotations

import json
import platform
import socket
from datetime import UTC, datetime
from pathlib import Path, PurePath
from typing import Any

import h5py
import numpy as np

from speckle_lab.acquisition.datafile.layout import INSTRUMENT, PLAN, PROVENANCE
from speckle_lab.acquisition.datafile.nexus import write_end_time, write_nexus
from speckle_lab.acquisition.datafile.records import RunMetadata

BOOT_ID_DTYPE = np.dtype("S64")
_BOOT_ID_FILE = Path("/proc/sys/kernel/random/boot_id")


def _plain(value: Any) -> Any:
    """json.dumps fallback: numpy scalars and arrays, paths, sets, dataclass-like objects."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    raise TypeError(f"cannot store a {type(value).__name__} in the run metadata")


def to_json(value: Any) -> str:
    return json.dumps(value, default=_plain, ensure_ascii=False, sort_keys=False)


def boot_id() -> str:
    """This machine's boot id (Linux), "" elsewhere: a different one at resume means the machine restarted,
    so rows that were committed but not fsync'ed may not have reached the disk."""
    try:
        return _BOOT_ID_FILE.read_text().strip()
    except OSError:
        return ""


def hostname() -> str:
    return socket.gethostname()[:64]


def _json_dataset(group: h5py.Group, name: str, value: Any) -> None:
    ds = group.create_dataset(name, data=to_json(value), dtype=h5py.string_dtype())
    ds.attrs["content_type"] = "application/json"


def write_metadata(f: h5py.File, metadata: RunMetadata) -> None:
    entry = f["entry"]
    created = datetime.fromtimestamp(metadata.created_s, UTC).isoformat()
    entry.create_dataset("start_time", data=created)  # NeXus NXentry field

    instrument = entry.create_group("instrument")
    instrument.attrs["NX_class"] = "NXinstrument"
    _json_dataset(instrument, "bench", metadata.bench)
    _json_dataset(instrument, "devices", metadata.devices)
    _json_dataset(instrument, "medium", metadata.medium)
    write_nexus(f, metadata)  # title, end_time, NXsource/NXdetector/DMD groups, NXsample

    plan = entry.create_group("plan")
    plan.attrs["NX_class"] = "NXcollection"
    _json_dataset(plan, "plan", metadata.plan)
    _json_dataset(plan, "target_stats", metadata.target_stats)
    plan.create_dataset("n_planned", data=np.int64(metadata.n_planned))

    provenance = entry.create_group("provenance")
    provenance.attrs["NX_class"] = "NXcollection"
    for name, value in (
        ("run_id", metadata.run_id),
        ("software_version", metadata.software_version),
        ("created_utc", created),
        ("host", metadata.host),
        ("python_version", platform.python_version()),
        ("h5py_version", h5py.version.version),
        ("hdf5_version", h5py.version.hdf5_version),
        ("numpy_version", np.__version__),
    ):
        provenance.create_dataset(name, data=str(value), dtype=h5py.string_dtype())
    provenance.create_dataset("created_s", data=np.float64(metadata.created_s)).attrs["units"] = "s"
    provenance.create_dataset("writer_host", data=np.array(b"", dtype=BOOT_ID_DTYPE))
    provenance.create_dataset("writer_boot_id", data=np.array(b"", dtype=BOOT_ID_DTYPE))
    mark_writer(f)


def mark_writer(f: h5py.File) -> None:
    """Record which machine boot writes the rows from now on (at creation and at every resume), and that the
    capture has no end time while it does."""
    provenance = f[PROVENANCE]
    provenance["writer_host"][()] = hostname().encode()[:64]
    provenance["writer_boot_id"][()] = boot_id().encode()[:64]
    write_end_time(f, "running")  # a writer works on it again: it has not ended


def writer_identity(f: h5py.File) -> tuple[str, str]:
    provenance = f[PROVENANCE]
    return (
        provenance["writer_host"][()].decode(errors="replace"),
        provenance["writer_boot_id"][()].decode(errors="replace"),
    )


def _read_json(f: h5py.File, path: str) -> Any:
    return json.loads(f[path].asstr()[()])


def _read_str(f: h5py.File, path: str) -> str:
    return f[path].asstr()[()]


def read_metadata(f: h5py.File) -> RunMetadata:
    return RunMetadata(
        plan=_read_json(f, f"{PLAN}/plan"),
        bench=_read_json(f, f"{INSTRUMENT}/bench"),
        devices=_read_json(f, f"{INSTRUMENT}/devices"),
        medium=_read_json(f, f"{INSTRUMENT}/medium"),
        target_stats=_read_json(f, f"{PLAN}/target_stats"),
        n_planned=int(f[f"{PLAN}/n_planned"][()]),
        run_id=_read_str(f, f"{PROVENANCE}/run_id"),
        software_version=_read_str(f, f"{PROVENANCE}/software_version"),
        created_s=float(f[f"{PROVENANCE}/created_s"][()]),
        host=_read_str(f, f"{PROVENANCE}/host"),
    )
