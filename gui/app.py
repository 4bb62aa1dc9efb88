"""Start the control panel: the Qt application, the theme, the controller (which opens the bench on its
device thread) and the window."""

from __future__ import annotations

import logging
import signal
import sys
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from gui import theme
from gui.controller import LabController
from gui.main_window import MainWindow
from gui.settings import APPLICATION, ORGANIZATION, Settings


def qt_binding_problem() -> str | None:
    """Why the installed Qt binding cannot run the panel, or None. PySide6 6.12.0 drops a reference to None
    or True on every call on Python < 3.12 (where they are not immortal): the process aborts within seconds."""
    import PySide6

    if PySide6.__version__.startswith("6.12.0") and sys.version_info < (3, 12):
        return (
            f"PySide6 {PySide6.__version__} crashes on Python {sys.version_info[0]}.{sys.version_info[1]} "
            "(reference-count bug); install another version: pip install 'PySide6-Essentials>=6.6,<6.12'"
        )
    return None


def warm_up() -> None:
    """Import what the capture thread would otherwise import mid-run: an import holds the interpreter lock
    and would stall the window. torch is not among them: training runs in its own process."""
    import acquisition.targets.bundled
    import acquisition.targets.diversity
    import acquisition.targets.files
    import acquisition.targets.generators
    import acquisition.targets.prepare  # noqa: F401


def application(argv: list[str] | None = None) -> QApplication:
    app = QApplication.instance() or QApplication(argv if argv is not None else sys.argv[:1])
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    app.setApplicationDisplayName("speckle-lab")
    theme.apply(app)
    return app  # type: ignore[return-value]


def create_window(bench_path: Path | None = None, settings: Settings | None = None) -> MainWindow:
    """A window over a controller that is already opening the bench at `bench_path` (None: simulated)."""
    warm_up()
    controller = LabController(bench_path)
    window = MainWindow(controller, settings or Settings.user())
    controller.setParent(window)
    controller.start()
    return window


def close_on_ctrl_c(window: MainWindow) -> QTimer:
    """Ctrl-C in the terminal closes the window the clean way (capture stopped, laser off). Python runs signal
    handlers only between bytecodes, so a timer gives the interpreter a moment now and then."""
    signal.signal(signal.SIGINT, lambda signum, frame: window.close())
    timer = QTimer(window)
    timer.timeout.connect(lambda: None)
    timer.start(250)
    return timer


def main(bench_path: Path | None = None, settings: Settings | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    app = application()
    window = create_window(bench_path, settings)
    close_on_ctrl_c(window)
    window.show()
    try:
        return app.exec()
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
