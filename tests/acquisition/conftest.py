"""A small simulated bench for capture tests: fast to build, same code paths as the default bench."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from capture_helpers import small_config

from speckle_lab.lab.bench import Bench, build_bench


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


@pytest.fixture
def tiny_fs(tmp_path: Path) -> Iterator[Path]:
    """A real 4 MiB filesystem (tmpfs), so a full disk is a real ENOSPC; skipped where mounting is not allowed."""
    mount = tmp_path / "tiny"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)], capture_output=True)
    if done.returncode:
        pytest.skip(f"cannot mount a small tmpfs here (needs root): {done.stderr.decode().strip()}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)
