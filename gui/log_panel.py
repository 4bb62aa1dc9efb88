"""What happened, for the operator and for later: refusals, failures, alarms and warnings, in a panel at the
bottom of the window and, the same lines, in a rotating log file in the user's log folder."""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QTextCursor
from PySide6.QtWidgets import QPlainTextEdit

from speckle_lab.lab.logging_setup import LIBRARY_LOGGERS, rotating_user_log, user_log_dir

PANEL_LINES = 2000


def _attach(handler: logging.Handler) -> None:
    for name in LIBRARY_LOGGERS:  # our packages only: third-party chatter stays out
        logger = logging.getLogger(name)
        logger.addHandler(handler)
        if logger.getEffectiveLevel() > logging.INFO:
            logger.setLevel(logging.INFO)


def install_log_file() -> Path | None:
    """The panel's rotating log file in the user's log folder (`lab.logging_setup.rotating_user_log`); None
    when the folder cannot be written (the panel still runs, and says so in its log panel)."""
    try:
        path, _ = rotating_user_log()
    except OSError as error:
        logging.getLogger(__name__).warning("no log file in %s: %s", user_log_dir(), error)
        return None
    return path


class _Relay(QObject):
    line = Signal(str)


class QtLogHandler(logging.Handler):
    """Any thread logs; the line reaches the panel through a queued signal."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.relay = _Relay()
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s", "%H:%M:%S"))

    def emit(self, record: logging.LogRecord) -> None:
        with contextlib.suppress(RuntimeError):  # the panel is gone (shutdown)
            self.relay.line.emit(self.format(record))


class LogPanel(QPlainTextEdit):
    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("logPanel")
        self.setReadOnly(True)
        self.setMaximumBlockCount(PANEL_LINES)
        self.handler = QtLogHandler()
        self.handler.relay.line.connect(self.add_line)
        _attach(self.handler)

    def add_line(self, line: str) -> None:
        self.appendPlainText(line)
        self.moveCursor(QTextCursor.MoveOperation.End)

    def detach(self) -> None:
        for name in LIBRARY_LOGGERS:
            logging.getLogger(name).removeHandler(self.handler)

    @property
    def lines(self) -> list[str]:
        return self.toPlainText().splitlines()
