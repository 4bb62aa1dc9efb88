"""What happened, for the operator and for later: refusals, failures, alarms and warnings, in a panel at the
bottom of the window and, the same lines, in a rotating log file in the user's log folder."""

from __future__ import annotations

import contextlib
import logging
import os
from logging.handlers import RotatingFileHandler
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QTextCursor
from PySide6.QtWidgets import QPlainTextEdit

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
LOG_FILE_BYTES = 2_000_000
LOG_FILE_BACKUPS = 5
PANEL_LINES = 2000
OUR_LOGGERS = ("gui", "lab", "acquisition", "model", "drivers", "sim")  # third-party chatter stays out


def _attach(handler: logging.Handler) -> None:
    for name in OUR_LOGGERS:
        logger = logging.getLogger(name)
        logger.addHandler(handler)
        if logger.getEffectiveLevel() > logging.INFO:
            logger.setLevel(logging.INFO)


def log_folder() -> Path:
    """$SPECKLE_LAB_LOG_DIR, else the XDG state folder (~/.local/state/speckle-lab/logs)."""
    override = os.environ.get("SPECKLE_LAB_LOG_DIR")
    if override:
        return Path(override)
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "speckle-lab" / "logs"


def install_log_file(folder: Path | None = None) -> Path | None:
    """Add a rotating `control-panel.log` handler to the root logger (once); None when the folder cannot be
    written (the panel still runs, and says so in its log panel)."""
    path = (folder or log_folder()) / "control-panel.log"
    for handler in logging.getLogger(OUR_LOGGERS[0]).handlers:
        if isinstance(handler, RotatingFileHandler) and Path(handler.baseFilename) == path.resolve():
            return path
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = RotatingFileHandler(path, maxBytes=LOG_FILE_BYTES, backupCount=LOG_FILE_BACKUPS, encoding="utf-8")
    except OSError as error:
        logging.getLogger("gui").warning("no log file: %s: %s", path, error)
        return None
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    handler.setLevel(logging.INFO)
    _attach(handler)
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
        for name in OUR_LOGGERS:
            logging.getLogger(name).removeHandler(self.handler)

    @property
    def lines(self) -> list[str]:
        return self.toPlainText().splitlines()
