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


def interleaved(candidate: Callable[[], object], baseline: Callable[[], object], rounds: int) -> dict[str, float]:
    """Median seconds of each, measured alternately so load changes hit both alike."""
    candidate()
    baseline()
    cand, base = [], []
    for _ in range(rounds):
        for fn, times in ((candidate, cand), (baseline, base)):
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
