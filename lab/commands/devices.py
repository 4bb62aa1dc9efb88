"""`speckle-lab devices`: open the bench, show who each device is and what state it is in, close it."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from lab.bench import open_bench
from lab.bench_config import DEFAULT_BENCH_SOURCE


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser("devices", help="list the bench's devices, their identity and state")
    parser.add_argument("--bench", type=Path, metavar="FILE", help="bench TOML file (default: the simulated bench)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.set_defaults(run=run)


def describe(bench_path: Path | None) -> dict[str, Any]:
    """Identity and state of every device of the bench at `bench_path`, as plain values."""
    with open_bench(bench_path) as bench:
        return {
            "bench": bench.config.bench.name,
            "source": DEFAULT_BENCH_SOURCE if bench_path is None else str(bench_path),
            "devices": {
                family: {"identity": device.identity.as_dict(), "state": device.state()}
                for family, device in bench.devices().items()
            },
        }


def format_table(report: dict[str, Any]) -> str:
    lines = [f"bench: {report['bench']}  ({report['source']})"]
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
