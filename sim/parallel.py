"""Row-chunked elementwise work on a small thread pool: numpy releases the GIL in ufuncs and random draws,
so the post-processing after a GEMM uses every core, as the GEMM itself does."""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np

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


def map_row_chunks(work: Callable[[int, int, int], None], n_rows: int) -> None:
    """Call `work(chunk_index, start, stop)` for each row chunk, in parallel; re-raises the first error."""
    bounds = chunk_bounds(n_rows)
    if len(bounds) == 1:
        work(0, 0, n_rows)
        return
    futures = [_pool.submit(work, i, start, stop) for i, (start, stop) in enumerate(bounds)]
    for future in futures:
        future.result()
