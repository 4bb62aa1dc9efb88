"""The training loop: seeded, checkpointed every epoch, resumable to the same result, stoppable from a GUI.

Any model kind trains here (model/registry.py): the kind plans and builds the net for the data's shapes and
groups its parameters for Adam; a kind that starts from the training frames (the physics-first net's ridge
initialisation) is validated once before the first epoch, as epoch 0, so that the best checkpoint is never
worse on validation than where it started. Early stopping and the best checkpoint follow one validation metric,
`TrainConfig.selection_metric`: PCC (the metric reported) unless a recipe says otherwise (the reference
preset stops on Dice, as the reference study did).

Reproducibility: the model is initialised from the seed, and the batch order comes from one data
generator. Each epoch's checkpoint holds the model, the optimizer, the early-stopping state, the metric
history and every RNG state, so resuming from epoch k gives the same parameters as an uninterrupted run
(bitwise on the CPU). A stop request ends training at the next batch; the unfinished epoch is dropped, so
the last checkpoint stays a clean point to resume from.

Under torchrun the same code trains data-parallel (model/distributed.py): each rank steps on its share of
the same global batches, metrics are summed over ranks, and only rank 0 writes. On CUDA the forward pass
runs under bf16 autocast and host batches are pinned and copied without blocking (both recorded in the
checkpoint); on the CPU nothing changes.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import math
import sys
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from tqdm.auto import tqdm

from speckle_lab.model import distributed
from speckle_lab.model.checkpoint import TRAINING_KEYS, atomic_write_text, load_checkpoint, save_checkpoint
from speckle_lab.model.config import RESUMABLE_CHANGES, TrainConfig
from speckle_lab.model.data import Batch, PreparedData, prepare_data
from speckle_lab.model.distributed import SINGLE, DistEnv
from speckle_lab.model.errors import ModelInputError, TrainingDiverged
from speckle_lab.model.inference import autocast, collect_metrics, to_device
from speckle_lab.model.kind import ModelKind
from speckle_lab.model.losses import Loss, make_loss
from speckle_lab.model.metric_names import VALIDATION_METRICS
from speckle_lab.model.metrics import dice_soft
from speckle_lab.model.metrics_log import write_metrics_csv
from speckle_lab.model.normalisation import Normalisation
from speckle_lab.model.progress import EpochProgress, ProgressCallback, ProgressEvent
from speckle_lab.model.registry import model_kind
from speckle_lab.model.rng_state import capture_rng, restore_rng
from speckle_lab.model.sources import FrameSource, as_source, open_captures, same_data
from speckle_lab.model.split import Split

logger = logging.getLogger(__name__)

LAST_CHECKPOINT = "last.pt"
BEST_CHECKPOINT = "best.pt"
METRICS_CSV = "metrics.csv"
CONFIG_JSON = "config.json"

Data = FrameSource | Sequence[FrameSource] | str | Path | Sequence[str | Path]


@dataclass(frozen=True)
class TrainResult:
    out_dir: Path
    epochs_completed: int
    best_epoch: int  # 0: the initialisation (kinds that start from the training frames) was never beaten
    best_val_dice: float  # validation Dice of the best epoch
    stop_reason: str  # "completed" | "early_stopping" | "stopped"
    history: list[dict]
    device: str
    in_memory: bool
    seconds: float
    model_kind: str
    selection_metric: str  # the validation metric early stopping and the best checkpoint followed
    best_val_pcc: float  # validation PCC of the best epoch
    world_size: int = 1
    precision: str = "fp32"

    @property
    def best_checkpoint(self) -> Path:
        return self.out_dir / BEST_CHECKPOINT


@dataclass
class EarlyStopping:
    """Best value so far of one validation metric (higher is better); NaN (no validation frames) counts as an
    improvement every epoch."""

    patience: int | None
    min_improvement: float = 0.0
    metric: str = "pcc"
    best_value: float = -math.inf
    best_epoch: int = 0
    epochs_without_improvement: int = 0

    def update(self, epoch: int, value: float) -> bool:
        improved = math.isnan(value) or value > self.best_value + self.min_improvement
        if improved:
            self.best_value, self.best_epoch, self.epochs_without_improvement = value, epoch, 0
        else:
            self.epochs_without_improvement += 1
        return improved

    @property
    def exhausted(self) -> bool:
        return self.patience is not None and self.epochs_without_improvement >= self.patience

    def to_dict(self) -> dict:
        return {
            "metric": self.metric,
            "best_value": self.best_value,
            "best_epoch": self.best_epoch,
            "epochs_without_improvement": self.epochs_without_improvement,
        }


def resolve_device(choice: str, env: DistEnv = SINGLE) -> torch.device:
    """auto: CUDA when torch sees it; under torchrun each rank takes the GPU of its LOCAL_RANK."""
    return distributed.rank_device(choice, env)


def resolve_precision(choice: str, device: torch.device) -> str:
    """bf16 autocast on CUDA unless switched off; the CPU keeps float32 (bf16 there is slower and less exact)."""
    if choice == "auto":
        return "bf16" if device.type == "cuda" else "fp32"
    if choice == "bf16" and device.type != "cuda":
        raise ModelInputError("mixed_precision 'bf16' needs a CUDA device; use 'auto' or 'off' on the CPU")
    return "bf16" if choice == "bf16" else "fp32"


def n_batches(n_frames: int, batch_size: int) -> int:
    return -(-n_frames // batch_size)


@dataclass
class EpochStats:
    loss: float
    dice: float
    frames: int


def compiled(module: nn.Module) -> nn.Module:
    """`torch.compile` of a module: an OptimizedModule, itself a module (torch's stubs say only "callable")."""
    return cast(nn.Module, torch.compile(module))


def make_adam(groups: list[dict], lr: float) -> torch.optim.Optimizer:
    """Adam with its fused kernel (one pass over each parameter instead of a dozen elementwise ones: on 2 CPU
    cores the physics-first net's 4M-weight dense stage steps in 2 ms instead of 14, the same arithmetic);
    torch builds without a fused CPU Adam (before 2.4) take the per-tensor loop."""
    try:
        return torch.optim.Adam(groups, lr=lr, fused=True)
    except RuntimeError:  # "fused=True requires all the params to be floating point Tensors of supported devices"
        return torch.optim.Adam(groups, lr=lr)


def run_epoch(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    loss_fn: Loss,
    batches: Iterable[Batch],
    device: torch.device,
    channels_last: bool = False,
    report: EpochProgress | None = None,
    stop: threading.Event | None = None,
    precision: str = "fp32",
    env: DistEnv = SINGLE,
) -> EpochStats | None:
    """One pass of Adam steps; None when stopped before the end. Running sums stay on the device between reports.

    Under data parallelism the epoch's loss and Dice are summed over ranks (every rank returns the same
    numbers), and a stop request on any rank stops all of them before the same batch.
    """
    model.train()
    loss_sum = torch.zeros((), device=device)
    dice_sum = torch.zeros((), device=device)
    frames = 0
    guard = NonFiniteGuard(device, env)
    for batch, (x, y) in enumerate(batches, start=1):
        if stop is not None and distributed.any_rank(stop.is_set(), device, env):
            return None
        x, y = to_device(x, device, channels_last), y.to(device, non_blocking=True)
        optimizer.zero_grad(set_to_none=True)
        with autocast(device, precision):
            pred = model(x)
        pred = pred.float()  # the loss's sums in float32: bf16 would round the Dice terms
        loss = loss_fn(pred, y)
        guard.check(loss, batch)  # before the step: a NaN gradient would spoil every parameter
        loss.backward()
        optimizer.step()
        with torch.no_grad():
            loss_sum += loss.detach() * len(x)
            dice_sum += dice_soft(pred.detach(), y).sum()
        frames += len(x)
        if report is not None and report.due(batch):
            report.batch(batch, loss_sum.item() / frames, dice_sum.item() / frames)
    loss_total, dice_total, frames_total = distributed.all_sum([loss_sum.item(), dice_sum.item(), frames], device, env)
    guard.check_epoch(loss_total)  # the same sum on every rank: all of them stop together
    return EpochStats(loss_total / max(frames_total, 1), dice_total / max(frames_total, 1), int(frames_total))


class NonFiniteLoss(Exception):
    """Raised inside `run_epoch` at the first batch whose loss is NaN or infinite (`Trainer.run` names the
    epoch and the run and raises `TrainingDiverged`)."""

    def __init__(self, batch: int, loss: float) -> None:
        super().__init__(f"batch {batch}: loss {loss}")
        self.batch, self.loss = batch, loss


class NonFiniteGuard:
    """Finds the first batch of an epoch whose loss is not finite. On one CPU process each loss is checked
    as it comes (reading it costs nothing there), so the step never runs on it. On CUDA, reading every loss
    would stall the pipeline, and under data parallelism one rank stopping alone would leave the others
    waiting in an all-reduce: there the first bad batch is noted on the device and the epoch's summed loss
    (the same number on every rank) stops them all at the epoch's end."""

    def __init__(self, device: torch.device, env: DistEnv) -> None:
        self.each_batch = device.type == "cpu" and not env.distributed
        self.first_bad = torch.zeros((), dtype=torch.long, device=device)

    def check(self, loss: torch.Tensor, batch: int) -> None:
        if self.each_batch:
            value = float(loss.detach())
            if not math.isfinite(value):
                raise NonFiniteLoss(batch, value)
            return
        bad = (self.first_bad == 0) & ~torch.isfinite(loss.detach())
        self.first_bad = torch.where(bad, torch.full_like(self.first_bad, batch), self.first_bad)

    def check_epoch(self, loss_total: float) -> None:
        if not math.isfinite(loss_total):
            raise NonFiniteLoss(int(self.first_bad.item()) or 1, loss_total)


@contextlib.contextmanager
def open_data(data: Data) -> Iterator[FrameSource]:
    """Paths are opened (and closed afterwards) through the acquisition reader; sources are used as they are."""
    if isinstance(data, str | Path):
        data = [data]
    paths = [d for d in data if isinstance(d, str | Path)] if isinstance(data, Sequence) else []
    if paths and len(paths) == len(data):  # type: ignore[arg-type]  # a Sequence here
        with open_captures(paths) as source:
            yield source
    else:
        yield as_source(cast("FrameSource | Sequence[FrameSource]", data))  # the paths were handled above


def _check_resume(stored: TrainConfig, given: TrainConfig | None) -> TrainConfig:
    if given is None:
        return stored
    a, b = stored.model_dump(), given.model_dump()
    changed = sorted(k for k in a if a[k] != b[k] and k not in RESUMABLE_CHANGES)
    if changed:
        allowed = ", ".join(sorted(RESUMABLE_CHANGES))
        raise ModelInputError(f"cannot resume with a different {', '.join(changed)}; only {allowed} may change")
    return given


def _check_same_data(recorded: list[dict], source: FrameSource, path: Path) -> None:
    """The same files in the same order, each at least as long as when training started (it may have grown)."""
    current = source.describe()
    if not same_data(recorded, current):
        raise ModelInputError(f"{path} was trained on {recorded}, not on {current}")


class Trainer:
    """State of one run; `train()` below is the entry point."""

    def __init__(
        self,
        config: TrainConfig,
        source: FrameSource,
        out_dir: Path,
        checkpoint: dict | None,
        env: DistEnv = SINGLE,
        device: torch.device | None = None,
    ) -> None:
        self.config, self.out_dir, self.env = config, out_dir, env
        self.device = device if device is not None else resolve_device(config.device, env)
        self.precision = resolve_precision(config.mixed_precision, self.device)
        self.pinned = config.pin_memory and self.device.type == "cuda"
        self.local_batch = distributed.local_batch_size(config.batch_size, env)
        torch.manual_seed(config.seed)
        self.data_generator = torch.Generator().manual_seed(config.seed)
        self.kind: ModelKind = model_kind(config.model.kind)
        if checkpoint is None:
            arch = self.kind.plan(config.model, source.speckle_shape, source.target_shape)
            self.data: PreparedData = prepare_data(source, config, device=self.device)
        else:
            arch = self.kind.arch_from_dict(checkpoint["arch"])
            split, norm = Split.from_dict(checkpoint["split"]), Normalisation.from_dict(checkpoint["normalisation"])
            self.data = prepare_data(source, config, split, norm, device=self.device)
        self.arch = arch
        self.model = self.kind.build(arch).to(self.device)
        if config.channels_last:
            # torch's stubs omit Module.to's memory_format keyword, which it accepts (and documents)
            self.model = self.model.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
        self.initialisation: dict | None = None
        if checkpoint is not None:
            self.model.load_state_dict(checkpoint["model"])
            self.initialisation = checkpoint.get("initialisation")
        elif self.kind.data_initialised:
            # rank 0 only: DistributedDataParallel below hands its parameters to every rank
            self.initialisation = self.kind.initialise(self.model, self.data, config) if env.is_main else {}
        # the compiled (and, under torchrun, DDP) wrapper runs the steps; checkpoints take the plain module's
        # state (no wrapper prefixes), and validation runs the compiled plain module (no collectives in it)
        self.eval_net: nn.Module = compiled(self.model) if config.compile_model else self.model
        self.net: nn.Module = self.eval_net
        if env.distributed:
            if self.device.type == "cuda":
                # global-batch statistics, as one process would compute them (CPU has no SyncBatchNorm in torch)
                self.model = nn.SyncBatchNorm.convert_sync_batchnorm(self.model)
                self.eval_net = compiled(self.model) if config.compile_model else self.model
            # DDP broadcasts rank 0's parameters at construction, so every rank starts from the same net
            ids = [self.device.index] if self.device.type == "cuda" else None
            ddp = DistributedDataParallel(self.model, device_ids=ids)
            self.net = compiled(ddp) if config.compile_model else ddp
        self.optimizer = make_adam(self.kind.parameter_groups(self.model, config), config.lr)
        self.loss_fn = make_loss(config)
        self.early = EarlyStopping(config.patience_epochs, config.min_improvement, config.selection_metric)
        self.history: list[dict] = []
        self.epoch = 0
        self.data_record = source.describe()
        if checkpoint is not None:
            self._restore(checkpoint)

    def _restore(self, ck: dict) -> None:
        self.optimizer.load_state_dict(ck["optimizer"])
        self.epoch, self.history = int(ck["epoch"]), list(ck["history"])
        self.early = EarlyStopping(self.config.patience_epochs, self.config.min_improvement, **ck["early_stopping"])
        restore_rng(ck["rng"], self.data_generator)
        self.data_record = list(ck["data"])

    def _common(self) -> dict:
        return {
            "epoch": self.epoch,
            "config": self.config.model_dump(mode="json"),
            "model_kind": self.kind.name,
            "arch": self.arch.to_dict(),
            "model": self.model.state_dict(),
            "normalisation": self.data.normalisation.to_dict(),
            "split": self.data.split.to_dict(),
            "data": self.data_record,
            "precision": self.precision,  # what this run computed in: "bf16" (autocast) or "fp32"
            "pin_memory": self.pinned,
            "world_size": self.env.world_size,
            "initialisation": self.initialisation,  # what a data-initialised kind started from (None: random)
        }

    def save(self, improved: bool) -> None:
        """Rank 0 writes; the other ranks hold the same state (DDP keeps the parameters equal)."""
        if not self.env.is_main:
            return
        common = self._common()
        if improved:
            save_checkpoint(self.out_dir / BEST_CHECKPOINT, {**common, "kind": "model", "val": self.history[-1]})
        save_checkpoint(
            self.out_dir / LAST_CHECKPOINT,
            {
                **common,
                "kind": "training",
                "optimizer": self.optimizer.state_dict(),
                "history": self.history,
                "early_stopping": self.early.to_dict(),
                "rng": capture_rng(self.data_generator),
            },
        )
        write_metrics_csv(self.out_dir / METRICS_CSV, self.history)

    def release_process_group(self) -> None:
        """Drop the DistributedDataParallel wrapper (its reducer holds the process group and gloo's pending
        work) while the interpreter is fully alive: freed only at interpreter exit, gloo's threads were seen to
        abort the process ("terminate called without an active exception")."""
        self.net = self.eval_net
        gc.collect()

    def validate(self) -> dict[str, float]:
        """Means over the validation frames; under torchrun each rank measures its share and the sums are pooled."""
        names = tuple(str(k) for k in VALIDATION_METRICS)
        val = self.data.split.val
        if len(val) == 0:
            return {k: math.nan for k in names}
        if not self.env.distributed:
            batches = self.data.frames.batches(val, self.config.batch_size)
            per_frame = collect_metrics(
                self.eval_net, batches, self.device, self.loss_fn, self.config.channels_last, self.precision
            )
            return {k: float(per_frame[k].mean()) for k in names}
        distributed.sync_buffers(self.model, self.env)
        batches = self.data.frames.batches(val, self.local_batch, env=self.env)
        per_frame = collect_metrics(
            self.eval_net, batches, self.device, self.loss_fn, self.config.channels_last, self.precision
        )
        count = len(per_frame.get("dice", ()))  # a rank may have no validation frames (fewer than ranks)
        sums = [float(per_frame[k].sum()) * (count if k == "loss" else 1) if count else 0.0 for k in names]
        *totals, n = distributed.all_sum([*sums, count], self.device, self.env)
        return {k: total / n for k, total in zip(names, totals, strict=True)}

    def _diverged(self, epoch: int, what: str, batch: int | None) -> TrainingDiverged:
        """Nothing of the non-finite epoch is saved: the run folder keeps the last finite epoch's checkpoints."""
        if not self.history:
            kept = "no checkpoint was written"
        elif self.epoch:
            kept = f"kept the checkpoints of epoch {self.epoch}"
        else:  # a data-initialised kind saved its starting point as epoch 0
            kept = "kept the checkpoints of the initialisation (epoch 0)"
        message = (
            f"{self.out_dir}: training stopped at epoch {epoch}, {what} (not finite; lr {self.config.lr:g}); "
            f"{kept}: lower the learning rate or check the data, and train afresh"
        )
        if self.env.is_main:  # into training.log; the console shows the raised error's one line instead
            logger.error(message, extra={"also_raised": True})
        return TrainingDiverged(message, epoch, batch)

    def validate_initialisation(self, show: bool) -> None:
        """Epoch 0 of a data-initialised kind: the starting point's validation metrics, the first best checkpoint."""
        start_s = time.perf_counter()
        val = self.validate()
        if len(self.data.split.val) and not math.isfinite(val["loss"]):
            raise self._diverged(0, f"the initialisation's validation loss is {val['loss']}", None)  # before saving
        self.history.append(
            {
                "epoch": 0,
                "train_loss": math.nan,
                "train_dice": math.nan,
                **{f"val_{k}": v for k, v in val.items()},
                "lr": float(self.optimizer.param_groups[-1]["lr"]),
                "seconds": time.perf_counter() - start_s,
            }
        )
        improved = self.early.update(0, val[self.early.metric])
        self.save(improved)
        if self.env.is_main:
            line = (
                f"epoch 0 (the initialisation): val loss {val['loss']:.4f}, val Dice {val['dice']:.4f}, "
                f"val PCC {val['pcc']:.4f}, val SSIM {val['ssim']:.4f}"
            )
            logger.info(line)
            if show:
                tqdm.write(line, file=sys.stderr)

    def best_val(self, metric: str) -> float:
        """Validation `metric` of the best epoch (NaN before any epoch)."""
        row = next((h for h in self.history if h["epoch"] == self.early.best_epoch), None)
        return float(row[f"val_{metric}"]) if row is not None else math.nan

    def run(self, progress: ProgressCallback | None, stop: threading.Event | None, show: bool) -> str:
        cfg = self.config
        per_epoch = n_batches(-(-len(self.data.split.train) // self.env.world_size), self.local_batch)
        if self.kind.data_initialised and not self.history:
            self.validate_initialisation(show)
        while self.epoch < cfg.epochs:
            if self.early.exhausted:
                return "early_stopping"
            if stop is not None and distributed.any_rank(stop.is_set(), self.device, self.env):
                return "stopped"
            start_s = time.perf_counter()
            epoch = self.epoch + 1
            report = EpochProgress(epoch, cfg.epochs, per_epoch, progress, show and self.env.is_main)
            batches = self.data.frames.batches(self.data.split.train, self.local_batch, self.data_generator, self.env)
            try:
                stats = run_epoch(
                    self.net,
                    self.optimizer,
                    self.loss_fn,
                    batches,
                    self.device,
                    cfg.channels_last,
                    report,
                    stop,
                    self.precision,
                    self.env,
                )
            except NonFiniteLoss as bad:
                raise self._diverged(epoch, f"batch {bad.batch}: the loss is {bad.loss}", bad.batch) from None
            finally:
                report.close()
            if stats is None:
                return "stopped"
            val = self.validate()
            if len(self.data.split.val) and not math.isfinite(val["loss"]):  # SSIM may be NaN (tiny images)
                raise self._diverged(epoch, f"the validation loss is {val['loss']}", None)  # before saving
            self.epoch = epoch
            self.history.append(
                {
                    "epoch": epoch,
                    "train_loss": stats.loss,
                    "train_dice": stats.dice,
                    **{f"val_{k}": v for k, v in val.items()},
                    "lr": float(self.optimizer.param_groups[-1]["lr"]),
                    "seconds": time.perf_counter() - start_s,
                }
            )
            improved = self.early.update(epoch, val[self.early.metric])
            self.save(improved)
            if self.env.is_main:
                logger.info(
                    "epoch %d/%d: loss %.4f, val loss %.4f, val Dice %.4f, val PCC %.4f, val SSIM %.4f, %.1f s%s",
                    *(epoch, cfg.epochs, stats.loss, val["loss"], val["dice"], val["pcc"], val["ssim"]),
                    *(self.history[-1]["seconds"], " (best so far)" if improved else ""),
                )
            if show and self.env.is_main:
                tqdm.write(
                    f"epoch {epoch}/{cfg.epochs}: loss {stats.loss:.4f}, val loss {val['loss']:.4f}, "
                    f"val Dice {val['dice']:.4f}, val PCC {val['pcc']:.4f}, val SSIM {val['ssim']:.4f}",
                    file=sys.stderr,  # with the bars, keeping stdout for results (e.g. --json)
                )
            if progress is not None:
                progress(ProgressEvent("epoch", epoch, cfg.epochs, per_epoch, per_epoch, stats.loss, stats.dice, val))
        return "early_stopping" if self.early.exhausted else "completed"


def train(
    config: TrainConfig | None,
    data: Data,
    out_dir: str | Path,
    resume: bool = False,
    progress: ProgressCallback | None = None,
    stop: threading.Event | None = None,
    show_progress: bool = True,
) -> TrainResult:
    """Train a net of `config.model`'s kind on `data` (files, or sources) into `out_dir`; `resume=True` continues
    its last checkpoint.

    On resume `config` may be None (the stored one is used) or differ only in epochs, patience or device.
    Under torchrun (RANK / WORLD_SIZE in the environment) every rank calls this with the same arguments:
    the process group is joined here (and left at the end when this call created it), and every rank
    returns the same result; only rank 0 writes to `out_dir`, which must be shared by all nodes' ranks.
    """
    env = distributed.detect()
    out_dir = Path(out_dir)
    last = out_dir / LAST_CHECKPOINT
    checkpoint = None
    if resume:
        checkpoint = load_checkpoint(last, required=(*TRAINING_KEYS, "early_stopping"))
        config = _check_resume(TrainConfig.model_validate(checkpoint["config"]), config)
    elif last.exists():
        raise ModelInputError(f"{out_dir} already holds a run ({last.name}); resume it or choose another directory")
    if config is None:
        raise ValueError("a TrainConfig is needed unless resuming")
    device = resolve_device(config.device, env)
    distributed.local_batch_size(config.batch_size, env)  # refuse an indivisible batch before anything starts
    if env.is_main:
        out_dir.mkdir(parents=True, exist_ok=True)
    start_s = time.perf_counter()
    created, finished, trainer = distributed.init(env, device), False, None
    try:
        with open_data(data) as source:
            if checkpoint is not None:
                _check_same_data(list(checkpoint["data"]), source, last)
            trainer = Trainer(config, source, out_dir, checkpoint, env, device)
            if env.is_main:
                atomic_write_text(out_dir / CONFIG_JSON, config.model_dump_json(indent=2))
                logger.info(
                    "%s training in %s on %s: %s net, %d epochs, %s, best on validation %s; %d train / %d "
                    "validation frames",
                    *("resuming" if resume else "starting", out_dir, trainer.device, trainer.kind.name, config.epochs),
                    *(config.loss, config.selection_metric, len(trainer.data.split.train), len(trainer.data.split.val)),
                )
            reason = trainer.run(progress, stop, show_progress)
            if env.is_main:
                logger.info(
                    "training ended (%s) after epoch %d; best epoch %s, val %s %.4f",
                    *(reason, trainer.epoch, trainer.early.best_epoch, trainer.early.metric, trainer.early.best_value),
                )
        finished = True
    finally:
        if created:
            if trainer is not None:
                trainer.release_process_group()
            distributed.shutdown(wait_for_all=finished)
    if progress is not None:
        progress(ProgressEvent("done", trainer.epoch, config.epochs, stop_reason=reason))
    return TrainResult(
        out_dir=out_dir,
        epochs_completed=trainer.epoch,
        best_epoch=trainer.early.best_epoch,
        best_val_dice=trainer.best_val("dice"),
        stop_reason=reason,
        history=trainer.history,
        device=str(trainer.device),
        in_memory=trainer.data.frames.in_memory,
        seconds=time.perf_counter() - start_s,
        world_size=env.world_size,
        precision=trainer.precision,
        model_kind=trainer.kind.name,
        selection_metric=trainer.early.metric,
        best_val_pcc=trainer.best_val("pcc"),
    )
