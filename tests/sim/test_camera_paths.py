"""The camera's fast path computes a block either with one GEMM per core or with one shared GEMM (chosen by
block size, for speed): both give the same frames, noise included, for the same seeds (to a rounding)."""

from __future__ import annotations

import numpy as np
import pytest

from speckle_lab.drivers import TriggerMode
from speckle_lab.sim import camera as sim_camera


def _frames(make_bench, monkeypatch: pytest.MonkeyPatch, min_rows_per_core: int) -> np.ndarray:
    monkeypatch.setattr(sim_camera, "_MIN_ROWS_PER_CORE_GEMM", min_rows_per_core)
    bench = make_bench(output_shape=(32, 32), grain_px=2.0, camera_seed=5)
    images = np.random.default_rng(7).random((40, bench.side, bench.side)) < 0.4
    bench.laser.set_power_w(0.02)
    bench.laser.set_emission(True)
    bench.camera.set_trigger_mode(TriggerMode.HARDWARE)
    bench.camera.start()
    bench.dmd.load_macropixels(images, bench.geometry, bench.dmd.min_picture_time_us)
    bench.dmd.start()
    return bench.camera.read_block(len(images), timeout_s=30.0).pixels


def test_per_core_and_shared_gemm_give_the_same_frames(make_bench, monkeypatch: pytest.MonkeyPatch) -> None:
    per_core = _frames(make_bench, monkeypatch, min_rows_per_core=1)
    shared = _frames(make_bench, monkeypatch, min_rows_per_core=10**6)
    assert per_core.std() > 0
    # The same noise draws: frames agree pixel for pixel, but for the odd digital number that a GEMM summed in
    # another order rounds the other way (BLAS does not promise the same bits for other block shapes).
    difference = np.abs(per_core.astype(np.int64) - shared.astype(np.int64))
    assert difference.max() <= 1 and np.count_nonzero(difference) <= difference.size // 1000
