"""`speckle-lab gui [--bench FILE]`: the Qt control panel over the same services as the command line.

`lab` imports no `gui` module (the panel sits above it): the panel is found through the entry-point group
`speckle_lab.panels` (pyproject.toml registers `qt = "speckle_lab.gui.app"`; a separate package may register another).
The module named must offer `main(bench_path) -> int` and `qt_binding_problem() -> str | None`.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from importlib import metadata
from pathlib import Path
from types import ModuleType
from typing import Any

from speckle_lab.lab.bench_config import load_bench
from speckle_lab.lab.exit_codes import EXIT_USAGE

EXIT_NO_GUI = EXIT_USAGE  # no Qt binding or no display: the environment, not the bench, is the input at fault
PANEL_GROUP = "speckle_lab.panels"
DEFAULT_PANEL = "qt"
# What pyproject.toml registers under PANEL_GROUP, for a source tree whose installed metadata predates it.
BUILTIN_PANELS = {"qt": "speckle_lab.gui.app"}


def panel_module(name: str = DEFAULT_PANEL) -> ModuleType:
    """The panel registered as `name`; ImportError (naming the missing package) when it cannot be loaded."""
    for entry in metadata.entry_points(group=PANEL_GROUP):
        if entry.name == name:
            return importlib.import_module(entry.value.partition(":")[0])
    if name not in BUILTIN_PANELS:
        raise ImportError(f"no control panel {name!r} is registered under the entry points {PANEL_GROUP!r}", name=name)
    return importlib.import_module(BUILTIN_PANELS[name])


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser("gui", help="open the desktop control panel (devices, acquisition, training)")
    parser.add_argument("--bench", type=Path, metavar="FILE", help="bench TOML file (default: the simulated bench)")
    parser.set_defaults(run=run, console_log=False)  # the panel logs to its own file (docs/logging.md)


def _no_display() -> bool:
    """On Linux, Qt aborts the process without a display; say so in one line instead."""
    if not sys.platform.startswith("linux") or os.environ.get("QT_QPA_PLATFORM"):
        return False
    return not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def run(args: argparse.Namespace) -> int:
    load_bench(args.bench)  # a bad bench file is a one-line error here, before any window opens
    if _no_display():
        print(
            "speckle-lab: error: no display: run the panel on a desktop, over `ssh -X`, or under `xvfb-run`",
            file=sys.stderr,
        )
        return EXIT_NO_GUI
    try:
        panel = panel_module()
    except ImportError as error:
        print(
            f"speckle-lab: error: the control panel needs PySide6 and pyqtgraph ({error.name} is missing): "
            "pip install 'speckle-lab[gui]'",
            file=sys.stderr,
        )
        return EXIT_NO_GUI
    problem = panel.qt_binding_problem()
    if problem:
        print(f"speckle-lab: error: {problem}", file=sys.stderr)
        return EXIT_NO_GUI
    return panel.main(args.bench)
