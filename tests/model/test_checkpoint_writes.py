"""Checkpoint and config writes are atomic: a full disk is one CheckpointError line and leaves no temporary
file, a temporary file a killed process left is removed by the next write, and the old file survives."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from speckle_lab.model.checkpoint import atomic_write_text, load_checkpoint, save_checkpoint
from speckle_lab.model.errors import CheckpointError


@pytest.fixture
def tiny_fs(tmp_path: Path) -> Iterator[Path]:
    """A real 1 MiB tmpfs, so a full disk is a real ENOSPC; skipped where mounting is not allowed."""
    mount = tmp_path / "tiny"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], capture_output=True)
    if done.returncode:
        pytest.skip(f"cannot mount a small tmpfs here (needs root): {done.stderr.decode().strip()}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_full_disk_is_one_line_and_keeps_the_previous_checkpoint(tiny_fs: Path) -> None:
    path = tiny_fs / "last.pt"
    save_checkpoint(path, {"epoch": 1, "model": {"w": torch.zeros(10)}})
    with pytest.raises(CheckpointError, match="cannot write it") as refused:
        save_checkpoint(path, {"epoch": 2, "model": {"w": torch.zeros(1 << 20)}})  # 4 MiB: does not fit
    assert "\n" not in str(refused.value) and str(path) in str(refused.value)
    assert sorted(p.name for p in tiny_fs.iterdir()) == ["last.pt"]  # no temporary file left
    assert load_checkpoint(path, required=("epoch",))["epoch"] == 1


def test_a_killed_write_leaves_nothing_after_the_next_one(tmp_path: Path) -> None:
    (tmp_path / ".config.json.abc123.tmp").write_text('{"half": ')  # what kill -9 mid-write leaves
    atomic_write_text(tmp_path / "config.json", '{"lr": 0.001}\n')
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.json"]
    assert (tmp_path / "config.json").read_text() == '{"lr": 0.001}\n'
