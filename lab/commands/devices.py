"""`speckle-lab devices`: open the bench, show who each device is and what state it is in, close it.

Opening a bench switches the laser's emission off (the drivers do it at connect). Whether the laser was
emitting at that moment (left on by a killed program, a power cut, or by hand) is shown first, as a
warning: after a crash, this is the command that tells the operator and makes the laser safe.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from speckle_lab.lab.backend_registry import plugin_failures
from speckle_lab.lab.bench import open_bench
from speckle_lab.lab.bench_config import DEFAULT_BENCH_SOURCE


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser("devices", help="list the bench's devices, their identity and state")
    parser.add_argument("--bench", type=Path, metavar="FILE", help="bench TOML file (default: the simulated bench)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.set_defaults(run=run)


def describe(bench_path: Path | None) -> dict[str, Any]:
    """Identity and state of every device of the bench at `bench_path`, as plain values."""
    with open_bench(bench_path) as bench:
        # None where the driver cannot tell (a simulated laser always opens dark)
        emitting_at_open = getattr(bench.laser, "emission_at_open", None)
        return {
            "bench": bench.config.bench.name,
            "source": DEFAULT_BENCH_SOURCE if bench_path is None else str(bench_path),
            "laser_was_emitting_at_open": emitting_at_open,
            "plugins_left_out": [str(failure) for failure in plugin_failures()],
            "devices": {
                family: {"identity": device.identity.as_dict(), "state": device.state()}
                for family, device in bench.devices().items()
            },
        }


def format_table(report: dict[str, Any]) -> str:
    lines = [f"bench: {report['bench']}  ({report['source']})"]
    if report.get("laser_was_emitting_at_open"):
        lines.append("WARNING: the laser was EMITTING when the bench opened; emission has been switched off")
    lines += [f"WARNING: {failure}" for failure in report.get("plugins_left_out", [])]
    for family, device in report["devices"].items():
        identity = device["identity"]
        lines += [
            "",
            f"{family}: {identity['vendor']} {identity['model']}",
            f"  serial {identity['serial']}, firmware {identity['firmware']}, backend {identity['backend']}",
        ]
        width = max((len(key) for key in device["state"]), default=0)
        lines += [f"  {key:<{width}}  {_show(value)}" for key, value in device["state"].items()]
    return "\n".join(lines)


def _show(value: object) -> str:
    return "-" if value is None else str(value)


def run(args: argparse.Namespace) -> int:
    report = describe(args.bench)
    print(json.dumps(report, indent=2, default=str) if args.json else format_table(report))
    return 0
