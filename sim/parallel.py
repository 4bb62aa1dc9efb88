"""Row-chunked elementwise work on a small thread pool: numpy releases the GIL in ufuncs and random draws,
so the post-processing after a GEMM uses every core, as the GEMM itself does."""

from __future__ import annotations

import functools
import itertools
import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, nullcontext
from typing import Any

import numpy as np
from threadpoolctl import ThreadpoolController

# Work is always cut into this many chunks, whatever the core count, so that seeded noise streams
# (one per chunk) give the same frames on every machine.
N_CHUNKS = 2
_MIN_ROWS_PER_CHUNK = 4
_pool = ThreadPoolExecutor(max_workers=min(N_CHUNKS, os.cpu_count() or 1), thread_name_prefix="sim-post")


def chunk_bounds(n_rows: int) -> list[tuple[int, int]]:
    if n_rows < N_CHUNKS * _MIN_ROWS_PER_CHUNK:
        return [(0, n_rows)]
    edges = np.linspace(0, n_rows, N_CHUNKS + 1).astype(int)
    return list(itertools.pairwise(int(e) for e in edges))


def map_row_chunks(work: Callable[[int, int, int], None], n_rows: int, blas_in_chunks: bool = False) -> None:
    """Call `work(chunk_index, start, stop)` for each row chunk, in parallel; re-raises the first error.

    `blas_in_chunks`: each chunk makes its own matrix products, so BLAS runs one thread per call while the
    chunks run. Otherwise a GEMM on all cores followed by elementwise work on all cores leaves BLAS's idle
    workers spinning on the cores the elementwise threads need (measured: 30-50 % slower post-processing).
    """
    bounds = chunk_bounds(n_rows)
    if len(bounds) == 1:
        work(0, 0, n_rows)
        return
    with one_blas_thread() if blas_in_chunks else nullcontext():
        futures = [_pool.submit(work, i, start, stop) for i, (start, stop) in enumerate(bounds)]
        for future in futures:
            future.result()


_blas_lock = threading.Lock()
_blas_users = 0
_blas_limiter: list[Any] = []  # the one threadpoolctl limiter held while per-chunk GEMMs run


@contextmanager
def one_blas_thread() -> Iterator[None]:
    """BLAS limited to one thread per call while the block runs (nested and concurrent uses share one limit).

    The limit is process-wide (BLAS has no per-call setting): another thread's matrix product during the
    block also runs on one core."""
    global _blas_users
    with _blas_lock:
        if _blas_users == 0:
            _blas_limiter[:] = [_controller().limit(limits=1, user_api="blas")]
        _blas_users += 1
    try:
        yield
    finally:
        with _blas_lock:
            _blas_users -= 1
            if _blas_users == 0:
                _blas_limiter.pop().restore_original_limits()


@functools.cache
def _controller() -> ThreadpoolController:
    """Built on first use, after numpy's BLAS is loaded."""
    return ThreadpoolController()
