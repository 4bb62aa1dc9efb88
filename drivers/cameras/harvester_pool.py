"""One shared `harvesters.core.Harvester` per GenTL producer (.cti) in the process.

A GenTL producer is loaded once per process: a second Harvester on the same .cti sees no devices while
the first holds it. Cameras on one producer therefore share one Harvester, released with the last camera.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from speckle_lab.drivers.errors import DeviceError

_lock = threading.Lock()
_pool: dict[str, tuple[Any, int]] = {}  # resolved .cti path -> (Harvester, number of open cameras)


def _harvester(cti: str) -> Any:
    """The producer's Harvester, created (and its devices listed) on first use. Call under `_lock`."""
    entry = _pool.get(cti)
    if entry is None:
        try:
            from harvesters.core import Harvester
        except ImportError as error:
            raise DeviceError(
                f"GenICam producer {cti}", "import harvesters", f"{error}; install the 'genicam' extra"
            ) from None
        harvester = Harvester()
        try:
            harvester.add_file(cti)
            harvester.update()
        except Exception as error:
            harvester.reset()
            raise DeviceError(f"GenICam producer {cti}", "load producer", f"{type(error).__name__}: {error}") from None
        _pool[cti] = (harvester, 0)
        return harvester
    return entry[0]  # its device list is as loaded: updating it under open cameras is not safe


def open_acquirer(cti_path: str | Path, serial: str | None, index: int) -> tuple[Any, Any]:
    """Open one device of the producer: by serial number when given, else by index in the device list.

    Returns `(image_acquirer, device_info)`; give the acquirer back with `release_acquirer`."""
    path = Path(cti_path)
    if not path.is_file():
        raise DeviceError(f"GenICam producer {path}", "open", "no such .cti file")
    cti = str(path.resolve())
    with _lock:
        harvester = _harvester(cti)
        infos = list(harvester.device_info_list)
        if serial is not None:
            matches = [i for i, info in enumerate(infos) if str(info.serial_number) == str(serial)]
            where = f"serial {serial}"
        else:
            matches = [index] if 0 <= index < len(infos) else []
            where = f"index {index}"
        if not matches:
            available = ", ".join(f"{i}: {info.serial_number} ({info.model})" for i, info in enumerate(infos))
            _drop_if_unused(cti)
            raise DeviceError(
                f"GenICam producer {cti}", f"open camera {where}", f"not found; devices: {available or 'none'}"
            )
        try:
            acquirer = harvester.create(matches[0])
        except Exception as error:
            _drop_if_unused(cti)
            raise DeviceError(
                f"GenICam producer {cti}", f"open camera {where}", f"{type(error).__name__}: {error}"
            ) from None
        _pool[cti] = (harvester, _pool[cti][1] + 1)
        return acquirer, infos[matches[0]]


def _drop_if_unused(cti: str) -> None:
    harvester, users = _pool[cti]
    if users == 0:
        del _pool[cti]
        harvester.reset()


def release_acquirer(cti_path: str | Path, acquirer: Any) -> None:
    """Destroy the acquirer (device closed) and reset the producer's Harvester when no camera uses it."""
    cti = str(Path(cti_path).resolve())
    with _lock:
        try:
            acquirer.destroy()
        finally:
            entry = _pool.get(cti)
            if entry is not None:
                _pool[cti] = (entry[0], max(entry[1] - 1, 0))
                _drop_if_unused(cti)
