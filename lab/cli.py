"""The `speckle-lab` command. Operator errors (a bad bench file, a device that refuses) are one line on
stderr and a non-zero exit code, never a traceback."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from importlib import metadata

from acquisition.datafile import CaptureFileError
from acquisition.plan import PlanError
from acquisition.targets import TargetSpecError
from drivers import DeviceError
from lab.commands import analyze, capture, demo, devices, evaluate, gui, inspect, study, targets, train
from lab.config_errors import BenchConfigError

COMMANDS = (demo, devices, targets, capture, inspect, train, evaluate, gui, analyze, study)
EXIT_DEVICE_ERROR = 1
EXIT_USAGE = 2  # bad arguments or a bad bench file, as argparse does


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="speckle-lab", description="Run an imaging-through-scattering-media bench, real or simulated."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
    for command in COMMANDS:
        command.add_parser(subparsers)
    return parser


def _version() -> str:
    try:
        return metadata.version("speckle-lab")
    except metadata.PackageNotFoundError:
        return "unknown"


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
    except (BenchConfigError, TargetSpecError, PlanError, CaptureFileError) as error:
        _error(str(error))
        return EXIT_USAGE
    except DeviceError as error:
        _error(str(error))
        return EXIT_DEVICE_ERROR
    except OSError as error:  # e.g. an output folder that cannot be written
        _error(f"{error.filename or ''}: {error.strerror or error}".lstrip(": "))
        return EXIT_DEVICE_ERROR
    except KeyboardInterrupt:
        _error("interrupted")
        return 130


if __name__ == "__main__":
    sys.exit(main())
