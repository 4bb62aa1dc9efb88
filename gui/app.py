"""Start the control panel: the Qt application, the theme, the window; then, behind it, the controller opening
the bench on its device thread and the modules the worker threads use (`gui/startup.py`)."""

from __future__ import annotations

import logging
import signal
import sys
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from speckle_lab.gui import theme
from speckle_lab.gui.controller import LabController
from speckle_lab.gui.log_panel import install_log_file
from speckle_lab.gui.main_window import MainWindow
from speckle_lab.gui.settings import APPLICATION, ORGANIZATION, Settings
from speckle_lab.gui.startup import BehindTheWindow
from speckle_lab.lab.exit_codes import EXIT_ALARM, TERMINATION_SIGNALS, signal_exit_code


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


def application(argv: list[str] | None = None) -> QApplication:
    existing = QApplication.instance()
    if existing is None:
        app = QApplication(argv if argv is not None else sys.argv[:1])
    elif isinstance(existing, QApplication):
        app = existing
    else:  # a QCoreApplication: windows cannot open in this process
        raise RuntimeError("the control panel needs a QApplication; this process already runs a QCoreApplication")
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    app.setApplicationDisplayName("speckle-lab")
    theme.apply(app)
    return app


def create_window(bench_path: Path | None = None, settings: Settings | None = None) -> MainWindow:
    """A window over a controller for the bench at `bench_path` (None: simulated), not opened yet: `open_panel`
    shows the window, then opens the bench and loads the rest behind it."""
    controller = LabController(bench_path)
    window = MainWindow(controller, settings or Settings.user())
    controller.setParent(window)
    return window


LOAD_BEHIND_AFTER_MS = 100  # the window's first paint comes before the loads that compete with it


def open_panel(bench_path: Path | None = None, settings: Settings | None = None) -> MainWindow:
    """The panel as `speckle-lab gui` opens it: the window first; the bench opens and the rest loads behind it
    (`MainWindow.ready` follows)."""
    window = create_window(bench_path, settings)
    window.show()
    behind = BehindTheWindow(window.controller.start, window)
    behind.loaded.connect(window.mark_ready)
    QTimer.singleShot(LOAD_BEHIND_AFTER_MS, behind.start)
    return window


class SignalExit:
    """What a terminating signal did: the laser goes off at once (from the handler, not after the event loop
    gets round to it), the capture is aborted (file valid, resumable), the window closes the clean way, and
    the process exits non-zero (128 + the signal's number)."""

    def __init__(self, window: MainWindow) -> None:
        self.window = window
        self.signum: int | None = None
        self.previous = {signum: signal.getsignal(signum) for signum in TERMINATION_SIGNALS}
        for signum in TERMINATION_SIGNALS:
            signal.signal(signum, self._handle)
        # Python runs signal handlers only between bytecodes: a timer gives the interpreter a moment now and then.
        self.timer = QTimer(window)
        self.timer.timeout.connect(lambda: None)
        self.timer.start(200)

    def _handle(self, signum: int, frame: object) -> None:
        first = self.signum is None
        self.signum = signum
        name = signal.Signals(signum).name
        logging.getLogger(__name__).warning("%s received: laser off, capture aborted, closing", name)
        if first:
            self.window.closing_by_signal = True  # the window closes even with an alarm (exit code 3 then)
            if not self.window.controller.laser_off_now().confirmed:
                logging.getLogger(__name__).error("%s: the laser could not be confirmed off", name)
            self.window.close()

    @property
    def exit_code(self) -> int:
        return 0 if self.signum is None else signal_exit_code(self.signum)

    def restore(self) -> None:
        for signum, handler in self.previous.items():
            signal.signal(signum, handler if handler is not None else signal.SIG_DFL)


def close_on_ctrl_c(window: MainWindow) -> SignalExit:
    """Ctrl-C, SIGTERM, SIGHUP and SIGQUIT close the window the clean way (see `SignalExit`)."""
    return SignalExit(window)


def main(bench_path: Path | None = None, settings: Settings | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    log_file = install_log_file()
    app = application()
    window = open_panel(bench_path, settings)
    signals = close_on_ctrl_c(window)
    if log_file is not None:
        logging.getLogger(__name__).info("log file: %s", log_file)
    try:
        code = app.exec()
    finally:
        signals.restore()
    if window.alarm_at_close:  # the laser was not confirmed off when the panel closed its devices
        return EXIT_ALARM
    return signals.exit_code or code
