"""One owner for every fact: the layers import only downward, and each vocabulary is derived, not copied."""

from __future__ import annotations

import ast
import dataclasses
import inspect
from pathlib import Path

import pytest

from speckle_lab.acquisition.datafile.layout import KNOWN_EVENT_KINDS, EventKind
from speckle_lab.acquisition.plan import DISPLAY_MODES, CapturePlan, PlanError, plan_from_dict
from speckle_lab.acquisition.targets import PlacementSpec
from speckle_lab.acquisition.targets.prepare import BINARIZE_MODES
from speckle_lab.acquisition.text import format_bytes, resume_command
from speckle_lab.acquisition.version import software_version
from speckle_lab.lab.bench_config import BenchConfig, PhaseScreenSettings
from speckle_lab.lab.cli import build_parser
from speckle_lab.sim.camera import SimulatedCamera
from speckle_lab.sim.camera_model import SensorModel
from speckle_lab.sim.dmd import SimulatedDMD
from speckle_lab.sim.laser import SimulatedLaser
from speckle_lab.sim.table import OpticalTable

ROOT = Path(__file__).resolve().parents[2]
# DESIGN.md's layering: what each package may import of ours.
MAY_IMPORT = {
    "drivers": set(),
    "sim": {"drivers"},
    "acquisition": {"drivers"},
    "model": {"acquisition", "drivers"},
    "lab": {"drivers", "sim", "acquisition", "model"},
}


def _imports(package: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in (ROOT / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            else:
                continue
            for name in names:
                parts = name.split(".")
                top = parts[1] if parts[0] == "speckle_lab" and len(parts) > 1 else parts[0]
                if top in {*MAY_IMPORT, "gui"} and top != package:
                    found.setdefault(top, set()).add(str(path.relative_to(ROOT)))
    return found


@pytest.mark.parametrize("package", sorted(MAY_IMPORT))
def test_layers_import_only_downward(package: str) -> None:
    imported = _imports(package)
    assert set(imported) <= MAY_IMPORT[package], {k: v for k, v in imported.items() if k not in MAY_IMPORT[package]}


def test_the_gui_command_finds_the_panel_through_its_entry_point() -> None:
    from speckle_lab.lab.commands.gui import BUILTIN_PANELS, panel_module

    pyproject = (ROOT / "pyproject.toml").read_text()
    assert '[project.entry-points."speckle_lab.panels"]' in pyproject and 'qt = "speckle_lab.gui.app"' in pyproject
    assert BUILTIN_PANELS == {"qt": "speckle_lab.gui.app"}
    pytest.importorskip("PySide6")
    panel = panel_module()
    assert callable(panel.main) and callable(panel.qt_binding_problem)


def test_display_modes_are_one_list_and_the_cli_offers_them_all() -> None:
    assert ("gray", *BINARIZE_MODES) == DISPLAY_MODES and "ordered" in DISPLAY_MODES
    args = build_parser().parse_args(["capture", "--out", "x.h5", "--display", "ordered"])
    assert args.display == "ordered"
    for mode in DISPLAY_MODES:
        assert plan_from_dict({"display": mode}).display == mode


def test_event_kinds_are_one_enum_that_lists_what_the_capture_logs() -> None:
    assert tuple(kind.value for kind in EventKind) == KNOWN_EVENT_KINDS
    assert {"step_mode", "laser_fault"} <= set(KNOWN_EVENT_KINDS)
    scheduler = (ROOT / "acquisition" / "scheduler.py").read_text()
    logged = {node.args[0].attr for node in ast.walk(ast.parse(scheduler))
              if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "log_event"
              and isinstance(node.args[0], ast.Attribute)}  # fmt: skip
    assert {"STEP_MODE", "LASER_FAULT", "ABORTED", "RETRY"} <= logged
    assert '.log_event("' not in scheduler  # no kind spelled as a bare string


def test_placement_settings_are_one_model() -> None:
    plan = CapturePlan()
    assert isinstance(plan.placement, PlacementSpec) and plan.placement_spec() is plan.placement
    assert plan_from_dict({"placement": {"mode": "random", "scale_max": 1.5}}).placement.scale_max == 1.5
    for bad, message in (({"scale_min": 0}, "scale_min"), ({"mode": "x"}, "neither 'fixed' nor 'random'"),
                         ({"typo": 1}, "typo"), ({"scale_min": 2, "scale_max": 1}, "scale_min <= scale_max"),
                         ({"mode": "random", "top": 3}, "top/left are for mode 'fixed'")):  # fmt: skip
        with pytest.raises(PlanError, match=message):
            plan_from_dict({"placement": bad})
    assert plan.to_dict()["placement"] == dataclasses.asdict(PlacementSpec())


def test_simulated_defaults_are_owned_by_the_simulation() -> None:
    config = BenchConfig()
    sensor = SensorModel()
    for name in ("quantum_efficiency", "system_gain_dn_per_e", "read_noise_e", "dark_current_e_per_s",
                 "offset_dn", "full_well_e", "bit_depth"):  # fmt: skip
        assert getattr(config.camera, name) == getattr(sensor, name), name

    def default(owner: object, name: str) -> object:
        return inspect.signature(owner).parameters[name].default

    assert config.camera.exposure_us == default(SimulatedCamera, "exposure_us")
    assert config.laser.max_power_w == default(SimulatedLaser, "max_power_w")
    assert config.laser.wavelength_nm == default(SimulatedLaser, "wavelength_nm")
    assert config.dmd.max_pattern_rate_hz == default(SimulatedDMD, "max_pattern_rate_hz")
    assert config.sim.photons_per_joule == default(OpticalTable, "photons_per_joule")
    assert PhaseScreenSettings().correlation_px == 1.0 and PhaseScreenSettings().phase_std_rad > 6.28


def test_small_facts_have_one_owner() -> None:
    import speckle_lab.acquisition.datafile.records as records
    import speckle_lab.lab.cli as cli
    import speckle_lab.model.checkpoint as checkpoint

    assert records.software_version is software_version is checkpoint.software_version
    assert cli.software_version is software_version
    assert format_bytes(1536) == "1.5 KiB" and format_bytes(3 * 2**40) == "3.0 TiB"
    assert resume_command("a.h5") == "speckle-lab capture --resume a.h5"
    for path in (ROOT / "acquisition").rglob("*.py"):
        if path.name != "text.py":
            assert "speckle-lab capture --resume" not in path.read_text(), path


def test_exit_codes_have_one_owner_and_one_documented_table() -> None:
    """lab/exit_codes.py is the only module that writes an exit code as a number (commands return its names;
    layers below lab raise their own errors); docs/bench.md documents every code of it."""
    from speckle_lab.lab import exit_codes

    owner = ROOT / "lab" / "exit_codes.py"
    written = []
    for package in (*MAY_IMPORT, "gui"):
        for path in (ROOT / package).rglob("*.py"):
            if path == owner:
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                targets = node.targets if isinstance(node, ast.Assign) else []
                names = [t.id for t in targets if isinstance(t, ast.Name)]
                if any(name.startswith("EXIT_") for name in names) and isinstance(node.value, ast.Constant):
                    written.append(f"{path.relative_to(ROOT)}:{node.lineno}")
                if isinstance(node, ast.BinOp) and isinstance(node.left, ast.Constant) and node.left.value == 128:
                    written.append(f"{path.relative_to(ROOT)}:{node.lineno}")  # 128 + signal, written again
    assert written == []
    table = (ROOT / "docs" / "bench.md").read_text().split("## Exit codes", 1)[1].split("\n## ", 1)[0]
    codes = {exit_codes.EXIT_OK, exit_codes.EXIT_FAILED, exit_codes.EXIT_USAGE, exit_codes.EXIT_ALARM}
    for code in codes:
        assert f"\n| {code} |" in table, f"exit code {code} is not in docs/bench.md's table"
    assert "| 128 + N |" in table and "lab/exit_codes.py" in table
