"""Shared helpers for benchmarks: interleaved repetitions so that both sides see the same machine state."""

from __future__ import annotations

import json
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path

RESULTS = Path(__file__).parent / "results"


def best_and_median_s(run: Callable[[], object], repeats: int) -> tuple[float, float]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times)


def interleaved(
    candidate: Callable[[], object], baseline: Callable[[], object], rounds: int, settle_s: float = 0.0
) -> dict[str, float]:
    """Median seconds of each, measured alternately so load changes hit both alike.

    `settle_s`: a pause before each measured call, so that neither starts in the wake of the other. A
    multithreaded BLAS call leaves its workers spinning on the cores for about 0.1 s after it returns
    (OpenBLAS); whatever runs next on those cores is measured slower than it would run on its own."""
    candidate()
    baseline()
    cand, base = [], []
    for _ in range(rounds):
        for fn, times in ((candidate, cand), (baseline, base)):
            time.sleep(settle_s)
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
    return {"candidate_s": statistics.median(cand), "baseline_s": statistics.median(base)}


def report(name: str, figures: dict[str, object]) -> None:
    figures = {"benchmark": name, "machine": platform.processor() or platform.machine(), **figures}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(figures, indent=2))
    for key, value in figures.items():
        print(f"{key:>28}: {value}")
