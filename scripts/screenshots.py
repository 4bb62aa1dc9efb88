"""Screenshots of every page of the control panel, as an operator sees them, at 1600x1000 and at 1280x800.

Runs the real panel on the built-in simulated bench under an X server (Xvfb), drives it as an operator would
(laser on and live view, a short capture, a short training with its evaluation, the trained net
reconstructing live, a drawn cross sent to the DMD), and grabs the X screen (not a widget rendering) after
each page at each size. A fresh home folder: no settings, no data folder, as on a fresh machine.

    xvfb-run -s '-screen 0 1600x1000x24' .venv/bin/python scripts/screenshots.py --out /tmp/screens

Needs the system libraries of docs/gui.md (Qt's xcb plugin) and `xvfb`. Takes about a minute on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

SIZES = ((1600, 1000), (1280, 800))
PAGES = ("Devices", "Acquisition", "Training", "Reconstruct")
CAPTURE_FRAMES = 800
TRAINING = {
    "epochs": 3,
    "batch_size": 32,
    "lr": 0.003,
    "unet_depth": 2,
    "base_width": 8,
    "kernel": "5",
    "device": "cpu",
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="folder for the PNG files")
    args = parser.parse_args()
    if not os.environ.get("DISPLAY"):
        print("screenshots: no X display: run under xvfb-run -s '-screen 0 1600x1000x24'", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    home = Path(tempfile.mkdtemp(prefix="speckle-lab-screens-home-"))
    os.environ["HOME"] = str(home)  # a fresh machine: no data folder, no settings, no log folder
    os.environ["XDG_STATE_HOME"] = str(home / ".local" / "state")
    os.environ["XDG_CONFIG_HOME"] = str(home / ".config")
    os.environ.setdefault("QT_QPA_PLATFORM", "xcb")

    from PySide6.QtCore import QEventLoop
    from PySide6.QtWidgets import QApplication

    from speckle_lab.gui import app as panel
    from speckle_lab.gui.settings import Settings

    qt = panel.application()
    window = open_window(panel, Settings.at(home / ".config" / "control-panel.ini"))

    def wait_until(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
        deadline = time.monotonic() + timeout_s
        while not condition():
            if time.monotonic() > deadline:
                raise TimeoutError(f"screenshots: waited {timeout_s:.0f} s for {what}")
            qt.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
            time.sleep(0.01)

    def settle(seconds: float) -> None:
        end = time.monotonic() + seconds
        wait_until(lambda: time.monotonic() > end, seconds + 1, "the display")

    def shoot(name: str, size: tuple[int, int]) -> None:
        width, height = size
        settle(0.6)
        screen = QApplication.primaryScreen()
        path = args.out / f"{name}-{width}x{height}.png"
        if not screen.grabWindow(0, 0, 0, width, height).save(str(path)):
            raise OSError(f"{path}: not written")
        print(path)

    def place(size: tuple[int, int]) -> None:
        window.setGeometry(0, 0, *size)
        window.resize(*size)
        settle(0.5)

    try:
        drive(window, wait_until, shoot, place)
    except Exception:
        shoot("failed", (window.width(), window.height()))
        raise
    window.close()
    wait_until(lambda: window.closed_cleanly, 60, "the panel to close")
    return 0


def drive(window: object, wait_until: Callable, shoot: Callable, place: Callable) -> None:
    """The operator's session, with a screenshot of every page at every size at the end."""
    wait_until(lambda: window.controller.bench_info is not None, 60, "the bench")
    wait_until(lambda: getattr(window, "is_ready", True), 60, "the panel to load")
    place(SIZES[0])
    window.show_page("Acquisition")
    preflight = window.acquisition.plan_card.preflight
    wait_until(lambda: "rows" in preflight.text() or "✗" in preflight.text(), 30, "the first preflight")
    shoot("0-fresh-acquisition", SIZES[0])

    # Devices: laser on, a target on the DMD, the live view running.
    window.show_page("Devices")
    devices = window.devices
    devices.laser.power_mw.set_text("20")
    devices.laser.apply_power.click()
    devices.laser.emission.click()
    wait_until(lambda: devices.laser.state is not None and devices.laser.state.emission, 10, "the laser")
    devices.dmd.kind.setCurrentIndex(devices.dmd.kind.findData("target"))
    devices.dmd.show_button.click()
    devices.camera.live_button.click()
    wait_until(lambda: devices.camera.view.frames_drawn >= 10, 20, "live frames")

    # Acquisition: a short capture into the default folder.
    window.show_page("Acquisition")
    card = window.acquisition.plan_card
    card.n_frames.setValue(CAPTURE_FRAMES)
    card.target_size.setValue(32)
    card.display.setCurrentText("threshold")
    card.reference_every.setValue(200)
    card.new_file_name()
    wait_until(lambda: card.start.isEnabled(), 20, "the preflight to allow Start")
    card.start.click()
    wait_until(lambda: window.controller.capture_busy, 20, "the capture to start")
    wait_until(lambda: not window.controller.capture_busy, 300, "the capture to end")

    # Training: the capture, a short training, its evaluation on the test split.
    window.show_page("Training")
    training = window.training
    training.data.add_current.click()
    settings = training.settings_card
    for name, value in TRAINING.items():
        widget = getattr(settings, name if name != "lr" else "lr")
        if hasattr(widget, "setCurrentText"):
            widget.setCurrentText(str(value))
        else:
            widget.setValue(value)
    settings.patience.setValue(0)
    settings.new_run_dir()
    settings.start.click()
    wait_until(lambda: window.controller.training_busy, 20, "training to start")
    wait_until(lambda: not window.controller.training_busy, 600, "training to end")
    wait_until(lambda: training.evaluation.table.rowCount() > 0, 60, "the evaluation row")

    # Reconstruct: the trained run, a few targets, then a drawn cross; the light on (the capture left it off).
    devices.laser.emission.click()
    wait_until(lambda: devices.laser.state is not None and devices.laser.state.emission, 10, "the laser")
    window.show_page("Reconstruct")
    page = window.reconstruct
    if page.run_dir.text().strip() != str(training.last_done["run_dir"]):  # proposed by the panel itself
        raise RuntimeError("screenshots: the run trained last was not proposed on the Reconstruct page")
    page.load.click()
    wait_until(lambda: page.loaded is not None, 120, "the run to load")
    for _ in range(3):
        before = page.results
        page.next.click()
        wait_until(lambda before=before: page.results > before, 30, "a reconstruction")
    draw_cross(page.canvas)
    before = page.results
    page.send_drawn.click()
    wait_until(lambda: page.results > before, 30, "the drawn target's reconstruction")

    for size in SIZES:
        place(size)
        for number, name in enumerate(PAGES, start=1):
            window.show_page(name)
            shoot(f"{number}-{name.lower()}", size)


def open_window(panel: object, settings: object) -> object:
    """The panel as `speckle-lab gui` opens it (its own opening function where it has one)."""
    opener = getattr(panel, "open_panel", None)
    if opener is not None:
        return opener(None, settings)
    window = panel.create_window(None, settings)
    window.show()
    return window


def draw_cross(canvas: object) -> None:
    """Two diagonal strokes with the mouse, as an operator draws them (mouse events far apart, as in a quick
    drag)."""
    from PySide6.QtCore import QPointF, Qt
    from PySide6.QtGui import QMouseEvent
    from PySide6.QtWidgets import QApplication

    left, none, plain = Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier
    size = canvas.width()
    for flip in (False, True):
        points = []
        for k in range(6):
            t = 0.15 + 0.7 * k / 5
            points.append(QPointF(size * t, size * (1 - t) if flip else size * t))
        press, release = QMouseEvent.Type.MouseButtonPress, QMouseEvent.Type.MouseButtonRelease
        QApplication.sendEvent(canvas, QMouseEvent(press, points[0], points[0], left, left, plain))
        for point in points[1:]:
            QApplication.sendEvent(canvas, QMouseEvent(QMouseEvent.Type.MouseMove, point, point, none, left, plain))
        QApplication.sendEvent(canvas, QMouseEvent(release, points[-1], points[-1], left, none, plain))


if __name__ == "__main__":
    sys.exit(main())
