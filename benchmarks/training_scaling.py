"""Training that outgrows one process and one memory: 1 against 2 gloo processes, streamed against in-memory.

1. Data parallel on the CPU. The trainer's own `train()` runs as one process (one torch thread) and under
   `python -m torch.distributed.run --nproc-per-node 2` (gloo, one thread per process), on the same
   synthetic frames with the same global batch. samples/s = training frames / median epoch time (epochs
   after the first, validation off); efficiency = rate(2) / (2 x rate(1)). The launches alternate
   (1, 2, 1, 2, ...) so that load from other jobs on a shared machine hits both alike.
2. Data bigger than the memory budget. Capture files written by the acquisition writer, several times the
   trainer's memory budget, so `prepare_data` streams them; each size in a fresh process, which reports
   - its peak resident memory (ru_maxrss) and its growth over one full streamed pass of the file;
   - training samples/s with the streamed batches (read-ahead on a worker thread, the default) against
     the same net stepping on in-memory batches, interleaved in the same process; also with read-ahead off.
   Target: streamed >= 0.9 x in-memory samples/s; peak memory bounded and the same for both file sizes.
   One torch thread here too: on a machine whose cores other jobs keep busy, two OpenMP threads wait on each
   other's barriers and both sides slow down several-fold, erratically (seen on the 2-core development
   machine), which would measure the scheduler rather than the data path. The reader thread competes with
   training for the cores, as it does on any machine.

The net is the trainer's default U-Net (depth 3, width 16, 7x7) from 128x128 speckle to 32x32 targets, as
in benchmarks/trainer_throughput.py. The worker roles of this module are started by the module itself.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

SPECKLE, TARGET_SHAPE = (128, 128), (32, 32)
TARGET_STREAM_RATIO = 0.9
ROOT = Path(__file__).resolve().parents[1]


def synthetic_frames(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    speckle = rng.poisson(200, (n, *SPECKLE)).astype(np.uint16)
    target = rng.random((n, *TARGET_SHAPE), dtype=np.float32)
    return speckle, target


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def run_python(args: list[str], nproc: int, timeout_s: float, one_thread: bool) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    if one_thread:
        env["OMP_NUM_THREADS"] = "1"
    launcher = [sys.executable]
    if nproc > 1:
        launcher += ["-m", "torch.distributed.run", "--standalone", "--nproc-per-node", str(nproc)]
    subprocess.run([*launcher, "-m", "benchmarks.training_scaling", *args], env=env, check=True, timeout=timeout_s)


# -- 1. one process against two gloo processes ---------------------------------------------------------
def scale_worker(out: Path, frames: int, batch: int, epochs: int) -> None:
    """One process of the scaling run: the trainer's train(), timed per epoch from its own history."""
    import torch

    from speckle_lab.model.config import TrainConfig
    from speckle_lab.model.sources import ArraySource
    from speckle_lab.model.trainer import train

    torch.set_num_threads(1)
    config = TrainConfig(
        epochs=epochs,
        batch_size=batch,
        val_fraction=0,
        test_fraction=0,
        patience_epochs=None,
        device="cpu",
        data_mode="memory",
    )
    result = train(config, ArraySource(*synthetic_frames(frames)), out / "run", show_progress=False)
    if os.environ.get("RANK", "0") == "0":
        seconds = statistics.median(h["seconds"] for h in result.history[1:])
        figures = {"world_size": result.world_size, "epoch_s": seconds, "samples_per_s": frames / seconds}
        (out / "result.json").write_text(json.dumps(figures))


def scaling(frames: int, batch: int, epochs: int, repeats: int) -> dict[str, object]:
    rates: dict[int, list[float]] = {1: [], 2: []}
    for _ in range(repeats):
        for nproc in (1, 2):
            with tempfile.TemporaryDirectory() as tmp:
                run_python(["scale", tmp, str(frames), str(batch), str(epochs)], nproc, 600, one_thread=True)
                rates[nproc].append(json.loads((Path(tmp) / "result.json").read_text())["samples_per_s"])
    one, two = statistics.median(rates[1]), statistics.median(rates[2])
    return {
        "ddp_frames_per_epoch": frames,
        "ddp_global_batch": batch,
        "ddp_threads_per_process": 1,
        "single_process_samples_per_s": round(one, 1),
        "two_gloo_processes_samples_per_s": round(two, 1),
        "two_process_speedup": round(two / one, 3),
        "two_process_efficiency": round(two / (2 * one), 3),
        "ddp_runs": {str(k): [round(r, 1) for r in v] for k, v in rates.items()},
    }


# -- 2. streamed against in-memory ---------------------------------------------------------------------
def write_capture(path: Path, n: int, block: int = 256) -> None:
    from speckle_lab.acquisition.datafile import CaptureWriter, FrameRows, RunMetadata

    metadata = RunMetadata(plan={}, bench={}, devices=[], medium=None, target_stats={}, n_planned=n)
    with CaptureWriter.create(
        path,
        speckle_shape=SPECKLE,
        speckle_dtype=np.uint16,
        target_shape=TARGET_SHAPE,
        frame_fields={},
        metadata=metadata,
    ) as writer:
        for start in range(0, n, block):
            stop = min(n, start + block)
            speckle, target = synthetic_frames(stop - start, seed=start)
            rows = np.arange(start, stop)
            writer.append_frames(FrameRows(speckle, target, rows, np.zeros(stop - start), rows))


def stream_worker(path: Path, out: Path, budget_mb: float, batch: int, batches: int, rounds: int) -> None:
    """One file in a fresh process: a full streamed pass (memory), then streamed vs in-memory training steps."""
    import torch

    from benchmarks.common import interleaved
    from speckle_lab.model.config import TrainConfig
    from speckle_lab.model.data import MemoryFrames, StreamFrames, frame_bytes, prepare_data
    from speckle_lab.model.losses import make_loss
    from speckle_lab.model.sources import ArraySource, open_captures
    from speckle_lab.model.trainer import run_epoch
    from speckle_lab.model.unet import build_unet

    base = TrainConfig(
        batch_size=batch,
        val_fraction=0,
        test_fraction=0,
        device="cpu",
        memory_budget_mb=budget_mb,
        chunk_frames=32,
        shuffle_chunks=4,
    )
    figures: dict[str, object] = {"torch_threads": torch.get_num_threads()}
    with open_captures([path]) as source:
        data = prepare_data(source, base)
        assert isinstance(data.frames, StreamFrames), "the file must exceed the memory budget"
        train_rows = data.split.train
        figures |= {"file_frames": source.n_frames, "file_mb": round(path.stat().st_size / 2**20, 1)}
        figures["loaded_size_over_budget"] = round(len(train_rows) * frame_bytes(source) / 2**20 / budget_mb, 1)

        # full pass over the whole file, data only: what streaming holds in memory, and how fast it reads
        rss_before = rss_mb()
        start = time.perf_counter()
        n_read = sum(len(x) for x, _ in data.frames.batches(train_rows, batch, torch.Generator().manual_seed(0)))
        read_s = time.perf_counter() - start
        figures |= {
            "stream_pass_frames": n_read,
            "stream_read_frames_per_s": round(n_read / read_s, 1),
            "rss_before_pass_mb": round(rss_before, 1),
            "peak_rss_after_pass_mb": round(peak_rss_mb(), 1),
            "pass_rss_growth_mb": round(peak_rss_mb() - rss_before, 1),
        }

        # training steps: streamed (read-ahead on, then off) against in-memory batches of the same frames' kind
        n_mem = batch * batches
        memory = MemoryFrames(ArraySource(*source.read(0, n_mem)), n_mem, data.normalisation, 64, torch.device("cpu"))
        inline = StreamFrames(source, data.normalisation, base.chunk_frames, base.shuffle_chunks, prefetch=0)
        loss_fn = make_loss(base)

        def stepper(frames, rows: np.ndarray) -> Callable[[], None]:
            torch.manual_seed(0)
            net = build_unet(base.model, SPECKLE, TARGET_SHAPE).to(memory_format=torch.channels_last)
            optimizer = torch.optim.Adam(net.parameters(), lr=base.lr)
            generator = torch.Generator().manual_seed(1)

            def steps() -> None:
                epoch = iter(frames.batches(rows, batch, generator))
                run_epoch(net, optimizer, loss_fn, itertools.islice(epoch, batches), torch.device("cpu"), True)
                epoch.close()  # the rest of the epoch is not read: the read-ahead thread stops

            return steps

        in_memory = stepper(memory, np.arange(n_mem))
        times = interleaved(stepper(data.frames, train_rows), in_memory, rounds)
        inline_times = interleaved(stepper(inline, train_rows), in_memory, max(2, rounds // 2))
        frames_per_round = batch * batches
        figures |= {
            "in_memory_samples_per_s": round(frames_per_round / times["baseline_s"], 1),
            "streamed_samples_per_s": round(frames_per_round / times["candidate_s"], 1),
            "streamed_over_in_memory": round(times["baseline_s"] / times["candidate_s"], 3),
            "streamed_no_read_ahead_over_in_memory": round(inline_times["baseline_s"] / inline_times["candidate_s"], 3),
            "peak_rss_mb": round(peak_rss_mb(), 1),
        }
    (out / "stream.json").write_text(json.dumps(figures))


def streaming(budget_mb: float, multiples: list[float], batch: int, batches: int, rounds: int) -> dict[str, object]:
    frame_mb = 4 * (SPECKLE[0] * SPECKLE[1] + TARGET_SHAPE[0] * TARGET_SHAPE[1]) / 2**20
    figures: dict[str, object] = {"memory_budget_mb": budget_mb, "target_stream_ratio": TARGET_STREAM_RATIO}
    per_size = []
    with tempfile.TemporaryDirectory() as tmp:
        for multiple in multiples:
            n = int(multiple * budget_mb / frame_mb)
            path = Path(tmp) / f"capture-{n}.h5"
            write_capture(path, n)
            args = ["stream", str(path), tmp, str(budget_mb), str(batch), str(batches), str(rounds)]
            run_python(args, 1, 900, one_thread=True)
            per_size.append(json.loads((Path(tmp) / "stream.json").read_text()))
            path.unlink()
    figures["streamed"] = per_size
    ratios = [s["streamed_over_in_memory"] for s in per_size]
    peaks = [s["peak_rss_mb"] for s in per_size]
    figures |= {
        "worst_streamed_over_in_memory": min(ratios),
        "meets_stream_target": min(ratios) >= TARGET_STREAM_RATIO,
        "peak_rss_spread_mb": round(max(peaks) - min(peaks), 1),
    }
    return figures


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "scale":
        out, frames, batch, epochs = sys.argv[2:6]
        scale_worker(Path(out), int(frames), int(batch), int(epochs))
        return
    if len(sys.argv) > 1 and sys.argv[1] == "stream":
        path, out, budget, batch, batches, rounds = sys.argv[2:8]
        stream_worker(Path(path), Path(out), float(budget), int(batch), int(batches), int(rounds))
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ddp-frames", type=int, default=384, help="training frames per epoch, 1 vs 2 processes")
    parser.add_argument("--ddp-epochs", type=int, default=3, help="the first is not timed")
    parser.add_argument("--ddp-repeats", type=int, default=2, help="launches of each, alternating")
    parser.add_argument("--batch", type=int, default=32, help="global batch")
    parser.add_argument("--budget-mb", type=float, default=16.0, help="the trainer's memory budget for part 2")
    parser.add_argument("--multiples", type=float, nargs="+", default=[5.0, 15.0], help="file sizes / budget")
    parser.add_argument("--stream-batches", type=int, default=8, help="steps per timed round")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--skip-ddp", action="store_true")
    parser.add_argument("--skip-stream", action="store_true")
    args = parser.parse_args()

    import torch

    from benchmarks.common import report

    figures: dict[str, object] = {
        "model": "U-Net depth 3, width 16, 7x7, 128x128 -> 32x32",
        "torch": torch.__version__,
        "cpus": os.cpu_count(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "gpu": "none measured (torch sees no CUDA device)" if not torch.cuda.is_available() else "present, not used",
    }
    if not args.skip_ddp:
        figures |= scaling(args.ddp_frames, args.batch, args.ddp_epochs, args.ddp_repeats)
    if not args.skip_stream:
        figures |= streaming(args.budget_mb, args.multiples, args.batch, args.stream_batches, args.rounds)
    figures["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    report("training_scaling", figures)


if __name__ == "__main__":
    main()
