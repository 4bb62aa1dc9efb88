"""The `speckle-lab` command. Operator errors (a bad bench file, a device that refuses) are one line on
stderr and a non-zero exit code, never a traceback."""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Sequence
from typing import NoReturn

from speckle_lab.acquisition.datafile import CaptureFileError
from speckle_lab.acquisition.plan import PlanError
from speckle_lab.acquisition.scheduler import CaptureError
from speckle_lab.acquisition.targets import TargetSpecError
from speckle_lab.acquisition.version import software_version
from speckle_lab.drivers import DeviceError, LaserOffFailed
from speckle_lab.lab.commands import analyze, capture, demo, devices, evaluate, gui, inspect, study, targets, train
from speckle_lab.lab.config_errors import BenchConfigError, CommandLineError
from speckle_lab.lab.exit_codes import EXIT_ALARM, EXIT_FAILED, EXIT_INTERRUPTED, EXIT_USAGE, signal_exit_code
from speckle_lab.lab.logging_setup import LOG_LEVELS, console_level, console_logging
from speckle_lab.lab.signals import ignore_termination_signals
from speckle_lab.model.errors import CheckpointWriteError, ModelError, TrainingDiverged

COMMANDS = (demo, devices, targets, capture, inspect, train, evaluate, gui, analyze, study)

#: The one table from each layer's error types to an exit code and the start of the one line printed.
#: First match wins (subclasses before their bases). Every refusal is one line, never a traceback.
ERROR_TABLE: tuple[tuple[type[BaseException], int, str], ...] = (
    (LaserOffFailed, EXIT_ALARM, "ALARM: "),  # drivers/acquisition: a failed switch-off
    (CommandLineError, EXIT_USAGE, ""),  # lab: an option
    (BenchConfigError, EXIT_USAGE, ""),  # lab: a bench file
    (TargetSpecError, EXIT_USAGE, ""),  # acquisition.targets: a target source
    (PlanError, EXIT_USAGE, ""),  # acquisition: a plan, a queue, a TOML file
    (CaptureFileError, EXIT_USAGE, ""),  # acquisition.datafile: a data file
    (CaptureError, EXIT_USAGE, ""),  # acquisition.scheduler: a capture that cannot start
    (TrainingDiverged, EXIT_FAILED, ""),  # model: the loss turned non-finite (the last finite checkpoint kept)
    (CheckpointWriteError, EXIT_FAILED, ""),  # model: a full disk under a run folder (as OSError below)
    (ModelError, EXIT_USAGE, ""),  # model: training data, a run folder, a checkpoint, a setting
    (DeviceError, EXIT_FAILED, ""),  # drivers: a device refused or failed
    (OSError, EXIT_FAILED, ""),  # the system: a folder that cannot be written, a full disk
    (MemoryError, EXIT_FAILED, "out of memory: "),  # the system: an allocation the machine cannot give
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="speckle-lab", description="Run an imaging-through-scattering-media bench, real or simulated."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {software_version()}")
    _add_log_options(parser, default=None)
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
    for command in COMMANDS:
        command.add_parser(subparsers)
    for subparser in subparsers.choices.values():  # also after the command: `speckle-lab train ... -v`
        _add_log_options(subparser, default=argparse.SUPPRESS)
    return parser


def _add_log_options(parser: argparse.ArgumentParser, default: object) -> None:
    """The global logging options. The library's records go to stderr (never stdout, which carries results and
    `--json`): warnings and errors by default, INFO with -v, DEBUG with -vv, or the level --log-level names."""
    group = parser.add_argument_group("logging (on stderr)")
    group.add_argument(
        "-v", "--verbose", action="count", default=0 if default is None else default,
        help="more detail on stderr: -v INFO (each epoch, each capture step), -vv DEBUG (each device command)",
    )  # fmt: skip
    group.add_argument(
        "--log-level", type=str.upper, choices=LOG_LEVELS, default=default, metavar="LEVEL",
        help=f"the least severe records shown on stderr: {', '.join(LOG_LEVELS)} (default WARNING; overrides -v)",
    )  # fmt: skip


def _error(message: str) -> None:
    for line in message.splitlines() or [""]:
        print(f"speckle-lab: error: {line}", file=sys.stderr)


def main(argv: Sequence[str] | None = None, process_ends: bool = False) -> int:
    """Run one command; returns its exit code (lab/exit_codes.py). `process_ends`: the caller exits with that
    code at once (the console script), so late signals may stay deferred (see `entry`)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # --help, --version, or a usage error argparse already printed
        return exit_.code if isinstance(exit_.code, int) else EXIT_USAGE
    args.process_ends = process_ends
    level = console_level(args.verbose, args.log_level)
    try:
        with console_logging(level) if getattr(args, "console_log", True) else contextlib.nullcontext():
            return args.run(args)
    except KeyboardInterrupt as stop:  # Ctrl-C, or a second termination signal (StopSignal names it)
        _error(str(stop) or "interrupted")
        signum = getattr(stop, "signum", None)
        return EXIT_INTERRUPTED if signum is None else signal_exit_code(signum)
    except Exception as error:
        for kind, code, prefix in ERROR_TABLE:
            if isinstance(error, kind):
                _error(prefix + _one_line(error))  # _error prefixes every line
                return code
        raise  # not an operator error: a bug, whose traceback is the report


def _one_line(error: BaseException) -> str:
    """The message: one line per problem (a bench file with three bad keys gives three lines, each naming
    the file and the key); an OSError as "file: reason"."""
    if isinstance(error, OSError) and not isinstance(error, DeviceError) and error.strerror:
        names = [str(name) for name in (error.filename, error.filename2) if name]
        return ": ".join([*names, error.strerror])
    return str(error).strip() or type(error).__name__


def entry(argv: Sequence[str] | None = None) -> NoReturn:
    """The `speckle-lab` console script (and `python -m speckle_lab.lab.cli`): the process ends with the
    command, so a command that defers late signals (a capture reporting its result) keeps them deferred to
    the exit (`defer_signals(restore=False)`), and once the command has returned, termination signals are
    ignored through Python's teardown: its exit code, e.g. 3 for an ALARM, is the process's."""
    code = main(argv, process_ends=True)
    ignore_termination_signals()
    sys.exit(code)


if __name__ == "__main__":
    entry()
