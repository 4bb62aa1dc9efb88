"""The panel adapts lab services to Qt and never drives devices itself: no gui module imports `drivers`
(DESIGN's layering table). `gui/capture_worker.py` is being moved onto lab's capture-queue service (issue 12)."""

from __future__ import annotations

import ast
from pathlib import Path

GUI = Path(__file__).resolve().parents[2] / "gui"
MOVING_TO_LAB = {"capture_worker.py"}


def _imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_no_gui_module_imports_drivers() -> None:
    offenders = [p.name for p in sorted(GUI.glob("*.py")) if p.name not in MOVING_TO_LAB and "drivers" in _imported(p)]
    assert offenders == []
    assert "sim" not in set().union(*(_imported(p) for p in GUI.glob("*.py")))
