"""The panel adapts lab services to Qt and never drives devices itself: no gui module imports `drivers` or
`sim` (DESIGN's layering table). Panels share helpers through the lab's vocabulary or `gui/widgets.py`, never
by importing each other."""

from __future__ import annotations

import ast
from pathlib import Path

GUI = Path(__file__).resolve().parents[2] / "gui"
NAMESPACE = "speckle_lab"


def _imported(path: Path) -> set[str]:
    """The modules `path` imports, as dotted names inside the namespace (`gui.devices_panel`, `drivers`...)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules = [node.module]
        else:
            continue
        for module in modules:
            if module == NAMESPACE or module.startswith(f"{NAMESPACE}."):
                names.add(module.removeprefix(NAMESPACE).lstrip("."))
    return names


def _layers(path: Path) -> set[str]:
    return {name.split(".")[0] for name in _imported(path)}


def test_the_import_scan_sees_the_namespace() -> None:
    """The check below would pass vacuously if it missed `speckle_lab.` imports."""
    assert ("gui", "controller") in {tuple(name.split(".")) for name in _imported(GUI / "main_window.py")}
    assert "lab" in _layers(GUI / "capture_worker.py")


def test_no_gui_module_imports_drivers_or_sim() -> None:
    offenders = {p.name: sorted(_layers(p) & {"drivers", "sim"}) for p in sorted(GUI.glob("*.py"))}
    assert {name: layers for name, layers in offenders.items() if layers} == {}


def test_no_panel_imports_another_panel() -> None:
    panels = {p.stem for p in GUI.glob("*_panel.py")}
    assert len(panels) >= 4
    crossing = {
        p.stem: sorted(n for n in _imported(p) if n.startswith("gui.") and n.removeprefix("gui.") in panels)
        for p in sorted(GUI.glob("*.py"))
        if p.stem in panels or p.stem.endswith(("_card", "_cards"))
    }
    assert {name: modules for name, modules in crossing.items() if modules} == {}
