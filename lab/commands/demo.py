"""`speckle-lab demo`: an end-to-end run on the simulated bench (placeholder until capture and training exist).

Shows a few generated shapes through one hardware-triggered DMD sequence, as a real capture would, and
writes the speckles, a picture and a short report. `--quick` uses a smaller medium so it runs in a second.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

from drivers import TriggerMode
from lab.bench import Bench, build_bench
from lab.bench_config import DEFAULT_BENCH_SOURCE, BenchConfig, DmdSettings, dumps_toml, load_bench

READ_TIMEOUT_S = 30.0


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser("demo", help="show a few targets on the simulated bench and report the speckle")
    parser.add_argument("--quick", action="store_true", help="smaller medium (32x32 macropixels, 64x64 camera)")
    parser.add_argument("--out", type=Path, required=True, metavar="DIR", help="output folder (created)")
    parser.set_defaults(run=run)


def demo_config(quick: bool) -> BenchConfig:
    config = load_bench(None)
    if not quick:
        return config
    return config.with_changes(
        bench={"name": "simulated bench (quick)"},
        dmd={"macropixel_mirrors": 8, "side_macropixels": 32},
        camera={"rows": 64, "cols": 64},
    )


def demo_targets(side: int) -> dict[str, np.ndarray]:
    """Simple binary shapes `[side, side]` on the macropixel grid."""
    centres = (np.arange(side) + 0.5) / side * 2 - 1
    y, x = np.meshgrid(centres, centres, indexing="ij")
    r = np.hypot(y, x)
    return {
        "disk": r < 0.5,
        "square": (np.abs(x) < 0.45) & (np.abs(y) < 0.45),
        "ring": (r > 0.45) & (r < 0.8),
        "cross": ((np.abs(x) < 0.15) | (np.abs(y) < 0.15)) & (r < 0.85),
        "diagonal": np.abs(x - y) < 0.25,
        "corner": (x < -0.2) & (y < -0.2),
    }


def place_on_dmd(targets: np.ndarray, dmd: DmdSettings) -> np.ndarray:
    """Binary mirror patterns `[n, mirror_rows, mirror_cols]`: each macropixel becomes a square of mirrors."""
    m = dmd.macropixel_mirrors
    top, left = dmd.active_origin
    span = dmd.side_macropixels * m
    patterns = np.zeros((len(targets), dmd.mirror_rows, dmd.mirror_cols), dtype=np.bool_)
    patterns[:, top : top + span, left : left + span] = targets.repeat(m, axis=1).repeat(m, axis=2)
    return patterns


def capture(bench: Bench, patterns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(dark frame, speckles `[n, row, col]`): one software-triggered dark frame with the laser off, then
    one hardware-triggered frame per DMD pattern. The laser is off again whatever happens."""
    camera, dmd, laser = bench.camera, bench.dmd, bench.laser
    camera.set_trigger_mode(TriggerMode.SOFTWARE)
    camera.start()
    try:
        camera.software_trigger()
        dark = camera.read(READ_TIMEOUT_S).pixels
    finally:
        camera.stop()
    picture_time_us = max(dmd.min_picture_time_us, 2 * camera.exposure_us)
    camera.set_trigger_mode(TriggerMode.HARDWARE)
    camera.start()
    try:
        laser.set_emission(True)
        dmd.load_sequence(patterns, picture_time_us)
        dmd.start()
        block = camera.read_block(len(patterns), READ_TIMEOUT_S)
        dmd.wait(READ_TIMEOUT_S)
    finally:
        laser.set_emission(False)
        dmd.stop()
        camera.stop()
    return dark, block.pixels


def speckle_stats(speckle: np.ndarray, dark: np.ndarray, saturation_dn: int) -> dict[str, float]:
    """Mean counts, dark-subtracted mean and speckle contrast (std / mean of the signal; 1 when developed)."""
    signal = speckle.astype(np.float64) - dark.mean()
    mean_signal = float(signal.mean())
    return {
        "mean_dn": float(speckle.mean()),
        "mean_signal_dn": mean_signal,
        "contrast": float(signal.std() / mean_signal) if mean_signal > 0 else float("nan"),
        "saturated": float(np.mean(speckle >= saturation_dn)),
    }


def montage(targets: np.ndarray, speckles: np.ndarray) -> np.ndarray:
    """Targets (top row) over their speckles (bottom row), each scaled to [0, 1], as one gray image."""
    n, rows, cols = speckles.shape
    side = targets.shape[1]
    idx_r, idx_c = np.arange(rows) * side // rows, np.arange(cols) * side // cols
    gap = 2
    image = np.ones((2 * rows + gap, n * (cols + gap) - gap))
    for i in range(n):
        col = i * (cols + gap)
        image[:rows, col : col + cols] = targets[i][np.ix_(idx_r, idx_c)]
        frame = speckles[i].astype(np.float64)
        low, high = np.percentile(frame, [0.5, 99.5])
        image[rows + gap :, col : col + cols] = np.clip((frame - low) / max(high - low, 1e-9), 0, 1)
    return image


def write_report(path: Path, config: BenchConfig, names: list[str], fills: np.ndarray, stats: list[dict]) -> None:
    camera, medium = config.camera, config.medium
    lines = [
        "# speckle-lab demo",
        "",
        f"Bench: {config.bench.name}; medium {medium.kind} (seed {medium.seed}, grain {medium.grain_px} px); "
        f"DMD {config.dmd.side_macropixels}x{config.dmd.side_macropixels} macropixels of "
        f"{config.dmd.macropixel_mirrors}x{config.dmd.macropixel_mirrors} mirrors; camera {camera.rows}x{camera.cols} "
        f"{camera.bit_depth}-bit, exposure {camera.exposure_us} us; laser {config.laser.power_w} W.",
        "",
        "| target | DMD fill | mean counts (DN) | mean signal (DN) | speckle contrast | saturated pixels |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, fill, s in zip(names, fills, stats, strict=True):
        lines.append(
            f"| {name} | {fill:.3f} | {s['mean_dn']:.1f} | {s['mean_signal_dn']:.1f} | {s['contrast']:.3f} "
            f"| {100 * s['saturated']:.2f} % |"
        )
    lines += [
        "",
        f"Mean speckle contrast: {np.mean([s['contrast'] for s in stats]):.3f} "
        "(std / mean of the dark-subtracted frame; fully developed speckle has 1).",
        "",
        "Files: `speckles.npy` (frame, row, col) camera counts, `targets.npy` (frame, row, col) bool macropixels, "
        "`speckles.png` (targets over their speckles), `bench.toml` (the bench used).",
        "",
    ]
    path.write_text("\n".join(lines), encoding="utf-8")


def run(args: argparse.Namespace) -> int:
    import matplotlib.image  # late: only this command draws

    config = demo_config(args.quick)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    shapes = demo_targets(config.dmd.side_macropixels)
    names = list(shapes)[:4] if args.quick else list(shapes)
    targets = np.stack([shapes[name] for name in names])
    with build_bench(config, DEFAULT_BENCH_SOURCE) as bench:
        dark, speckles = capture(bench, place_on_dmd(targets, config.dmd))
        saturation_dn = 2**bench.camera.bit_depth - 1
    stats = [speckle_stats(frame, dark, saturation_dn) for frame in speckles]
    np.save(out / "speckles.npy", speckles)
    np.save(out / "targets.npy", targets)
    matplotlib.image.imsave(out / "speckles.png", montage(targets, speckles), cmap="gray", vmin=0, vmax=1)
    (out / "bench.toml").write_text(dumps_toml(config), encoding="utf-8")
    write_report(out / "report.md", config, names, targets.mean(axis=(1, 2)), stats)
    print(f"{len(names)} speckles of {', '.join(names)}: mean contrast {np.mean([s['contrast'] for s in stats]):.3f}")
    print(f"wrote {out / 'report.md'}")
    return 0
