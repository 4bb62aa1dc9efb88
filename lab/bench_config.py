"""The bench configuration: one TOML file says which devices make up the bench and how they are set up.

The schema is strict (no unknown keys, no strings where numbers belong) because a typo in a bench file
would otherwise silently fall back to a default and record wrong metadata into every data file. Each
device section picks its backend with `backend = "..."`; every backend's settings are one small model
class, registered beside its factory as a `DeviceBackend` (lab.bench for the built-in ones, the
`speckle_lab.backends` entry points for other packages'). The simulated defaults come from `sim/`.
"""

from __future__ import annotations

import inspect
import tomllib
import typing
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, Self, TypeAlias

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator

from speckle_lab.lab.config_errors import BenchConfigError, describe_errors
from speckle_lab.sim.camera import SimulatedCamera
from speckle_lab.sim.camera_model import SensorModel
from speckle_lab.sim.dmd import SimulatedDMD
from speckle_lab.sim.laser import SimulatedLaser
from speckle_lab.sim.medium import PhaseScreenDiffuser
from speckle_lab.sim.table import OpticalTable

DEFAULT_BENCH_FILE = "default_bench.toml"
DEFAULT_BENCH_SOURCE = "built-in bench (lab/default_bench.toml)"


def _sim_default(owner: Callable[..., object], name: str) -> Any:
    """The default the simulation gives `name` (a constructor argument of `owner`): the simulated devices own
    their defaults; the bench file's defaults derive from them so the two cannot drift apart."""
    return inspect.signature(owner).parameters[name].default


_SENSOR = SensorModel()  # the default simulated sensor (EMVA 1288 parameters)
PLANCK_J_S = 6.62607015e-34  # exact (SI 2019)
LIGHT_SPEED_M_S = 299_792_458.0  # exact


class _Section(BaseModel):
    """One TOML table: unknown keys are errors, TOML types are kept (no "40" for 40), values are frozen."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, allow_inf_nan=False)


class BenchSection(_Section):
    name: str = "simulated bench"
    seed: int = Field(default=0, ge=0)  # seeds the simulated devices' noise (laser power, camera shot noise)


# -- laser ------------------------------------------------------------------------------------------
class LaserSettings(_Section):
    """What every laser backend shares."""

    backend: str
    # safety limit: setpoints above it are refused
    max_power_w: float = Field(default=_sim_default(SimulatedLaser, "max_power_w"), gt=0)
    power_w: float = Field(default=0.05, ge=0)  # setpoint applied when the bench opens (emission stays off)
    wavelength_nm: float = Field(default=_sim_default(SimulatedLaser, "wavelength_nm"), gt=0)

    @field_validator("power_w")
    @classmethod
    def _within_safety_limit(cls, power_w: float, info: ValidationInfo) -> float:
        max_power_w = info.data.get("max_power_w")
        if max_power_w is not None and power_w > max_power_w:
            raise ValueError(f"power {power_w} W is above the safety limit laser.max_power_w = {max_power_w} W")
        return power_w


class SimLaserSettings(LaserSettings):
    backend: Literal["sim"] = "sim"


class CoboltLaserSettings(LaserSettings):
    """A Cobolt 04/06-series laser on a serial port."""

    backend: Literal["cobolt"]
    port: str  # e.g. /dev/ttyUSB0 or COM3
    device_max_power_w: float | None = Field(default=None, gt=0)  # rated power; None: asked from the laser
    baudrate: int = Field(default=115200, gt=0)
    timeout_s: float = Field(default=1.0, gt=0)


class ObisLaserSettings(LaserSettings):
    """A Coherent OBIS laser: a VISA resource (e.g. ASRL/dev/ttyACM0::INSTR) or a serial port name."""

    backend: Literal["obis"]
    port: str
    visa_backend: str = ""  # "" the system VISA, "@py" pyvisa-py
    modulation: Literal["cw", "digital"] = "cw"
    baudrate: int = Field(default=115200, gt=0)
    timeout_s: float = Field(default=1.0, gt=0)


# -- DMD --------------------------------------------------------------------------------------------
class DmdSettings(_Section):
    """What every DMD backend shares: the mirror array and where the macropixelated active area sits."""

    backend: str
    mirror_rows: int = Field(default=256, ge=1)
    mirror_cols: int = Field(default=256, ge=1)
    macropixel_mirrors: int = Field(default=4, ge=1)  # a macropixel is a square of this many mirrors per side
    side_macropixels: int = Field(default=64, ge=1)  # the active area is this many macropixels per side
    active_top: int | None = Field(default=None, ge=0)  # None (or absent): centred
    active_left: int | None = Field(default=None, ge=0)  # None (or absent): centred
    max_pattern_rate_hz: float = Field(default=_sim_default(SimulatedDMD, "max_pattern_rate_hz"), gt=0)  # patterns/s

    @field_validator("side_macropixels")
    @classmethod
    def _fits_mirrors(cls, side: int, info: ValidationInfo) -> int:
        macropixel = info.data.get("macropixel_mirrors")
        rows, cols = info.data.get("mirror_rows"), info.data.get("mirror_cols")
        if macropixel is None or rows is None or cols is None:
            return side  # an earlier key is already reported
        if side * macropixel > min(rows, cols):
            raise ValueError(
                f"{side} macropixels of {macropixel} mirrors need {side * macropixel} mirrors per side, "
                f"more than the {rows}x{cols} mirror array has (the medium has side_macropixels^2 inputs)"
            )
        return side

    @field_validator("active_top", "active_left")
    @classmethod
    def _fits(cls, offset: int | None, info: ValidationInfo) -> int | None:
        extent_key = "mirror_rows" if info.field_name == "active_top" else "mirror_cols"
        extent, macropixel, side = (info.data.get(k) for k in (extent_key, "macropixel_mirrors", "side_macropixels"))
        if offset is None or extent is None or macropixel is None or side is None:
            return offset  # None stays None (centred, whatever the sizes become); bad sizes are already reported
        if offset + side * macropixel > extent:
            raise ValueError(f"an active area of {side * macropixel} mirrors at {offset} does not fit {extent} mirrors")
        return offset

    @property
    def active_origin(self) -> tuple[int, int]:
        """(top, left) mirror of the active area; an unset offset centres it."""
        span = self.side_macropixels * self.macropixel_mirrors
        top = (self.mirror_rows - span) // 2 if self.active_top is None else self.active_top
        left = (self.mirror_cols - span) // 2 if self.active_left is None else self.active_left
        return top, left


class SimDmdSettings(DmdSettings):
    backend: Literal["sim"] = "sim"


class Alp4DmdSettings(DmdSettings):
    """A ViALUX ALP-4 DMD through ALP4lib (the vendor's ALP-4 API must be installed)."""

    backend: Literal["alp4"]
    version: str = "4.3"  # ALP API version
    lib_dir: str | None = None  # folder of the ALP API library; None: ALP4lib's default
    device_number: int | None = None
    trigger_edge: Literal["rising", "falling"] = "rising"


class DisplayDmdSettings(DmdSettings):
    """A display DMD (e.g. a LightCrafter in video mode on HDMI): a frameless full-screen window. Its mirror
    shape is the screen's resolution; it has no sequencer, so captures run in step mode."""

    backend: Literal["display"]
    screen_index: int = Field(default=1, ge=0)  # 0 is usually the operator's monitor
    present_timeout_s: float = Field(default=2.0, gt=0)


# -- camera -----------------------------------------------------------------------------------------
class CameraSettings(_Section):
    """What every camera backend shares."""

    backend: str
    rows: int = Field(default=128, ge=1)
    cols: int = Field(default=128, ge=1)
    bit_depth: int = Field(default=_SENSOR.bit_depth, ge=8, le=16)
    exposure_us: float = Field(default=_sim_default(SimulatedCamera, "exposure_us"), gt=0)
    gain_db: float = Field(default=_sim_default(SimulatedCamera, "gain_db"), ge=0)


class GenICamCameraSettings(CameraSettings):
    """A GenICam camera through harvesters and the vendor's GenTL producer (.cti)."""

    backend: Literal["genicam"]
    cti_path: str
    serial: str | None = None  # None: the camera at `index`
    index: int = Field(default=0, ge=0)
    trigger_line: str = "Line0"
    trigger_edge: Literal["RisingEdge", "FallingEdge"] = "RisingEdge"
    fixed_exposure_us: float | None = Field(default=None, gt=0)  # for cameras without an exposure node


class SimCameraSettings(CameraSettings):
    """The simulated camera adds the EMVA 1288 parameters of its sensor (sim.camera_model.SensorModel)."""

    backend: Literal["sim"] = "sim"
    quantum_efficiency: float = Field(default=_SENSOR.quantum_efficiency, gt=0, le=1)  # electrons per photon
    system_gain_dn_per_e: float = Field(default=_SENSOR.system_gain_dn_per_e, gt=0)  # K at 0 dB gain
    read_noise_e: float = Field(default=_SENSOR.read_noise_e, ge=0)  # temporal dark noise
    dark_current_e_per_s: float = Field(default=_SENSOR.dark_current_e_per_s, ge=0)
    offset_dn: float = Field(default=_SENSOR.offset_dn, ge=0)  # black level
    full_well_e: float = Field(default=_SENSOR.full_well_e, gt=0)

    @field_validator("offset_dn")
    @classmethod
    def _offset_below_saturation(cls, offset_dn: float, info: ValidationInfo) -> float:
        bit_depth = info.data.get("bit_depth")
        if bit_depth is not None and offset_dn >= 2**bit_depth - 1:
            raise ValueError(f"offset {offset_dn} DN leaves no range below saturation ({2**bit_depth - 1} DN)")
        return offset_dn


# -- scattering medium (simulated bench) ------------------------------------------------------------
class TransmissionMatrixSettings(_Section):
    """A thick medium: a seeded complex Gaussian transmission matrix (sim.medium.RandomTransmissionMatrix)."""

    kind: Literal["transmission_matrix"] = "transmission_matrix"
    seed: int = Field(default=1, ge=0)
    grain_px: float = Field(default=2.0, ge=1)  # speckle grain (FWHM of the intensity autocorrelation)
    ballistic_fraction: float = Field(default=0.0, ge=0, le=1)  # unscattered share of the light (sim.ballistic)


class PhaseScreenSettings(_Section):
    """A thin ground-glass diffuser in the far field (sim.medium.PhaseScreenDiffuser)."""

    kind: Literal["phase_screen"] = "phase_screen"
    seed: int = Field(default=1, ge=0)
    grain_px: float = Field(default=_sim_default(PhaseScreenDiffuser, "grain_px"), ge=1)
    phase_std_rad: float = Field(default=float(_sim_default(PhaseScreenDiffuser, "phase_std_rad")), gt=0)
    correlation_px: float = Field(default=_sim_default(PhaseScreenDiffuser, "correlation_px"), ge=1)  # macropixels
    # contact: the screen against the DMD; fourier: a lens between them, so target shifts move the speckle
    geometry: Literal["contact", "fourier"] = _sim_default(PhaseScreenDiffuser, "geometry")
    ballistic_fraction: float = Field(default=0.0, ge=0, le=1)  # unscattered share of the light (sim.ballistic)


class SimSettings(_Section):
    """The simulated optical table."""

    photons_per_joule: float = Field(default=_sim_default(OpticalTable, "photons_per_joule"), gt=0)  # all on
    # True: 8-bit patterns act as field amplitudes instead of bit planes
    coherent_gray: bool = _sim_default(OpticalTable, "coherent_gray")
    realtime: bool = _sim_default(SimulatedDMD, "realtime")  # True: DMD sequences take their real duration
    # Where the medium and the camera noise are computed: cpu (numpy), cuda (torch on the GPU), auto (the GPU
    # when torch sees one). The statistics are the same; the noise draws differ, so cpu is the reproducible one.
    device: Literal["cpu", "cuda", "auto"] = "cpu"
    # How a transmission-matrix medium is stored: band_limited (pupil modes + inverse FFT), dense (a matrix to
    # every pixel), auto (band_limited when the grain is over 1 pixel). Recorded in the data file's medium.
    representation: Literal["auto", "dense", "band_limited"] = "auto"


def _backend_union(family: str, *builtin: type[_Section]) -> Any:
    """The section's settings classes, discriminated by `backend`: the built-in ones (whose factories are in
    lab.bench) and those other packages register under the `speckle_lab.backends` entry points."""
    from speckle_lab.lab.backend_registry import plugin_backends  # here: a plugin module imports this module's classes

    registered = tuple(b.settings for b in plugin_backends() if b.family == family and b.settings not in builtin)
    return Annotated[typing.Union[*builtin, *registered], Field(discriminator="backend")]


# One union per section: a new backend is one settings class plus one DeviceBackend (lab.bench, or an entry point).
if TYPE_CHECKING:  # a union built at run time (plugins): to the type checker, its base, which every member extends
    LaserConfig: TypeAlias = LaserSettings
    DmdConfig: TypeAlias = DmdSettings
    CameraConfig: TypeAlias = CameraSettings
else:
    LaserConfig = _backend_union("laser", SimLaserSettings, CoboltLaserSettings, ObisLaserSettings)
    DmdConfig = _backend_union("dmd", SimDmdSettings, Alp4DmdSettings, DisplayDmdSettings)
    CameraConfig = _backend_union("camera", SimCameraSettings, GenICamCameraSettings)
MediumConfig = Annotated[TransmissionMatrixSettings | PhaseScreenSettings, Field(discriminator="kind")]

# section -> (discriminating key, its default, the union)
_CHOICES: dict[str, tuple[str, str, Any]] = {
    "laser": ("backend", "sim", LaserConfig),
    "dmd": ("backend", "sim", DmdConfig),
    "camera": ("backend", "sim", CameraConfig),
    "medium": ("kind", "transmission_matrix", MediumConfig),
}


def section_variants(section: str) -> dict[str, type[BaseModel]]:
    """The settings classes a section can take, by backend (or medium kind) name."""
    key, _, union = _CHOICES[section]
    members = typing.get_args(typing.get_args(union)[0]) or (typing.get_args(union)[0],)
    return {typing.get_args(member.model_fields[key].annotation)[0]: member for member in members}


class BenchConfig(_Section):
    """The whole bench. Every section and key is optional; the defaults are the built-in simulated bench."""

    bench: BenchSection = Field(default_factory=BenchSection)
    laser: LaserConfig = Field(default_factory=SimLaserSettings)
    dmd: DmdConfig = Field(default_factory=SimDmdSettings)
    camera: CameraConfig = Field(default_factory=SimCameraSettings)
    medium: MediumConfig = Field(default_factory=TransmissionMatrixSettings)
    sim: SimSettings = Field(default_factory=SimSettings)

    @model_validator(mode="before")
    @classmethod
    def _default_choices(cls, data: Any) -> Any:
        """A section without `backend` (or `kind`) takes the simulated one, like a missing section does."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        for section, (key, default, _) in _CHOICES.items():
            table = data.get(section)
            if isinstance(table, dict) and key not in table:
                data[section] = {key: default, **table}
        return data

    @model_validator(mode="after")
    def _photons_within_the_light(self) -> Self:
        """`sim.photons_per_joule` counts the photons that reach the camera per joule of laser light: at most
        all of them, wavelength / (h c) (2.68e18 at 532 nm). More is no bench, and far more (1e300) overflows
        the camera model into a "complete" file of garbage."""
        most = self.laser.wavelength_nm * 1e-9 / (PLANCK_J_S * LIGHT_SPEED_M_S)
        if self.sim.photons_per_joule > most:
            raise ValueError(
                f"sim.photons_per_joule: {self.sim.photons_per_joule:g} is more photons than a joule of "
                f"{self.laser.wavelength_nm:g} nm light holds ({most:.3g} = wavelength / (h c)); expected at most that"
            )
        return self

    def to_dict(self) -> dict[str, dict[str, Any]]:
        """Plain nested dict for data files and JSON: str, int, float and bool values, and None for an
        unset DMD offset (centred; `dmd.active_origin` has the resolved mirror)."""
        return self.model_dump(mode="json")

    @property
    def simulated(self) -> bool:
        """True when every device is simulated (they then share one simulated optical table)."""
        return all(getattr(self, s).backend == "sim" for s in ("laser", "dmd", "camera"))

    def with_changes(self, **sections: dict[str, Any]) -> Self:
        """A validated copy with some keys changed, e.g. `with_changes(camera={"exposure_us": 80.0})`."""
        data = self.to_dict()
        for section, changes in sections.items():
            data[section] = {**data[section], **changes}
        return type(self).model_validate(data)


def parse_bench(text: str, source: str = "<string>") -> BenchConfig:
    """Validate the TOML `text`; `source` names it in error messages."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise BenchConfigError(source, [f"TOML syntax error: {error}"]) from None
    try:
        return BenchConfig.model_validate(data)
    except ValidationError as error:
        choices = {section: key for section, (key, _, _) in _CHOICES.items()}
        raise BenchConfigError(source, describe_errors(error, BenchConfig, choices, section_variants)) from None


def load_bench(path: Path | None = None) -> BenchConfig:
    """The bench described by the TOML file at `path`, or the built-in simulated bench for None.

    TOML is read as data (tomllib), never executed. Raises `BenchConfigError`.
    """
    if path is None:
        return parse_bench(default_bench_text(), DEFAULT_BENCH_SOURCE)
    try:
        raw = Path(path).read_bytes()
    except OSError as error:
        raise BenchConfigError(str(path), [f"cannot read the bench file: {error.strerror or error}"]) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise BenchConfigError(str(path), [f"not UTF-8 text (byte {error.start})"]) from None
    return parse_bench(text, str(path))


def default_bench_text() -> str:
    """The commented built-in bench file, as shipped in the package (and quoted in docs/bench.md)."""
    return resources.files("speckle_lab.lab").joinpath(DEFAULT_BENCH_FILE).read_text(encoding="utf-8")


def dumps_toml(config: BenchConfig) -> str:
    """`config` as a TOML bench file that `parse_bench` reads back to an equal config."""
    lines = [f"# speckle-lab bench: {config.bench.name}"]
    for section, values in config.to_dict().items():
        lines += ["", f"[{section}]"]
        lines += [f"{key} = {_toml_value(value)}" for key, value in values.items() if value is not None]
    return "\n".join(lines) + "\n"


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)  # Python's shortest repr of a finite float is valid TOML and round-trips exactly
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"')
        escaped = "".join(c if c.isprintable() else f"\\u{ord(c):04x}" for c in escaped)
        return f'"{escaped}"'
    raise TypeError(f"no TOML form for {value!r}")
