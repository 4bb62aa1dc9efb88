"""Trainer throughput: our epoch loop against a bare PyTorch loop over in-memory tensors, same model, same run.

The default U-Net (depth 3, width 16, 7x7 kernels) from 128x128 speckle to 32x32 targets. The candidate is
the trainer's own path: the in-memory frames' shuffled batches, `run_epoch` with its running loss and Dice
and a progress callback. The baseline indexes two tensors with a permutation and steps Adam, nothing else.
Target: data-pipeline overhead (1 - candidate rate / baseline rate) <= 10 %.

Also measured, each as the trainer's epoch against the plain eager one: channels_last memory format and
torch.compile, with its compile time and the training time it needs to pay that back. The trainer's
defaults (TrainConfig.channels_last, .compile_model) are what won here; the overhead is measured with them.

On a GPU (`--device cuda`, with `--reference-scale` for 256x256 speckle to 64x64 targets) both loops run as
the trainer does there: frames on the GPU, bf16 autocast of the forward pass, float32 loss; epochs end with
a synchronize so the time is the GPU's. The pipeline overhead is then the data path's share of step time.
"""

from __future__ import annotations

import argparse
import time
import warnings
from collections.abc import Callable

import numpy as np
import torch
from torch import nn

from benchmarks.common import interleaved, report
from speckle_lab.model.config import ModelConfig, TrainConfig
from speckle_lab.model.data import MemoryFrames, prepare_data
from speckle_lab.model.inference import autocast
from speckle_lab.model.losses import make_loss
from speckle_lab.model.progress import EpochProgress
from speckle_lab.model.sources import ArraySource
from speckle_lab.model.trainer import resolve_device, resolve_precision, run_epoch
from speckle_lab.model.unet import build_unet

TARGET_OVERHEAD = 0.10
SPECKLE, TARGET_SHAPE = (128, 128), (32, 32)
REFERENCE_SPECKLE, REFERENCE_TARGET = (256, 256), (64, 64)  # the reference capture scale


Shapes = tuple[tuple[int, int], tuple[int, int]]


def make_net(channels_last: bool, compiled: bool, device: torch.device, shapes: Shapes) -> nn.Module:
    torch.manual_seed(0)
    net = build_unet(ModelConfig(), *shapes).to(device)
    if channels_last:
        net = net.to(memory_format=torch.channels_last)
    if not compiled:
        return net
    torch._dynamo.reset()  # a fresh cache per compiled net, so one variant's guards do not slow the next
    torch._inductor.config.force_disable_caches = True  # the compile time a fresh machine pays
    return torch.compile(net)


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def trainer_epoch(frames: MemoryFrames, indices: np.ndarray, config: TrainConfig, net: nn.Module) -> Callable[[], None]:
    device = frames.speckle.device
    precision = resolve_precision(config.mixed_precision, device)
    optimizer = torch.optim.Adam(net.parameters(), lr=config.lr)
    loss_fn, generator = make_loss(config), torch.Generator().manual_seed(1)
    batches_per_epoch = -(-len(indices) // config.batch_size)

    def epoch() -> None:
        progress = EpochProgress(1, 1, batches_per_epoch, callback=lambda event: None, show=False)
        batches = frames.batches(indices, config.batch_size, generator)
        run_epoch(net, optimizer, loss_fn, batches, device, config.channels_last, progress, precision=precision)
        progress.close()
        synchronize(device)

    return epoch


def bare_epoch(x_all: torch.Tensor, y_all: torch.Tensor, config: TrainConfig, net: nn.Module) -> Callable[[], None]:
    optimizer = torch.optim.Adam(net.parameters(), lr=config.lr)
    loss_fn, generator = make_loss(config), torch.Generator().manual_seed(1)
    device = x_all.device
    precision = resolve_precision(config.mixed_precision, device)

    def epoch() -> None:
        order = torch.randperm(len(x_all), generator=generator).to(device)
        for start in range(0, len(order), config.batch_size):
            take = order[start : start + config.batch_size]
            x, y = x_all[take], y_all[take]
            if config.channels_last:
                x = x.contiguous(memory_format=torch.channels_last)
            optimizer.zero_grad(set_to_none=True)
            with autocast(device, precision):
                pred = net(x)
            loss_fn(pred.float(), y).backward()
            optimizer.step()
        synchronize(device)

    return epoch


def timed_first_call(run: Callable[[], None]) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--frames", type=int, default=128, help="frames per epoch (short epochs, many rounds)")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--no-compile", action="store_true", help="skip the torch.compile variants")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    parser.add_argument("--reference-scale", action="store_true", help="256x256 speckle to 64x64 targets")
    args = parser.parse_args()
    shapes: Shapes = (REFERENCE_SPECKLE, REFERENCE_TARGET) if args.reference_scale else (SPECKLE, TARGET_SHAPE)
    (H, W), (h, w) = shapes
    device = resolve_device(args.device)
    warnings.filterwarnings("ignore", message="dynamo_pgo force disabled")
    if args.threads:
        torch.set_num_threads(args.threads)

    rng = np.random.default_rng(0)
    speckle = rng.poisson(200, (args.frames, H, W)).astype(np.uint16)
    target = rng.random((args.frames, h, w), dtype=np.float32)
    base = TrainConfig(batch_size=args.batch, val_fraction=0, test_fraction=0, data_mode="memory", device=args.device)
    data = prepare_data(ArraySource(speckle, target), base, device=device)
    frames, indices = data.frames, data.split.train

    def rate(seconds: float) -> float:
        return round(len(indices) / seconds, 1)

    figures: dict[str, object] = {
        "model": f"U-Net depth 3, width 16, 7x7, {H}x{W} -> {h}x{w}",
        "device": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
        "precision": resolve_precision(base.mixed_precision, device),
        "frames_per_epoch": len(indices),
        "batch_size": args.batch,
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
    }

    # 1. options, each as the trainer's epoch against the plain eager one
    eager_config = base.model_copy(update={"channels_last": False, "compile_model": False})
    variants: dict[str, tuple[bool, bool]] = {"channels_last": (True, False)}
    if not args.no_compile:
        variants |= {"compile": (False, True), "compile+channels_last": (True, True)}
    for name, (channels_last, compiled) in variants.items():
        config = base.model_copy(update={"channels_last": channels_last})
        eager = trainer_epoch(frames, indices, eager_config, make_net(False, False, device, shapes))
        try:
            variant = trainer_epoch(frames, indices, config, make_net(channels_last, compiled, device, shapes))
            first_s = timed_first_call(variant) if compiled else 0.0
            times = interleaved(variant, eager, args.rounds)
        except Exception as error:  # e.g. no C++ compiler for inductor: report, keep going
            figures[f"{name}_error"] = f"{type(error).__name__}: {str(error).splitlines()[0][:200]}"
            continue
        speedup = times["baseline_s"] / times["candidate_s"]
        figures[f"{name}_samples_per_s"] = rate(times["candidate_s"])
        figures[f"{name}_vs_eager_samples_per_s"] = rate(times["baseline_s"])
        figures[f"{name}_speedup"] = round(speedup, 3)
        if compiled:
            compile_s = first_s - times["candidate_s"]
            figures[f"{name}_compile_s"] = round(compile_s, 1)
            saved_per_s = 1 - 1 / speedup  # training seconds saved per eager second
            figures[f"{name}_break_even_training_s"] = round(compile_s / saved_per_s) if saved_per_s > 0 else None

    # 2. the pipeline overhead with the trainer's default options on both sides
    channels_last, compiled = base.channels_last, base.compile_model
    figures["trainer_defaults"] = f"channels_last={channels_last}, compile_model={compiled}"
    candidate = trainer_epoch(frames, indices, base, make_net(channels_last, compiled, device, shapes))
    baseline = bare_epoch(frames.speckle, frames.target, base, make_net(channels_last, compiled, device, shapes))
    times = interleaved(candidate, baseline, args.rounds)
    overhead = 1 - times["baseline_s"] / times["candidate_s"]
    figures |= {
        "trainer_samples_per_s": rate(times["candidate_s"]),
        "bare_loop_samples_per_s": rate(times["baseline_s"]),
        "pipeline_overhead": round(overhead, 4),
        "target_overhead": TARGET_OVERHEAD,
        "meets_target": overhead <= TARGET_OVERHEAD,
    }
    report("trainer_throughput", figures)


if __name__ == "__main__":
    main()
