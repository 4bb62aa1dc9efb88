"""MkDocs hooks for the documentation site (mkdocs.yml): the README as the home page, and the installed namespace
for the API reference.

- The README is the home page, generated from the repository's README.md (one text, two places). Its links are
  relative to the repository's top: `docs/x.md` becomes `x.md`; a link to a file of the repository outside docs/
  (benchmarks/README.md, ...) becomes its path in code, since the site does not carry it; any other link is left
  as written, so a broken one still fails `mkdocs build --strict`.
- The folders (drivers/, sim/, ...) install as `speckle_lab.<folder>` through setup.py's package_dir, which griffe
  (mkdocstrings' loader) cannot follow, as mypy cannot: `NAMESPACE_TREE` gets `speckle_lab/<folder>` symlinks to
  the repository's folders, and mkdocs.yml gives that tree to the Python handler as its search path. No import
  and no installed package is needed.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
NAMESPACE_TREE = ROOT / "build" / "docs-namespace"  # mkdocs.yml: plugins.mkdocstrings.handlers.python.paths
FOLDERS = ("drivers", "sim", "acquisition", "model", "lab", "gui")
_LINK = re.compile(r"\[([^\]]*)\]\(([^)\s#]+)(#[^)\s]*)?\)")


def _namespace_tree() -> None:
    package = NAMESPACE_TREE / "speckle_lab"
    package.mkdir(parents=True, exist_ok=True)
    links = {name: ROOT / "speckle_lab" / name for name in ("__init__.py", "py.typed")}
    links |= {folder: ROOT / folder for folder in FOLDERS}
    for name, target in links.items():
        link = package / name
        if link.is_symlink() and link.resolve() == target.resolve():
            continue
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(target)


def on_startup(command: str, dirty: bool) -> None:
    """Before any plugin reads its configuration: the Python handler checks its search paths when it starts."""
    _namespace_tree()


def readme_as_home(text: str) -> str:
    """The README's links, rewritten for a page at the top of docs/ (see the module docstring)."""

    def rewrite(match: re.Match[str]) -> str:
        label, target, anchor = match.group(1), match.group(2), match.group(3) or ""
        if re.match(r"^[a-z]+:", target):  # http:, https:, mailto:
            return match.group(0)
        if target.startswith("docs/"):
            return f"[{label}]({target.removeprefix('docs/')}{anchor})"
        if (ROOT / target).exists():
            return f"`{target}`" if label == target else f"{label} (`{target}` in the repository)"
        return match.group(0)

    return _LINK.sub(rewrite, text)


def on_files(files: Any, config: Any) -> Any:
    from mkdocs.structure.files import File

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    files.append(File.generated(config, "index.md", content=readme_as_home(readme)))
    return files
