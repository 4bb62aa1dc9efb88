"""The simulator's row-chunk pool: every chunk runs once, and BLAS is held to one thread only while chunks that
make their own matrix products run, nested or not, then given back its thread count."""

from __future__ import annotations

import threading

import numpy as np
from threadpoolctl import threadpool_info

from speckle_lab.sim.parallel import chunk_bounds, map_row_chunks, one_blas_thread


def _blas_threads() -> list[int]:
    return [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]


def test_chunks_cover_the_rows_once_and_blas_is_limited_only_inside() -> None:
    np.ones((4, 4)) @ np.ones((4, 4))  # BLAS loaded
    before = _blas_threads()
    seen: list[tuple[int, int, int, list[int]]] = []
    lock = threading.Lock()

    def work(chunk: int, start: int, stop: int) -> None:
        with lock:
            seen.append((chunk, start, stop, _blas_threads()))

    map_row_chunks(work, 100, blas_in_chunks=True)
    assert sorted((c, a, b) for c, a, b, _ in seen) == [(i, a, b) for i, (a, b) in enumerate(chunk_bounds(100))]
    assert all(threads == [1] * len(before) for *_, threads in seen)
    assert _blas_threads() == before

    seen.clear()
    map_row_chunks(work, 100)
    assert all(threads == before for *_, threads in seen)


def test_nested_limits_restore_once_the_last_leaves() -> None:
    np.ones((4, 4)) @ np.ones((4, 4))
    before = _blas_threads()
    with one_blas_thread():
        with one_blas_thread():
            assert _blas_threads() == [1] * len(before)
        assert _blas_threads() == [1] * len(before)
    assert _blas_threads() == before
