"""The registry of device backends: which `backend = "..."` a bench file may name, the settings class that
validates its section, and the factory that opens the device.

The built-in backends are listed in `lab.bench`. A separate package adds one without editing this
application: it defines a settings class (a subclass of the family's `LaserSettings`, `DmdSettings` or
`CameraSettings` from `lab.bench_config`, with `backend: Literal["name"]`), a factory, and registers a
`DeviceBackend` (or a list of them) under the entry-point group `speckle_lab.backends` in its
pyproject.toml:

    [project.entry-points."speckle_lab.backends"]
    acme_camera = "acme_speckle:BACKEND"

Real backends are opened with their own section's settings only (`open(settings, source)`); the simulated
optical table is for the simulated backends, which `lab.bench` builds itself.

A plugin that fails to load (its module raises on import, or its entry point names something that is not a
`DeviceBackend`) is left out, named in one line (logged as a warning, listed by `plugin_failures()` and shown by
`speckle-lab devices`); the built-in backends and the other plugins work as before.

What a factory opens must be an instance of its family's contract (`drivers.Laser`, `DMD`, `Camera`), checked
when it is opened: a laser that only looked like one would not ask the emission veto before its on command (only
`Laser.set_emission` does), so the lifecycle's "no on command after a stop" would not hold for it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache, wraps
from importlib import metadata
from typing import Any, Literal, get_args

from pydantic import BaseModel

from speckle_lab.drivers import DMD, Camera, Device, DeviceError, Laser, OutOfRange
from speckle_lab.lab.config_errors import BenchConfigError

logger = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "speckle_lab.backends"
Family = Literal["laser", "dmd", "camera"]
FAMILIES: tuple[Family, ...] = ("laser", "dmd", "camera")
#: The contract each family's devices implement.
CONTRACTS: dict[Family, type] = {"laser": Laser, "dmd": DMD, "camera": Camera}


@dataclass(frozen=True)
class DeviceBackend:
    """One backend of one device family.

    `settings`: the bench-file model of its section (its `backend` field is `Literal[name]`).
    `open(settings, source)`: opens the device from its validated section; `source` names the bench file in
    errors (use `apply_setting` for configured values the device may refuse). For the simulated backends
    (`simulated=True`) `lab.bench` calls `open(config, table, source)` with the whole bench and the table.
    What `open` returns is checked against the family's contract (`CONTRACTS`): anything else is closed again
    and refused with a `DeviceError`.
    """

    family: Family
    name: str
    settings: type
    open: Callable[..., Device]
    simulated: bool = False

    def __post_init__(self) -> None:
        if self.family not in FAMILIES:
            raise ValueError(f"backend {self.name!r}: family {self.family!r} is not one of {FAMILIES}")
        field = self.settings.model_fields.get("backend") if issubclass(self.settings, BaseModel) else None
        if field is None or self.name not in get_args(field.annotation):
            raise ValueError(
                f"backend {self.name!r}: its settings class {self.settings.__name__} needs "
                f"`backend: Literal[{self.name!r}]`"
            )
        object.__setattr__(self, "open", _contract_checked(self.family, self.name, self.open))


def _contract_checked(family: Family, name: str, factory: Callable[..., Device]) -> Callable[..., Device]:
    """`factory`, refusing (closed again, `DeviceError`) a device that is not an instance of the family's contract."""
    contract = CONTRACTS[family]

    @wraps(factory)
    def open_checked(*args: Any, **kwargs: Any) -> Device:
        device = factory(*args, **kwargs)
        if isinstance(device, contract):
            return device
        try:
            device.close()
        except Exception as error:  # the refusal is the news; a failed close is added to it
            close_failure = f"; closing it failed too: {error!r}"
        else:
            close_failure = ""
        raise DeviceError(
            f"{family} backend {name!r}",
            "open",
            f"its factory returned a {type(device).__qualname__}, not a speckle_lab.drivers.{contract.__name__} "
            f"(only a {contract.__name__} subclass keeps the contract's checks){close_failure}",
        )

    return open_checked


def apply_setting(source: str, key: str, setter: Callable[[Any], None], value: Any) -> None:
    """Apply a configured setting; the device's own refusal becomes a bench-file error naming the key."""
    try:
        setter(value)
    except OutOfRange as error:
        raise BenchConfigError(source, [f"{key}: the device refuses {value}: {error.reason}"]) from None


@dataclass(frozen=True)
class PluginFailure:
    """A backend plugin that did not load: its entry point, its distribution and why, for one line."""

    entry_point: str  # "name = module:attribute"
    distribution: str
    reason: str

    def __str__(self) -> str:
        return f"backend plugin {self.entry_point!r} ({self.distribution}) is left out: {self.reason}"


@cache
def _load_plugins() -> tuple[tuple[DeviceBackend, ...], tuple[PluginFailure, ...]]:
    found: list[DeviceBackend] = []
    failed: list[PluginFailure] = []
    for entry in metadata.entry_points(group=ENTRY_POINT_GROUP):
        try:
            loaded = entry.load()
            items = list(loaded) if isinstance(loaded, Iterable) else [loaded]
            for item in items:
                if not isinstance(item, DeviceBackend):
                    raise TypeError(
                        f"it exports a {type(item).__name__}, not a speckle_lab.lab.backend_registry.DeviceBackend"
                    )
        except Exception as error:  # whatever a third-party module raises on import: isolate it
            reason = (str(error).strip().splitlines() or [""])[0]
            distribution = entry.dist.name if entry.dist is not None else "unknown distribution"
            failure = PluginFailure(f"{entry.name} = {entry.value}", distribution, f"{type(error).__name__}: {reason}")
            logger.warning("%s", failure)
            failed.append(failure)
            continue
        found.extend(items)
    return tuple(found), tuple(failed)


def plugin_backends() -> tuple[DeviceBackend, ...]:
    """Every backend registered under the entry-point group that loaded (the application's own and others')."""
    return _load_plugins()[0]


def plugin_failures() -> tuple[PluginFailure, ...]:
    """The registered plugins that did not load, each left out with its reason."""
    return _load_plugins()[1]


def merge(builtin: Iterable[DeviceBackend], family: Family) -> dict[str, DeviceBackend]:
    """The backends of `family` by name: the built-in ones, then the registered ones (a name taken twice by
    different backends is an error, not a silent override)."""
    merged: dict[str, DeviceBackend] = {}
    for backend in (*builtin, *plugin_backends()):
        if backend.family != family:
            continue
        other = merged.get(backend.name)
        if other is not None and other is not backend:
            raise ValueError(f"two {family} backends are registered as {backend.name!r}")
        merged[backend.name] = backend
    return merged
