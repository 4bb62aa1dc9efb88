"""Training as a service for the GUI: the trainer, its evaluation and sample reconstructions, in a child process.

Why a child process: importing torch holds the interpreter lock for about 0.4 s and a training loop keeps it
busy, so inside the GUI's process either would freeze the window. A child also stops cleanly, and a crash in
it cannot take the panel (or a running capture) down. Captured files are read by the child through the
acquisition reader (SWMR), so a file that the panel is still capturing can be trained on.

The protocol is JSON lines. The parent writes the job (one line), then "stop" (end training at the next
batch, still evaluate) or "quit" (end at the next batch, skip the evaluation). The child writes events:
batch, epoch, samples, done, evaluation, error; arrays travel as base64. Its stderr goes to a log file.
This module imports neither torch nor the model package at import time; the child does.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import subprocess
import sys
import threading
import traceback
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any, Literal

import numpy as np

from speckle_lab.lab.exit_codes import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from speckle_lab.lab.logging_setup import TRAINING_LOG, log_to_stream

Event = dict[str, Any]
LOG_NAME = TRAINING_LOG


class TrainingError(RuntimeError):
    """Training (or evaluation) could not run; the message is the child's one-line reason."""


@dataclass(frozen=True)
class TrainingJob:
    """What the child does: train a run on `data` into `out_dir` (then evaluate it), or only evaluate it."""

    data: tuple[str, ...]
    out_dir: str
    config: dict[str, Any] = field(default_factory=dict)  # TrainConfig keys; validated in the child
    kind: Literal["train", "evaluate"] = "train"
    resume: bool = False
    evaluate: bool = True  # after training: metrics of the best net on the run's test split
    samples: int = 4  # reconstructions sent after every epoch
    nice: int = 5  # lower priority than the panel and the capture, which must stay responsive
    threads: int | None = None  # torch CPU threads; None: all cores but one, which stays with the panel


class TrainingProcess:
    """One child process running one job. `events()` blocks; read it from a worker thread."""

    def __init__(self, job: TrainingJob, log_path: Path | None = None) -> None:
        self.job = job
        self.log_path = Path(log_path) if log_path is not None else Path(job.out_dir) / LOG_NAME
        self._proc: subprocess.Popen[str] | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        root = str(Path(__file__).resolve().parents[1])
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}
        with open(self.log_path, "a", encoding="utf-8") as log:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "speckle_lab.lab.training_service"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
                encoding="utf-8",
                bufsize=1,
                env=env,
            )
        self._send(json.dumps(asdict(self.job)))

    def events(self) -> Iterator[Event]:
        """The child's events, in order, until it exits."""
        if self._proc is None or self._proc.stdout is None:
            raise RuntimeError("start() the training process first")
        for line in self._proc.stdout:
            if line.strip():
                yield decode_event(json.loads(line))
        self._proc.wait()

    def stop(self) -> None:
        """End training at the next batch; the finished epochs stay in the run folder and are evaluated."""
        self._send("stop")

    def quit(self) -> None:
        """End at the next batch and skip the evaluation (closing the panel)."""
        self._send("quit")

    def wait(self, timeout_s: float | None = None) -> int | None:
        if self._proc is None:
            return None
        try:
            return self._proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            return None

    def kill(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def _send(self, line: str) -> None:
        with self._lock:
            if self._proc is None or self._proc.stdin is None or self._proc.poll() is not None:
                return
            with contextlib.suppress(OSError, ValueError):  # the child has exited: nothing left to tell it
                self._proc.stdin.write(line + "\n")
                self._proc.stdin.flush()


# -- arrays in JSON -----------------------------------------------------------------------------------
def encode_array(array: np.ndarray) -> dict[str, Any]:
    array = np.ascontiguousarray(array)
    return {
        "__array__": True,
        "dtype": str(array.dtype),
        "shape": list(array.shape),
        "data": base64.b64encode(array.tobytes()).decode("ascii"),
    }


def decode_event(event: Event) -> Event:
    return {key: _decode(value) for key, value in event.items()}


def _decode(value: Any) -> Any:
    if isinstance(value, dict) and value.get("__array__"):
        data = base64.b64decode(value["data"])
        return np.frombuffer(data, dtype=np.dtype(value["dtype"])).reshape(value["shape"]).copy()
    return value


# -- the child ----------------------------------------------------------------------------------------
class _Channel:
    """The child's side: events out on the protocol stream, commands in on stdin."""

    def __init__(self, out: IO[str]) -> None:
        self._out = out
        self._lock = threading.Lock()
        self.stop = threading.Event()
        self.quit = threading.Event()

    def send(self, event: str, **values: Any) -> None:
        payload = {
            "event": event,
            **{k: encode_array(v) if isinstance(v, np.ndarray) else v for k, v in values.items()},
        }
        with self._lock:
            self._out.write(json.dumps(payload) + "\n")
            self._out.flush()

    def listen(self, commands: IO[str]) -> None:
        for line in commands:
            command = line.strip()
            if command in ("stop", "quit"):
                self.stop.set()
            if command == "quit":
                self.quit.set()
        self.stop.set()  # the parent is gone: stop, and do not bother evaluating
        self.quit.set()


def _samples(out_dir: Path, source: Any, n: int) -> dict[str, np.ndarray]:
    """Reconstructions of the first `n` validation frames by the net of the last finished epoch."""
    from speckle_lab.model.evaluate import load_trained
    from speckle_lab.model.trainer import LAST_CHECKPOINT

    trained = load_trained(out_dir, device="cpu", checkpoint=LAST_CHECKPOINT)
    split = trained.split
    rows = next((s for s in (split.val, split.test, split.train) if len(s)), split.train)[:n]
    pairs = [source.read(int(row), int(row) + 1) for row in rows]
    speckle = np.concatenate([s for s, _ in pairs])
    target = np.concatenate([t for _, t in pairs])
    return {"speckle": speckle, "target": target, "prediction": trained.predict(speckle).astype(np.float32)}


def default_threads() -> int:
    return max(1, (os.cpu_count() or 2) - 1)


def _run_job(job: TrainingJob, channel: _Channel) -> None:
    import torch

    from speckle_lab.model.config import TrainConfig
    from speckle_lab.model.evaluate import evaluate
    from speckle_lab.model.progress import ProgressEvent
    from speckle_lab.model.sources import open_captures
    from speckle_lab.model.trainer import BEST_CHECKPOINT, train

    torch.set_num_threads(job.threads or default_threads())
    out_dir = Path(job.out_dir)
    with open_captures(list(job.data)) as source:
        if job.kind == "evaluate":
            channel.send("evaluation", result=evaluate(out_dir, source))
            return

        def progress(event: ProgressEvent) -> None:
            values = {
                "epoch": event.epoch,
                "epochs": event.epochs,
                "batch": event.batch,
                "n_batches": event.n_batches,
                "loss": event.loss,
                "dice": event.dice,
            }
            if event.kind == "batch":
                channel.send("batch", **values)
            elif event.kind == "epoch":
                channel.send("epoch", **values, val=event.val)
                if job.samples:
                    try:
                        channel.send("samples", epoch=event.epoch, **_samples(out_dir, source, job.samples))
                    except Exception:  # a preview is not worth stopping the training for
                        traceback.print_exc()

        config = TrainConfig.model_validate(job.config) if job.config or not job.resume else None
        result = train(
            config, source, out_dir, resume=job.resume, progress=progress, stop=channel.stop, show_progress=False
        )
        channel.send(
            "done",
            stop_reason=result.stop_reason,
            epochs_completed=result.epochs_completed,
            best_epoch=result.best_epoch,
            best_val_dice=result.best_val_dice,
            best_val_pcc=result.best_val_pcc,
            selection_metric=result.selection_metric,
            model_kind=result.model_kind,
            device=result.device,
            seconds=result.seconds,
            run_dir=str(out_dir),
        )
        if job.evaluate and not channel.quit.is_set() and (out_dir / BEST_CHECKPOINT).exists():
            channel.send("evaluation", result=evaluate(out_dir, source))


def _one_line(error: BaseException) -> str:
    from pydantic import ValidationError

    if isinstance(error, ValidationError):
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "(top level)"
        return f"training configuration: {where}: {first['msg']}"
    if isinstance(error, OSError) and error.strerror:
        return f"{error.filename or ''}: {error.strerror}".lstrip(": ")
    return str(error) or type(error).__name__


def child_main(commands: IO[str], out: IO[str], lower_priority: Callable[[int], object] | None = None) -> int:
    """Run the job read from `commands`, reporting on `out`. Returns the exit code."""
    channel = _Channel(out)
    try:
        job_data = json.loads(commands.readline())
        job = TrainingJob(**{**job_data, "data": tuple(job_data["data"])})
    except (ValueError, TypeError, KeyError) as error:
        channel.send("error", kind="TrainingError", message=f"bad job: {error}")
        return EXIT_USAGE
    if lower_priority is not None and job.nice:
        with contextlib.suppress(OSError):
            lower_priority(job.nice)
    threading.Thread(target=channel.listen, args=(commands,), name="commands", daemon=True).start()
    try:
        _run_job(job, channel)
    except Exception as error:
        traceback.print_exc()  # into the log file
        channel.send("error", kind=type(error).__name__, message=_one_line(error))
        return EXIT_FAILED
    return EXIT_OK


def _main() -> int:
    # Anything else that writes to stdout (a library's print) goes to the log, not into the protocol.
    protocol = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8", buffering=1)
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    log_to_stream(sys.stderr)  # the trainer's INFO records (start, every epoch, end) into training.log
    return child_main(sys.stdin, protocol, getattr(os, "nice", None))


if __name__ == "__main__":
    sys.exit(_main())
