"""One installed namespace: the wheel holds `speckle_lab` and nothing else at the top, and the code, the tests
and the docs import our packages one way, as `speckle_lab.<folder>` (DESIGN.md's layout keeps the folders at
the top of the repository; setup.py maps them into the namespace)."""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FOLDERS = ("drivers", "sim", "acquisition", "model", "lab", "gui")
SOURCE_DIRS = (*FOLDERS, "speckle_lab", "tests", "benchmarks")


def _python_files() -> list[Path]:
    files = [ROOT / "setup.py"]
    for folder in SOURCE_DIRS:
        files += sorted((ROOT / folder).rglob("*.py"))
    return files


def _generic_imports(tree: ast.AST) -> list[str]:
    found = []
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        found += [f"line {node.lineno}: {name}" for name in names if name.split(".")[0] in FOLDERS]
    return found


def test_code_and_tests_import_only_through_the_namespace():
    offenders = {}
    for path in _python_files():
        found = _generic_imports(ast.parse(path.read_text(), filename=str(path)))
        if found:
            offenders[str(path.relative_to(ROOT))] = found
    assert offenders == {}


def test_module_names_in_strings_are_namespaced():
    """`python -m lab.cli`, a monkeypatch target or an entry point written without the namespace would import
    nothing once installed."""
    pattern = re.compile(rf"""["'](?:-m\s+)?({"|".join(FOLDERS)})\.(\w+)""")
    offenders = []
    for path in _python_files():
        for match in pattern.finditer(path.read_text()):
            folder, name = match.groups()
            if (ROOT / folder / f"{name}.py").exists() or (ROOT / folder / name / "__init__.py").exists():
                offenders.append(f"{path.relative_to(ROOT)}: {match.group(0)}")
    assert offenders == []


def test_docs_import_through_the_namespace():
    import_line = re.compile(rf"^\s*(?:from|import)\s+({'|'.join(FOLDERS)})\b", re.M)
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
    offenders = [f"{page.name}: {m.group(0).strip()}" for page in pages for m in import_line.finditer(page.read_text())]
    assert offenders == []


def test_every_package_folder_is_mapped_into_the_namespace():
    """setup.py's folder list is the one DESIGN.md's layout names; a new top-level package would be left out."""
    packages = {p.parent.name for p in ROOT.glob("*/__init__.py")} - {"benchmarks", "speckle_lab"}
    setup_text = (ROOT / "setup.py").read_text()
    listed = set(ast.literal_eval(re.search(r"FOLDERS = (\(.*?\))", setup_text).group(1)))
    assert listed == set(FOLDERS) == packages


@pytest.mark.slow
def test_the_wheel_installs_one_top_level_name(tmp_path):
    """What `pip install .` puts into site-packages: `speckle_lab/` (every subpackage, the bench defaults, py.typed)
    and the dist-info, no `model`, `lab` or `gui` beside a user's own modules."""
    source = tmp_path / "source"  # a copy: a build in the checkout would leave build/ and *.egg-info there
    source.mkdir()
    for name in ("setup.py", "pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    for folder in ("speckle_lab", *FOLDERS):
        shutil.copytree(ROOT / folder, source / folder, ignore=shutil.ignore_patterns("__pycache__"))
    wheel_dir = tmp_path / "wheel"
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(wheel_dir)]
    built = subprocess.run([*command, str(source)], capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr[-2000:]
    (wheel,) = wheel_dir.glob("speckle_lab-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    top = {name.split("/")[0] for name in names}
    assert {t for t in top if not t.endswith(".dist-info")} == {"speckle_lab"}
    for folder in FOLDERS:
        assert f"speckle_lab/{folder}/__init__.py" in names
    assert "speckle_lab/py.typed" in names
    assert "speckle_lab/lab/default_bench.toml" in names
    assert "speckle_lab/drivers/lasers/cobolt.py" in names
    entry_points = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("entry_points.txt"))).decode()
    assert "speckle-lab = speckle_lab.lab.cli:entry" in entry_points
    assert "qt = speckle_lab.gui.app" in entry_points
