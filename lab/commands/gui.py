"""`speckle-lab gui [--bench FILE]`: the Qt control panel over the same services as the command line."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from lab.bench_config import load_bench

EXIT_NO_GUI = 2


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser("gui", help="open the desktop control panel (devices, acquisition, training)")
    parser.add_argument("--bench", type=Path, metavar="FILE", help="bench TOML file (default: the simulated bench)")
    parser.set_defaults(run=run)


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
        from gui.app import main, qt_binding_problem
    except ImportError as error:
        print(
            f"speckle-lab: error: the control panel needs PySide6 and pyqtgraph ({error.name} is missing): "
            "pip install 'speckle-lab[gui]'",
            file=sys.stderr,
        )
        return EXIT_NO_GUI
    problem = qt_binding_problem()
    if problem:
        print(f"speckle-lab: error: {problem}", file=sys.stderr)
        return EXIT_NO_GUI
    return main(args.bench)
