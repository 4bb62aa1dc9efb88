"""Fixtures of the model tests: a synthetic dataset and one finished run shared by the read-only tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from model_helpers import synthetic, tiny_config

from speckle_lab.model.sources import ArraySource


@pytest.fixture(scope="session", autouse=True)
def one_torch_thread() -> Iterator[None]:
    """The tiny nets here run faster on one thread, and stay fast when other jobs share the cores."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def blobs() -> ArraySource:
    return synthetic(320)


@pytest.fixture(scope="session")
def trained_run(blobs: ArraySource, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One finished 2-epoch run."""
    from speckle_lab.model.trainer import train

    out = tmp_path_factory.mktemp("run")
    train(tiny_config(epochs=2), blobs, out, show_progress=False)
    return out
