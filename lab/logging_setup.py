"""Where the library's log records go: a file per capture and per training run, stderr for the CLI, a rotating
file in the user's log folder for the GUI.

The library (drivers, sim, acquisition, model) only ever calls `logging.getLogger(__name__)` and never prints;
deciding where records end up is the application's job, done here. Levels mean:

- DEBUG: detail for a developer (each command to a device);
- INFO: what the run did (started, each epoch, finished) — the content of a run's own log file;
- WARNING: something went wrong and was handled (a retry, a dropped frame, emission switched off after a
  failure, a capture stopped by the operator) — the console shows these by default;
- ERROR: the run could not do what it was asked (a capture failed, training raised).
"""

from __future__ import annotations

import contextlib
import logging
import logging.handlers
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

#: The loggers a run's log file listens to: the whole namespace (every module logs under `__name__`).
LIBRARY_LOGGERS = ("speckle_lab",)
LOG_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
CONSOLE_FORMAT = "speckle-lab: %(levelname)s: %(message)s"  # the terminal: one line, like the error lines
#: `extra={RAISED: True}` on a record whose message the library also raises: the run's log file keeps it, the
#: console leaves it to the command's one error line (it would say the same thing twice).
RAISED = "also_raised"
APP_NAME = "speckle-lab"
GUI_LOG_NAME = "gui.log"
TRAINING_LOG = "training.log"  # in every training run folder
GUI_LOG_MAX_BYTES = 5 << 20
GUI_LOG_BACKUPS = 5


def formatter() -> logging.Formatter:
    return logging.Formatter(LOG_FORMAT)


def _listen(handler: logging.Handler, level: int) -> dict[str, int]:
    """Attach `handler` to the library loggers, lowering their level to `level` where it is higher.
    Returns the levels to restore. Handlers elsewhere (the console) keep their own level."""
    previous = {}
    for name in LIBRARY_LOGGERS:
        logger = logging.getLogger(name)
        previous[name] = logger.level
        if logger.getEffectiveLevel() > level:
            logger.setLevel(level)
        logger.addHandler(handler)
    return previous


def _stop_listening(handler: logging.Handler, previous: dict[str, int]) -> None:
    for name, level in previous.items():
        logger = logging.getLogger(name)
        logger.removeHandler(handler)
        logger.setLevel(level)


@contextlib.contextmanager
def log_file(path: str | os.PathLike[str], level: int = logging.INFO) -> Iterator[Path]:
    """Records of the library at `level` and above go to `path` (appended) while the block runs.

    One per capture (next to its data file, see `capture_log_path`) and per training run (`training.log`
    in the run folder). A resumed run appends to the same file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # delay: the file appears with its first record, so a command refused before it ran leaves no empty log
    handler = logging.FileHandler(path, mode="a", encoding="utf-8", delay=True)
    handler.setLevel(level)
    handler.setFormatter(formatter())
    previous = _listen(handler, level)
    try:
        yield path
    finally:
        _stop_listening(handler, previous)
        handler.close()


def capture_log_path(data_path: str | os.PathLike[str]) -> Path:
    """A capture's log file: the data file's name with `.log` (`night/run.h5` -> `night/run.log`)."""
    return Path(data_path).with_suffix(".log")


def capture_log(data_path: str | os.PathLike[str], level: int = logging.INFO) -> contextlib.AbstractContextManager:
    """`log_file` for the capture into `data_path`."""
    return log_file(capture_log_path(data_path), level)


def log_to_stream(stream: TextIO | None = None, level: int = logging.INFO) -> logging.Handler:
    """Library records at `level` and above to `stream` (default stderr), for good; returns the handler.

    The training child process uses it: its stderr is the run's `training.log`."""
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setLevel(level)
    handler.setFormatter(formatter())
    _listen(handler, level)
    return handler


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")  # what `--log-level` accepts


def console_level(verbosity: int = 0, level_name: str | None = None) -> int:
    """The console's level: `level_name` when given (one of LOG_LEVELS), else WARNING, INFO (verbosity 1,
    `-v`) or DEBUG (2 and more, `-vv`)."""
    if level_name is not None:
        return logging.getLevelName(level_name.upper())
    return logging.WARNING if verbosity <= 0 else logging.INFO if verbosity == 1 else logging.DEBUG


def configure_console(verbosity: int = 0) -> logging.Handler:
    """stderr for a command-line session: warnings and errors, or INFO (verbosity 1) or DEBUG (2 and more)."""
    return log_to_stream(sys.stderr, console_level(verbosity))


@contextlib.contextmanager
def console_logging(level: int = logging.WARNING) -> Iterator[logging.Handler]:
    """The library's records at `level` and above on stderr (one line each) while a command runs; detached
    afterwards, with the loggers' levels restored (so `main()` can be called again, as the tests do)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setLevel(level)
    handler.setFormatter(logging.Formatter(CONSOLE_FORMAT))
    handler.addFilter(lambda record: not getattr(record, RAISED, False))
    previous = _listen(handler, level)
    try:
        yield handler
    finally:
        _stop_listening(handler, previous)


def user_log_dir() -> Path:
    """The per-user log folder: $SPECKLE_LAB_LOG_DIR when set, else $XDG_STATE_HOME/speckle-lab/log
    (~/.local/state/...) on Linux, ~/Library/Logs/speckle-lab on macOS, %LOCALAPPDATA%/speckle-lab/Logs on
    Windows."""
    override = os.environ.get("SPECKLE_LAB_LOG_DIR")
    if override:
        return Path(override)
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
        return Path(base) / APP_NAME / "Logs"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Logs" / APP_NAME
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / APP_NAME / "log"


def rotating_user_log(
    directory: str | os.PathLike[str] | None = None,
    level: int = logging.INFO,
    max_bytes: int = GUI_LOG_MAX_BYTES,
    backups: int = GUI_LOG_BACKUPS,
) -> tuple[Path, logging.Handler]:
    """The GUI's log: library and GUI records at `level` and above to a rotating `gui.log` in `directory`
    (default `user_log_dir()`), `backups` old files of `max_bytes` each. Returns its path and handler
    (remove the handler with `stop_logging` when the application closes)."""
    folder = Path(directory) if directory is not None else user_log_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / GUI_LOG_NAME
    handler = logging.handlers.RotatingFileHandler(path, maxBytes=max_bytes, backupCount=backups, encoding="utf-8")
    handler.setLevel(level)
    handler.setFormatter(formatter())
    _listen(handler, level)
    return path, handler


def stop_logging(handler: logging.Handler) -> None:
    """Detach a handler from `log_to_stream`, `configure_console` or `rotating_user_log`, and close it."""
    for name in LIBRARY_LOGGERS:
        logging.getLogger(name).removeHandler(handler)
    handler.close()
