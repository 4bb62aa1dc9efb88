"""`speckle-lab targets [SOURCE] [--stats] [--json]`: list the target sources, or describe one and the diversity
of n of its prepared targets. A bad spec is a TargetSpecError: one line and exit 2 (lab/cli.py's table)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from speckle_lab.acquisition.targets import list_sources, open_source, source_stats
from speckle_lab.lab.bench import dmd_geometry
from speckle_lab.lab.bench_config import load_bench
from speckle_lab.lab.commands.json_output import print_json
from speckle_lab.lab.config_errors import CommandLineError


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser("targets", help="list target sources, or the diversity statistics of one")
    parser.add_argument("source", nargs="?", help="a source spec, e.g. mnist, lfw:/data/lfw.tgz, blobs")
    parser.add_argument("--stats", action="store_true", help="intrinsic dimension, coverage, entropy of N targets")
    parser.add_argument("--n", type=int, default=1000, help="number of targets for --stats (default 1000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--size", type=int, default=32, help="target side in macropixels (default 32)")
    parser.add_argument("--bench", type=Path, metavar="FILE", help="bench TOML file (for the DMD's active area)")
    parser.add_argument("--json", action="store_true", help="print one JSON document instead of text")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.source is None:
        rows = list_sources()
        if args.json:
            print_json({"sources": [{"spec": syntax, "description": text} for syntax, text in rows]})
            return 0
        width = max(len(syntax) for syntax, _ in rows)
        print("target sources (use as --targets SOURCE):")
        for syntax, description in rows:
            print(f"  {syntax:<{width}}  {description}")
        return 0
    source = open_source(args.source, args.seed)
    first = source.image(0)
    document: dict[str, Any] = {
        "spec": source.spec,
        "name": source.name,
        "n_images": len(source),
        "image_shape": [int(first.shape[0]), int(first.shape[1])],
    }
    if args.stats:
        side = dmd_geometry(load_bench(args.bench)).side_macropixels
        if args.n < 1:
            raise CommandLineError(f"targets --n {args.n}: expected at least 1 target")
        if not 1 <= args.size <= side:
            raise CommandLineError(
                f"targets --size {args.size}: expected 1 to {side} macropixels (the DMD's active area)"
            )
        document["stats"] = source_stats(source, args.n, args.seed, (args.size, args.size), side)
    if args.json:
        print_json(document)
        return 0
    print(f"{source.spec}: {source.name}")
    print(f"  {len(source)} images, first of {first.shape[0]}x{first.shape[1]} pixels")
    for key, value in document.get("stats", {}).items():
        print(f"  {key:<28} {value:.6g}")
    return 0
