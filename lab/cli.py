"""The `speckle-lab` command. Operator errors (a bad bench file, a device that refuses) are one line on
stderr and a non-zero exit code, never a traceback."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from speckle_lab.acquisition.datafile import CaptureFileError
from speckle_lab.acquisition.laser_safety import LaserOffFailed
from speckle_lab.acquisition.plan import PlanError
from speckle_lab.acquisition.scheduler import CaptureError
from speckle_lab.acquisition.targets import TargetSpecError
from speckle_lab.acquisition.version import software_version
from speckle_lab.drivers import DeviceError
from speckle_lab.lab.commands import analyze, capture, demo, devices, evaluate, gui, inspect, study, targets, train
from speckle_lab.lab.config_errors import BenchConfigError, CommandLineError
from speckle_lab.lab.exit_codes import EXIT_ALARM, EXIT_FAILED, EXIT_INTERRUPTED, EXIT_USAGE, signal_exit_code
from speckle_lab.model.errors import ModelError

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
    (ModelError, EXIT_USAGE, ""),  # model: training data, a run folder, a checkpoint, a setting
    (DeviceError, EXIT_FAILED, ""),  # drivers: a device refused or failed
    (OSError, EXIT_FAILED, ""),  # the system: a folder that cannot be written, a full disk
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="speckle-lab", description="Run an imaging-through-scattering-media bench, real or simulated."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {software_version()}")
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
    for command in COMMANDS:
        command.add_parser(subparsers)
    return parser


def _error(message: str) -> None:
    for line in message.splitlines() or [""]:
        print(f"speckle-lab: error: {line}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # --help, --version, or a usage error argparse already printed
        return exit_.code if isinstance(exit_.code, int) else EXIT_USAGE
    try:
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


if __name__ == "__main__":
    sys.exit(main())
