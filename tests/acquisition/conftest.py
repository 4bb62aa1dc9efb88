"""A small simulated bench for capture tests: fast to build, same code paths as the default bench."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from capture_helpers import small_config

from lab.bench import Bench, build_bench


@pytest.fixture
def small_bench() -> Iterator[Bench]:
    with build_bench(small_config()) as bench:
        yield bench


@pytest.fixture
def make_small_bench() -> Iterator[Callable[..., Bench]]:
    """Build more small benches; all closed at teardown."""
    benches: list[Bench] = []

    def make(**changes: dict) -> Bench:
        benches.append(build_bench(small_config(**changes)))
        return benches[-1]

    yield make
    for bench in benches:
        bench.close()
