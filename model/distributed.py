"""Data-parallel training on PyTorch's own engine: the torchrun environment, the process group, shards, reductions.

`speckle-lab train` runs unchanged under `torchrun --nproc-per-node N` (or a multi-node torchrun): torchrun
sets RANK, WORLD_SIZE and LOCAL_RANK, and the trainer reads them here. Every rank holds the whole model, the
same split and the same data-order generator, so every rank draws the same epoch order; each then takes its
own disjoint share of it (`shard`), gradients are averaged by DistributedDataParallel, validation metrics are
summed over ranks (`all_sum`), so early stopping sees the same number on every rank and stops on the same
epoch. Only rank 0 writes files. Backend: nccl when the ranks train on CUDA devices, gloo on the CPU.

`config.batch_size` stays the global batch: each of N ranks steps on batch_size / N frames, so a run under
torchrun takes the same optimizer steps on the same frames as a single process would.
"""

from __future__ import annotations

import datetime
import os
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
import torch
import torch.distributed as dist
from torch import nn

from speckle_lab.model.errors import ModelInputError

Order = TypeVar("Order", np.ndarray, torch.Tensor)  # an epoch order keeps its kind through `shard`

# How long a rank waits for the others in a collective before giving up (a killed peer is noticed sooner: the
# gloo and nccl transports see its sockets close). Long enough for rank 0 to write a large checkpoint.
COLLECTIVE_TIMEOUT = datetime.timedelta(minutes=10)


@dataclass(frozen=True)
class DistEnv:
    """This process's place in the job; world_size 1 is a plain single-process run."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        """Rank 0: the one process that writes checkpoints, logs and figures and shows progress."""
        return self.rank == 0


SINGLE = DistEnv()


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ModelInputError(f"environment variable {name}={value!r}: expected an integer (set by torchrun)") from None


def detect() -> DistEnv:
    """The job as torchrun (or any launcher following its convention) describes it in the environment."""
    world = _env_int("WORLD_SIZE", 1)
    rank = _env_int("RANK", 0)
    local = _env_int("LOCAL_RANK", rank)
    if world < 1 or not 0 <= rank < world:
        raise ModelInputError(f"RANK={rank}, WORLD_SIZE={world}: expected 0 <= RANK < WORLD_SIZE")
    return DistEnv(rank, world, local)


def backend_for(device: torch.device) -> str:
    return "nccl" if device.type == "cuda" else "gloo"


def rank_device(choice: str, env: DistEnv) -> torch.device:
    """The device of this rank: its own GPU (LOCAL_RANK) on CUDA, else the CPU. `choice` is auto, cpu or cuda."""
    cuda = torch.cuda.is_available()
    if choice == "cuda" and not cuda:
        raise ModelInputError("device 'cuda' requested but torch sees no CUDA device (use --device cpu or auto)")
    if choice == "cpu" or not cuda:
        return torch.device("cpu")
    if env.distributed:
        if env.local_rank >= torch.cuda.device_count():
            raise ModelInputError(
                f"LOCAL_RANK {env.local_rank} but only {torch.cuda.device_count()} CUDA devices on this node; "
                "start at most one process per GPU"
            )
        torch.cuda.set_device(env.local_rank)
        return torch.device("cuda", env.local_rank)
    return torch.device("cuda")


def init(env: DistEnv, device: torch.device) -> bool:
    """Join the process group (the env:// rendezvous torchrun set up). True when this call created it."""
    if not env.distributed or dist.is_initialized():
        return False
    backend = backend_for(device)
    if not dist.is_available() or (backend == "gloo" and not dist.is_gloo_available()):
        raise ModelInputError(f"this torch build has no {backend} backend for distributed training")
    dist.init_process_group(
        backend,
        rank=env.rank,
        world_size=env.world_size,
        timeout=COLLECTIVE_TIMEOUT,
        device_id=device if device.type == "cuda" else None,  # None: torch's default (no device bound)
    )
    return True


def shutdown(wait_for_all: bool = False) -> None:
    """Leave the process group. `wait_for_all` (the normal end of a run): first a barrier, so no rank tears its
    gloo connections down while another still uses them (a rank leaving early was seen to abort with
    "terminate called without an active exception"). Not after an error: the other ranks may never come."""
    if dist.is_initialized():
        if wait_for_all:
            dist.barrier()
        dist.destroy_process_group()


def local_batch_size(batch_size: int, env: DistEnv) -> int:
    """Frames per rank per step: the global batch split evenly, so DDP's gradient mean is the global batch's."""
    if batch_size % env.world_size:
        raise ModelInputError(
            f"batch_size {batch_size} is the global batch and must be divisible by the {env.world_size} processes"
        )
    return batch_size // env.world_size


def shard(order: Order, env: DistEnv, pad: bool) -> Order:
    """This rank's share of an epoch order: positions rank, rank + N, rank + 2N, ...

    Interleaving keeps global step k's frames (all ranks together) exactly the single process's batch k of
    the same order. With `pad` (training) the order is first extended by its own beginning to a multiple of
    N, as torch's DistributedSampler does, so every rank takes the same number of steps (a rank that ran
    out of batches would leave the others waiting in the gradient all-reduce); at most N - 1 frames are seen
    twice per epoch. Without it (validation) the shares are disjoint and cover the order exactly once.
    """
    if not env.distributed:
        return order
    if pad and len(order) % env.world_size:
        missing = env.world_size - len(order) % env.world_size
        repeat = np.resize(np.arange(len(order)), missing)  # wraps around when the order is shorter than N
        extra = order[torch.from_numpy(repeat) if isinstance(order, torch.Tensor) else repeat]
        order = torch.cat([order, extra]) if isinstance(order, torch.Tensor) else np.concatenate([order, extra])
    return order[env.rank :: env.world_size]


def block(n: int, env: DistEnv, pad: bool) -> tuple[int, int]:
    """This rank's contiguous block [lo, hi) of n positions (hi may pass n when padded; wrap it around).

    For streamed data, where each rank should read its own file chunks rather than every chunk.
    """
    if not env.distributed:
        return 0, n
    if pad:
        per_rank = -(-n // env.world_size)
        return env.rank * per_rank, (env.rank + 1) * per_rank
    return env.rank * n // env.world_size, (env.rank + 1) * n // env.world_size


def all_sum(values: list[float], device: torch.device, env: DistEnv) -> list[float]:
    """Sum over ranks (float64, so every rank gets bitwise the same numbers and takes the same decisions)."""
    if not env.distributed:
        return list(values)
    t = torch.tensor(values, dtype=torch.float64, device=device)
    dist.all_reduce(t, op=dist.ReduceOp.SUM)
    return t.cpu().tolist()


def any_rank(flag: bool, device: torch.device, env: DistEnv) -> bool:
    """True on every rank when it is true on one (a stop request reaches one rank, all must stop together)."""
    if not env.distributed:
        return flag
    t = torch.tensor([1.0 if flag else 0.0], device=device)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item() > 0)


def sync_buffers(module: nn.Module, env: DistEnv) -> None:
    """Rank 0's batch-norm running statistics to every rank, so all ranks validate the net that rank 0 saves.

    DDP broadcasts buffers before each forward, but the last training step updates each rank's own copy.
    """
    if not env.distributed:
        return
    for buffer in module.buffers():
        dist.broadcast(buffer, src=0)


def barrier(env: DistEnv) -> None:
    if env.distributed:
        dist.barrier()
