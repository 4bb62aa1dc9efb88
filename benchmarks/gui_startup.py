"""Time to window of `speckle-lab gui`: from the launch of the process to the first paint of its main window.

Each launch is a fresh process on the built-in simulated bench, offscreen (`QT_QPA_PLATFORM=offscreen`), with
a fresh home folder (no settings, no log folder: a fresh machine). A small bootstrap, the same for every code
version measured, runs `speckle-lab gui` (the command's own `main`) and reports the wall-clock time of the
first paint of the main window, then of the moment the panel says it is ready (everything loaded behind the
window; a version that loads everything before showing the window is ready when it paints), and exits.

`--before REF` measures the code of a git commit too (exported with `git archive` into a temporary folder and
imported in place of this checkout's), launches alternating with this checkout's so that both see the same
machine load: the speed-up is their ratio in the same run. The load average is printed beside the times.

    .venv/bin/python -m benchmarks.gui_startup --n 7 --before main
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

from benchmarks.common import report

REPO = Path(__file__).resolve().parents[1]
FOLDERS = ("drivers", "sim", "acquisition", "model", "lab", "gui")  # setup.py's mapping into `speckle_lab`
TIMEOUT_S = 120.0

# Runs in the launched process: marks the first paint of the main window (and the panel's `ready`, where it has
# one), prints the wall-clock times, and exits at once (no clean shutdown to wait for: it is not measured).
BOOTSTRAP = r"""
import os, sys, time
from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QApplication, QMainWindow, QWidget

_show = QWidget.show
_state = {"painted": None, "window": None}

def _finish():
    sys.stdout.write(f"ready {time.time():.6f}\n")
    sys.stdout.flush()
    os._exit(0)

class _FirstPaint(QObject):
    def eventFilter(self, obj, event):
        window = _state["window"]
        if _state["painted"] is None and event.type() == QEvent.Type.Paint and isinstance(obj, QWidget):
            if obj.window() is window:
                _state["painted"] = time.time()
                sys.stdout.write(f"painted {_state['painted']:.6f}\n")
                sys.stdout.flush()
                ready = getattr(window, "ready", None)
                if ready is None or getattr(window, "is_ready", False):
                    _finish()
                else:
                    ready.connect(_finish)
        return False

_filter = _FirstPaint()

def _shown(self):
    if isinstance(self, QMainWindow) and _state["window"] is None:
        _state["window"] = self
        QApplication.instance().installEventFilter(_filter)
    _show(self)

QWidget.show = _shown
sys.argv = ["speckle-lab", "gui"]
from speckle_lab.lab.cli import main
sys.exit(main())
"""


def export_commit(ref: str, folder: Path) -> Path:
    """The code of `ref` in `folder`, importable as `speckle_lab` (a shim package whose subpackages are the
    exported folders), without touching any checkout or worktree. Returns the folder to put on PYTHONPATH."""
    archive = folder / "code.tar"
    with archive.open("wb") as out:
        subprocess.run(["git", "-C", str(REPO), "archive", ref], stdout=out, check=True)
    code = folder / "code"
    with tarfile.open(archive) as tar:
        tar.extractall(code, filter="data")
    shim = folder / "shim" / "speckle_lab"
    shim.mkdir(parents=True)
    (shim / "__init__.py").write_text((code / "speckle_lab" / "__init__.py").read_text())
    for name in FOLDERS:
        (shim / name).symlink_to(code / name, target_is_directory=True)
    return shim.parent


def launch(pythonpath: Path | None) -> tuple[float, float]:
    """Seconds from launch to the first paint of the window, and to ready."""
    with tempfile.TemporaryDirectory(prefix="gui-startup-home-") as home:
        env = {
            **os.environ,
            "QT_QPA_PLATFORM": "offscreen",
            "HOME": home,
            "XDG_CONFIG_HOME": f"{home}/.config",
            "XDG_STATE_HOME": f"{home}/.local/state",
        }
        env.pop("SPECKLE_LAB_LOG_DIR", None)
        if pythonpath is not None:
            env["PYTHONPATH"] = str(pythonpath)
        started = time.time()
        done = subprocess.run(
            [sys.executable, "-c", BOOTSTRAP], env=env, capture_output=True, text=True, timeout=TIMEOUT_S, cwd=home
        )
    marks = dict(line.split() for line in done.stdout.splitlines() if line.startswith(("painted ", "ready ")))
    if "painted" not in marks or "ready" not in marks:
        raise RuntimeError(f"the panel did not show its window (exit {done.returncode}): {done.stderr[-2000:]}")
    return float(marks["painted"]) - started, float(marks["ready"]) - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=5, help="launches of each version (default 5)")
    parser.add_argument("--before", metavar="REF", help="a git commit to measure too, alternating with this one")
    args = parser.parse_args()
    versions: dict[str, Path | None] = {"this checkout": None}
    with tempfile.TemporaryDirectory(prefix="gui-startup-code-") as folder:
        if args.before:
            versions = {f"before ({args.before})": export_commit(args.before, Path(folder)), **versions}
        load_before = os.getloadavg()
        times: dict[str, list[tuple[float, float]]] = {name: [] for name in versions}
        launch(None)  # one launch unmeasured: the file cache warm for every version alike
        for _ in range(args.n):
            for name, path in versions.items():
                times[name].append(launch(path))
        load_after = os.getloadavg()
    figures: dict[str, object] = {"launches_each": args.n, "cpu_count": os.cpu_count()}
    for name, pairs in times.items():
        figures[f"{name}: window_s median"] = round(statistics.median(p for p, _ in pairs), 2)
        figures[f"{name}: window_s all"] = [round(p, 2) for p, _ in pairs]
        figures[f"{name}: ready_s median"] = round(statistics.median(r for _, r in pairs), 2)
    if args.before:
        before, after = (statistics.median(p for p, _ in pairs) for pairs in times.values())
        figures["time to window, after / before"] = round(after / before, 3)
    figures["load average before (1, 5, 15 min)"] = [round(x, 2) for x in load_before]
    figures["load average after (1, 5, 15 min)"] = [round(x, 2) for x in load_after]
    report("gui_startup", figures)


if __name__ == "__main__":
    main()
