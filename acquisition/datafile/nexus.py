"""The NeXus view of a capture: entry title, end time and application definition, the instrument's devices as NeXus
groups, the sample.

`/entry/definition` names speckle-lab's own application definition, NXspeckle_capture, whose NXDL ships beside
this module (`NXspeckle_capture.nxdl.xml`, `APPLICATION_DEFINITION`); a NeXus validator checks a file against it
(`nxvalidate -a <that file> capture.h5`).

NeXus readers (silx, nexusformat, h5web) find the data through `NX_class`, `signal` and `axes` (layout.py);
they find the instrument through the base classes written here: the laser is an NXsource, the camera an
NXdetector, the DMD (no NeXus class exists for one) an NXcollection, the scattering medium the NXsample. Each
holds its device's identity and its bench settings as fields, with `units` attributes, so a reader needs no
JSON; the JSON datasets beside them (metadata.py) stay the exact, complete record. Everything here is created
before SWMR starts; only `end_time` (fixed-size) is rewritten later.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from importlib import resources
from typing import Any

import h5py
import numpy as np

from speckle_lab.acquisition.datafile.layout import END_TIME, END_TIME_DTYPE, ENTRY, TITLE, units_for
from speckle_lab.acquisition.datafile.records import RunMetadata

#: The application definition every capture entry conforms to, and its NXDL file (package data).
DEFINITION = "NXspeckle_capture"
APPLICATION_DEFINITION = resources.files(__package__) / f"{DEFINITION}.nxdl.xml"

#: instrument group name -> (the identity's `kind`, the bench section, NX_class)
DEVICE_GROUPS = {
    "laser": ("laser", "laser", "NXsource"),
    "camera": ("camera", "camera", "NXdetector"),
    "dmd": ("dmd", "dmd", "NXcollection"),
}


def title(metadata: RunMetadata) -> str:
    """The plan's name when it has one, else what was captured on which bench, and the run id."""
    plan_name = metadata.plan.get("name") if isinstance(metadata.plan, Mapping) else None
    bench_name = _bench_name(metadata.bench)
    head = str(plan_name) if plan_name else f"speckle capture of {metadata.n_planned} frames"
    return f"{head} on {bench_name} (run {metadata.run_id})" if bench_name else f"{head} (run {metadata.run_id})"


def write_nexus(f: h5py.File, metadata: RunMetadata) -> None:
    """Title, an empty end time, the application definition, the device groups under /entry/instrument and
    /entry/sample."""
    entry = f[ENTRY]
    entry.create_dataset(TITLE, data=title(metadata), dtype=h5py.string_dtype())
    entry.create_dataset("definition", data=DEFINITION, dtype=h5py.string_dtype())
    end_time = entry.create_dataset(END_TIME, data=np.array(b"", dtype=END_TIME_DTYPE))
    end_time.attrs["description"] = "ISO 8601 UTC time the capture ended (complete, aborted, failed); empty if running"
    instrument = entry["instrument"]
    bench = metadata.bench if isinstance(metadata.bench, Mapping) else {}
    if bench_name := _bench_name(bench):
        instrument.create_dataset("name", data=str(bench_name), dtype=h5py.string_dtype())
    for group_name, (kind, section, nx_class) in DEVICE_GROUPS.items():
        identity = _identity(metadata.devices, kind)
        settings = bench.get(section)
        if identity is None and not isinstance(settings, Mapping):
            continue
        group = instrument.create_group(group_name)
        group.attrs["NX_class"] = nx_class
        _identity_fields(group, identity or {})
        _fields(group, settings if isinstance(settings, Mapping) else {})
        if nx_class == "NXsource":
            _source_fields(group, settings if isinstance(settings, Mapping) else {})
        elif nx_class == "NXdetector":
            _detector_fields(group, settings if isinstance(settings, Mapping) else {})
    if isinstance(metadata.medium, Mapping):
        sample = entry.create_group("sample")
        sample.attrs["NX_class"] = "NXsample"
        _string(sample, "name", str(metadata.medium.get("kind", "scattering medium")))
        _fields(sample, metadata.medium)


def write_end_time(f: h5py.File, status: str) -> None:
    """Stamp `end_time` when a capture ends (any status but `running`); clear it when it runs again.

    Files written before `end_time` existed have none: nothing to do (no object may be created under SWMR)."""
    if END_TIME not in f:
        return
    stamp = b"" if status == "running" else datetime.now(UTC).isoformat().encode()
    f[END_TIME][()] = np.array(stamp[: END_TIME_DTYPE.itemsize], dtype=END_TIME_DTYPE)


def _bench_name(bench: Any) -> str | None:
    """The bench's name: `[bench] name` of a bench configuration, or a flat `name`."""
    if not isinstance(bench, Mapping):
        return None
    section = bench.get("bench")
    name = section.get("name") if isinstance(section, Mapping) else bench.get("name")
    return str(name) if name else None


def _identity(devices: Sequence[Any], kind: str) -> Mapping[str, Any] | None:
    for device in devices or ():
        if isinstance(device, Mapping) and (device.get("kind") or device.get("family")) == kind:
            return device
    return None


def _identity_fields(group: h5py.Group, identity: Mapping[str, Any]) -> None:
    vendor, model = str(identity.get("vendor", "")), str(identity.get("model", ""))
    if vendor or model:
        name = "description" if group.attrs["NX_class"] == "NXdetector" else "name"
        _string(group, name, f"{vendor} {model}".strip())
    for key, field in (("serial", "serial_number"), ("firmware", "firmware_version"), ("backend", "driver")):
        if identity.get(key):
            _string(group, field, str(identity[key]))


def _fields(group: h5py.Group, settings: Mapping[str, Any]) -> None:
    """Each scalar setting (and flat list of numbers) as a field named as in the bench, with its units."""
    for key, value in settings.items():
        if key in group or not isinstance(key, str) or not key.isidentifier():
            continue
        if isinstance(value, str):
            _string(group, key, value)
            continue
        if isinstance(value, bool | int | float) or (
            isinstance(value, list | tuple) and value and all(isinstance(v, bool | int | float) for v in value)
        ):
            dataset = group.create_dataset(key, data=np.asarray(value))
            if (unit := units_for(key)) is not None and not isinstance(value, bool):
                dataset.attrs["units"] = unit


def _source_fields(group: h5py.Group, settings: Mapping[str, Any]) -> None:
    """NXsource's own names: type, probe, power (the setpoint at bench opening)."""
    _string(group, "type", "Optical Laser")
    wavelength_nm = settings.get("wavelength_nm")
    if isinstance(wavelength_nm, int | float):
        probe = "visible light" if 380 <= wavelength_nm <= 750 else "infrared" if wavelength_nm > 750 else "ultraviolet"
        _string(group, "probe", probe)
    if isinstance(settings.get("power_w"), int | float) and "power" not in group:
        group.create_dataset("power", data=float(settings["power_w"])).attrs["units"] = "W"


def _detector_fields(group: h5py.Group, settings: Mapping[str, Any]) -> None:
    """NXdetector's own names: count_time (the exposure, s), bit_depth_readout, gain_setting."""
    if isinstance(settings.get("exposure_us"), int | float):
        group.create_dataset("count_time", data=float(settings["exposure_us"]) / 1e6).attrs["units"] = "s"
    if isinstance(settings.get("bit_depth"), int) and "bit_depth_readout" not in group:
        group.create_dataset("bit_depth_readout", data=np.int64(settings["bit_depth"]))


def _string(group: h5py.Group, name: str, value: str) -> None:
    if name not in group:
        group.create_dataset(name, data=value, dtype=h5py.string_dtype())
