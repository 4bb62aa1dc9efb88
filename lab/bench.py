"""Build the bench's devices from its configuration, and close them in the order that leaves it safe.

Each device family has a registry: backend name -> `DeviceBackend` (its bench-file settings class beside its
factory). A vendor backend is one entry (here, or from another package through the `speckle_lab.backends`
entry points, see lab.backend_registry); nothing else in the application changes.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Self, cast

import numpy as np

from speckle_lab.acquisition.text import format_bytes
from speckle_lab.drivers import DMD, Camera, Device, DmdGeometry, Laser, RegionOfInterest, Roi
from speckle_lab.lab.backend_registry import DeviceBackend, apply_setting, merge
from speckle_lab.lab.bench_config import (
    DEFAULT_BENCH_SOURCE,
    Alp4DmdSettings,
    BenchConfig,
    CameraSettings,
    CoboltLaserSettings,
    DisplayDmdSettings,
    DmdSettings,
    GenICamCameraSettings,
    ObisLaserSettings,
    SimCameraSettings,
    SimDmdSettings,
    SimLaserSettings,
    load_bench,
)
from speckle_lab.lab.config_errors import BenchConfigError
from speckle_lab.sim.ballistic import with_ballistic
from speckle_lab.sim.camera import SimulatedCamera
from speckle_lab.sim.camera_model import SensorModel
from speckle_lab.sim.dmd import SimulatedDMD
from speckle_lab.sim.laser import SimulatedLaser
from speckle_lab.sim.medium import Medium, PhaseScreenDiffuser, RandomTransmissionMatrix
from speckle_lab.sim.table import OpticalTable
from speckle_lab.sim.torch_backend import resolve_compute


@dataclass
class Bench:
    """The three devices of one bench. Leaving the context (or `close`) closes camera, DMD, then laser."""

    config: BenchConfig
    laser: Laser
    dmd: DMD
    camera: Camera
    table: OpticalTable | None = None  # the shared simulated optical table, when simulated

    @property
    def geometry(self) -> DmdGeometry:
        return self.table.geometry if self.table is not None else dmd_geometry(self.config)

    def devices(self) -> dict[str, Device]:
        return {"laser": self.laser, "dmd": self.dmd, "camera": self.camera}

    def close(self) -> None:
        """Close every device even if one fails; the laser last, so its emission is off at the end.
        The first failure is raised afterwards, with the others as notes."""
        _close_all([self.camera, self.dmd, self.laser])

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def _seeds(config: BenchConfig) -> tuple[int, int]:
    """Independent noise seeds for the simulated laser and camera, from the one bench seed."""
    laser_seed, camera_seed = np.random.SeedSequence(config.bench.seed).generate_state(2)
    return int(laser_seed), int(camera_seed)


_apply = apply_setting


# -- the simulated backends: the whole bench configuration and the shared simulated table -------------------
def _sim_laser(config: BenchConfig, table: OpticalTable, source: str) -> Laser:
    settings = config.laser
    laser = SimulatedLaser(
        table, max_power_w=settings.max_power_w, wavelength_nm=settings.wavelength_nm, seed=_seeds(config)[0]
    )
    _apply(source, "laser.power_w", laser.set_power_w, settings.power_w)
    return laser


def _sim_dmd(config: BenchConfig, table: OpticalTable, source: str) -> DMD:
    return SimulatedDMD(table, max_pattern_rate_hz=config.dmd.max_pattern_rate_hz, realtime=config.sim.realtime)


def _sim_camera(config: BenchConfig, table: OpticalTable, source: str) -> Camera:
    settings = config.camera
    if not isinstance(settings, SimCameraSettings):  # the registry opens this factory for backend "sim" only
        raise TypeError(f"the simulated camera is built from SimCameraSettings, not {type(settings).__name__}")
    sensor = SensorModel(
        quantum_efficiency=settings.quantum_efficiency,
        system_gain_dn_per_e=settings.system_gain_dn_per_e,
        read_noise_e=settings.read_noise_e,
        dark_current_e_per_s=settings.dark_current_e_per_s,
        offset_dn=settings.offset_dn,
        bit_depth=settings.bit_depth,
        full_well_e=settings.full_well_e,
    )
    camera = SimulatedCamera(table, sensor, seed=_seeds(config)[1])
    _apply(source, "camera.exposure_us", camera.set_exposure_us, settings.exposure_us)
    _apply(source, "camera.gain_db", camera.set_gain_db, settings.gain_db)
    return camera


# -- the real backends: their own section's settings only ----------------------------------------------
def _cobolt_laser(s: CoboltLaserSettings, source: str) -> Laser:
    from speckle_lab.drivers.lasers import CoboltLaser

    laser = CoboltLaser(s.port, device_max_power_w=s.device_max_power_w, max_power_w=s.max_power_w,
                        baudrate=s.baudrate, timeout_s=s.timeout_s)  # fmt: skip
    _apply(source, "laser.power_w", laser.set_power_w, s.power_w)
    return laser


def _obis_laser(s: ObisLaserSettings, source: str) -> Laser:
    from speckle_lab.drivers.lasers import ObisLaser

    laser = ObisLaser(s.port, max_power_w=s.max_power_w, modulation=s.modulation, visa_backend=s.visa_backend,
                      baudrate=s.baudrate, timeout_s=s.timeout_s)  # fmt: skip
    _apply(source, "laser.power_w", laser.set_power_w, s.power_w)
    return laser


def _check_mirror_shape(dmd: DMD, s: DmdSettings, source: str) -> None:
    wanted = (s.mirror_rows, s.mirror_cols)
    if tuple(dmd.mirror_shape) != wanted:
        dmd.close()
        raise BenchConfigError(
            source, [f"dmd.mirror_rows/mirror_cols: the device has {dmd.mirror_shape} mirrors, the file says {wanted}"]
        )


def _alp4_dmd(s: Alp4DmdSettings, source: str) -> DMD:
    from speckle_lab.drivers.dmds import Alp4DMD

    dmd = Alp4DMD(s.version, s.lib_dir, s.device_number, s.max_pattern_rate_hz, s.trigger_edge)
    _check_mirror_shape(dmd, s, source)
    return dmd


def _display_dmd(s: DisplayDmdSettings, source: str) -> DMD:
    from speckle_lab.drivers.dmds import DisplayDMD

    return DisplayDMD(s.screen_index, (s.mirror_rows, s.mirror_cols), s.max_pattern_rate_hz, s.present_timeout_s)


def _genicam_camera(s: GenICamCameraSettings, source: str) -> Camera:
    from speckle_lab.drivers.cameras import GenICamCamera
    from speckle_lab.drivers.cameras.genicam import pixel_format_for_bit_depth

    camera = GenICamCamera(s.cti_path, s.serial, s.index, pixel_format_for_bit_depth(s.bit_depth), s.trigger_line,
                           s.trigger_edge, s.fixed_exposure_us)  # fmt: skip
    try:
        _set_frame_shape(camera, s, source)
        _apply(source, "camera.exposure_us", camera.set_exposure_us, s.exposure_us)
        if s.gain_db:
            _apply(source, "camera.gain_db", camera.set_gain_db, s.gain_db)
    except BaseException:
        camera.close()
        raise
    return camera


def _set_frame_shape(camera: Camera, s: CameraSettings, source: str) -> None:
    """rows x cols from the sensor's corner: a region of interest where the camera has one, else the sensor."""
    if isinstance(camera, RegionOfInterest):
        _apply(source, "camera.rows/cols", camera.set_roi, Roi(0, 0, s.rows, s.cols))
    elif camera.sensor_shape != (s.rows, s.cols):
        raise BenchConfigError(
            source, [f"camera.rows/cols: the camera has no region of interest; its sensor is {camera.sensor_shape}"]
        )


# One registry per family: backend name -> DeviceBackend (the bench-file settings class beside the factory).
# Other packages add theirs through the `speckle_lab.backends` entry points (lab.backend_registry).
BUILTIN_BACKENDS = (
    DeviceBackend("laser", "sim", SimLaserSettings, _sim_laser, simulated=True),
    DeviceBackend("laser", "cobolt", CoboltLaserSettings, _cobolt_laser),
    DeviceBackend("laser", "obis", ObisLaserSettings, _obis_laser),
    DeviceBackend("dmd", "sim", SimDmdSettings, _sim_dmd, simulated=True),
    DeviceBackend("dmd", "alp4", Alp4DmdSettings, _alp4_dmd),
    DeviceBackend("dmd", "display", DisplayDmdSettings, _display_dmd),
    DeviceBackend("camera", "sim", SimCameraSettings, _sim_camera, simulated=True),
    DeviceBackend("camera", "genicam", GenICamCameraSettings, _genicam_camera),
)
LASER_BACKENDS: dict[str, DeviceBackend] = merge(BUILTIN_BACKENDS, "laser")
DMD_BACKENDS: dict[str, DeviceBackend] = merge(BUILTIN_BACKENDS, "dmd")
CAMERA_BACKENDS: dict[str, DeviceBackend] = merge(BUILTIN_BACKENDS, "camera")


def build_medium(config: BenchConfig, source: str = "bench configuration") -> Medium:
    """The simulated medium, with its ballistic fraction (sim.ballistic) when the configuration sets one."""
    return with_ballistic(_scattering_medium(config, source), getattr(config.medium, "ballistic_fraction", 0.0))


#: Float64 camera-sized arrays the simulation holds at once while it builds a medium and makes a frame (the
#: pupil grid, the field, the intensity, the noise): a camera whose frame needs more than the memory there is
#: cannot be simulated.
SIM_FRAME_COPIES = 4


def available_memory_bytes() -> int:
    """Memory the system can give now (Linux MemAvailable; elsewhere the physical memory)."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 1 << 62  # unknown: do not refuse


def _check_simulation_fits(config: BenchConfig, source: str, medium: Medium | None = None) -> None:
    """Refuse, in one line naming the keys, a simulated camera or medium larger than the memory there is,
    before numpy is asked for it (it fails with a 41-line MemoryError, or calls the array "too big" in a
    message that named medium.grain_px)."""
    rows, cols = config.camera.rows, config.camera.cols
    available = available_memory_bytes()
    frame_bytes = rows * cols * 8 * SIM_FRAME_COPIES
    if frame_bytes > available:
        raise BenchConfigError(
            source,
            [
                f"camera.rows x camera.cols: simulating a {rows}x{cols} camera needs {format_bytes(frame_bytes)} "
                f"per frame, {format_bytes(available)} of memory is available; expected a camera (or region of "
                "interest) that fits"
            ],
        )
    if medium is not None and medium.memory_bytes > available:
        raise BenchConfigError(
            source,
            [
                f"medium: the simulated medium from {config.dmd.side_macropixels}x{config.dmd.side_macropixels} "
                f"DMD macropixels to {rows}x{cols} camera pixels needs {format_bytes(medium.memory_bytes)}, "
                f"{format_bytes(available)} of memory is available; expected fewer macropixels "
                '(dmd.side_macropixels), a smaller camera, or sim.representation = "band_limited"'
            ],
        )


def _scattering_medium(config: BenchConfig, source: str) -> Medium:
    """The simulated scattering medium: DMD macropixels in, camera pixels out."""
    _check_simulation_fits(config, source)
    medium = _make_scattering_medium(config, source)
    _check_simulation_fits(config, source, medium)
    return medium


def _make_scattering_medium(config: BenchConfig, source: str) -> Medium:
    medium, side = config.medium, config.dmd.side_macropixels
    output_shape = (config.camera.rows, config.camera.cols)
    try:
        if medium.kind == "phase_screen":
            return PhaseScreenDiffuser(
                side,
                output_shape,
                medium.seed,
                grain_px=medium.grain_px,
                phase_std_rad=medium.phase_std_rad,
                correlation_px=medium.correlation_px,
                geometry=medium.geometry,
            )
        # Ballistic light is mixed into a matrix to every camera pixel (sim.ballistic): it needs the dense form.
        ballistic = getattr(medium, "ballistic_fraction", 0.0) > 0
        representation = "dense" if ballistic else config.sim.representation
        return RandomTransmissionMatrix(
            side * side, output_shape, medium.seed, grain_px=medium.grain_px, representation=representation
        )
    except ValueError as error:
        raise BenchConfigError(source, [f"medium.grain_px: {error}"]) from None


def dmd_geometry(config: BenchConfig) -> DmdGeometry:
    """The DMD's active area and macropixels: where targets are placed, simulated or not."""
    dmd = config.dmd
    top, left = dmd.active_origin
    return DmdGeometry(
        mirror_shape=(dmd.mirror_rows, dmd.mirror_cols),
        active_top=top,
        active_left=left,
        macropixel_mirrors=dmd.macropixel_mirrors,
        side_macropixels=dmd.side_macropixels,
    )


def build_table(config: BenchConfig, source: str = "bench configuration") -> OpticalTable:
    """The simulated optical table the simulated devices share. The medium's matrix is built lazily,
    on the first frame, so listing devices stays fast."""
    geometry = dmd_geometry(config)
    try:
        compute = resolve_compute(config.sim.device)
    except ValueError as error:
        raise BenchConfigError(source, [f"sim.device: {error}"]) from None
    return OpticalTable(
        build_medium(config, source),
        geometry,
        photons_per_joule=config.sim.photons_per_joule,
        coherent_gray=config.sim.coherent_gray,
        compute=compute,
    )


def _make(
    family: str, registry: dict[str, DeviceBackend], config: BenchConfig, table: OpticalTable | None, source: str
) -> Device:
    """Open the family's configured backend. What it returns is the family's contract (a Laser, DMD or Camera):
    the registry's `open` checks it against backend_registry.CONTRACTS and closes anything else."""
    backend = getattr(config, family).backend
    entry = registry.get(backend)
    if entry is None:
        available = ", ".join(sorted(registry)) or "none"
        raise BenchConfigError(
            source, [f"{family}.backend: the {backend!r} backend is not implemented yet; available: {available}"]
        )
    if entry.simulated:
        if table is None:
            raise ValueError("a simulated device needs the simulated optical table")
        return entry.open(config, table, source)
    return entry.open(getattr(config, family), source)  # a real device never sees the simulated table


def build_bench(config: BenchConfig, source: str = "bench configuration") -> Bench:
    """Open the configured devices. The laser gets its configured setpoint with emission off.

    `source` names the configuration in errors (the file path). On failure, what was opened is closed.
    """
    backends = {family: getattr(config, family).backend for family in ("laser", "dmd", "camera")}
    sim = [family for family, backend in backends.items() if backend == "sim"]
    if sim and len(sim) < len(backends):
        real = [f"{family}.backend = {backends[family]!r}" for family in backends if family not in sim]
        raise BenchConfigError(
            source, [f"simulated devices only see the simulated table; {', '.join(real)} cannot join them"]
        )
    table = build_table(config, source) if sim else None
    opened: list[Device] = []
    try:
        laser = cast(
            Laser, _make("laser", LASER_BACKENDS, config, table, source)
        )  # checked against CONTRACTS by the registry
        opened.append(laser)
        dmd = cast(DMD, _make("dmd", DMD_BACKENDS, config, table, source))
        opened.append(dmd)
        camera = cast(Camera, _make("camera", CAMERA_BACKENDS, config, table, source))
        opened.append(camera)
    except BaseException:
        _close_all(reversed(opened), raise_first=False)
        raise
    return Bench(config=config, laser=laser, dmd=dmd, camera=camera, table=table)


def open_bench(path: Path | None = None) -> Bench:
    """Load the bench file at `path` (None: the built-in simulated bench) and open its devices."""
    source = DEFAULT_BENCH_SOURCE if path is None else str(path)
    return build_bench(load_bench(path), source)


def _close_all(devices: Iterable[Device], raise_first: bool = True) -> None:
    errors: list[Exception] = []
    for device in devices:
        try:
            device.close()
        except Exception as error:
            errors.append(error)
    if errors and raise_first:
        for other in errors[1:]:
            errors[0].add_note(f"also failed while closing: {other!r}")
        raise errors[0]
