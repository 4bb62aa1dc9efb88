"""Reading and writing GenICam nodes with the contract's errors.

Cameras differ in which SFNC nodes they implement (`ExposureTime` vs `ExposureTimeAbs`, no `OffsetX`
on some), so every access goes through here: a missing node is `None`, a refused write names the node.
"""

from __future__ import annotations

from typing import Any

from speckle_lab.drivers.errors import DeviceError, OutOfRange


def node(node_map: Any, name: str) -> Any | None:
    """The node, or None when the camera does not implement it."""
    try:
        return getattr(node_map, name, None)
    except Exception:  # some producers raise their own error for an unknown name
        return None


def symbolics(entry: Any) -> tuple[str, ...]:
    """The values an enumeration node offers now."""
    try:
        return tuple(str(s) for s in entry.symbolics)
    except Exception:
        return ()


def limits(entry: Any) -> tuple[float, float, float | None]:
    """(min, max, increment) of a numeric node; increment None when the node has none (float nodes)."""
    low, high = entry.min, entry.max
    try:
        inc = entry.inc
    except Exception:
        inc = None
    return low, high, inc


def read(device: str, name: str, entry: Any) -> Any:
    try:
        return entry.value
    except Exception as error:
        raise DeviceError(device, f"read {name}", f"{type(error).__name__}: {error}") from None


def write(device: str, name: str, entry: Any, value: Any) -> None:
    """Write a node; GenApi's range refusal becomes `OutOfRange`, anything else `DeviceError`."""
    try:
        entry.value = value
    except Exception as error:
        kind = OutOfRange if type(error).__name__ == "OutOfRangeException" else DeviceError
        raise kind(device, f"set {name} = {value!r}", f"{type(error).__name__}: {error}") from None


def execute(device: str, name: str, entry: Any) -> None:
    try:
        entry.execute()
    except Exception as error:
        raise DeviceError(device, f"execute {name}", f"{type(error).__name__}: {error}") from None


def write_choice(device: str, name: str, entry: Any | None, value: str) -> None:
    """Set an enumeration node, refusing (before writing) a value the camera does not offer."""
    if entry is None:
        raise OutOfRange(device, f"set {name} = {value}", f"the camera has no {name} node")
    offered = symbolics(entry)
    if offered and value not in offered:
        raise OutOfRange(device, f"set {name} = {value}", f"the camera offers {', '.join(offered)}")
    write(device, name, entry, value)
