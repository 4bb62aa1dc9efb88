"""`speckle-lab capture` (lab.cli.main, unchanged) on a bench whose laser is a Cobolt on a serial port.

A bench file cannot mix a real laser with the simulated DMD and camera (they only see the simulated table),
so this test launcher builds the small simulated bench and swaps its laser for a `CoboltLaser` on PORT:
everything else (argument parsing, signal handling, the scheduler, the writer) is the real command.

    python cobolt_capture.py PORT capture --out F.h5 ...
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from capture_helpers import small_config

from speckle_lab.drivers.lasers import CoboltLaser
from speckle_lab.lab import capture_service
from speckle_lab.lab.bench import Bench, build_bench
from speckle_lab.lab.bench_config import BenchConfig
from speckle_lab.lab.cli import entry

#: Smaller still: for tests that run many captures (the signal matrix), where only the laser matters.
TINY_BENCH = {
    "dmd": {"mirror_rows": 32, "mirror_cols": 32, "macropixel_mirrors": 2, "side_macropixels": 16},
    "camera": {"rows": 16, "cols": 16},
}


def bench_with_cobolt(port: str, config: BenchConfig | None = None) -> Bench:
    """The small simulated bench (or `config`) with a `CoboltLaser` on `port`; a laser that fails at connect (a
    switch-off that is not confirmed: `LaserOffFailed`) raises, as `build_bench` does, with the rest closed."""
    bench = build_bench(config or small_config())
    bench.laser.close()
    try:
        bench.laser = CoboltLaser(port, device_max_power_w=0.1, max_power_w=0.1, timeout_s=0.5)
    except BaseException:
        bench.close()
        raise
    return bench


if __name__ == "__main__":
    port, argv = sys.argv[1], sys.argv[2:]
    capture_service.open_bench = lambda path=None: bench_with_cobolt(port)
    capture_service.build_bench = lambda config, source="": bench_with_cobolt(port)
    entry(argv)
