"""One rank of a data-parallel test run, started by torchrun from tests/model/test_distributed.py.

Trains the tests' synthetic data with the given TrainConfig (JSON) into OUT_DIR through the trainer's own
`train()`, like `speckle-lab train` does under torchrun. Test instruments, none of them in the trainer:
- every checkpoint write is recorded (rank, file, epoch) in OUT_DIR/../saves-<rank>.log, to show that
  only rank 0 writes and each file once per epoch;
- each rank writes its TrainResult to OUT_DIR/../result-<rank>.json (all ranks must agree);
- --kill-rank R --kill-epoch E: rank R kills itself with SIGKILL at the first batch of epoch E.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
from pathlib import Path

import torch
from model_helpers import synthetic

import speckle_lab.model.trainer
from speckle_lab.model.config import TrainConfig
from speckle_lab.model.progress import ProgressEvent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out", type=Path)
    parser.add_argument("--config", required=True, help="TrainConfig as JSON")
    parser.add_argument("--frames", type=int, default=320)
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--kill-rank", type=int)
    parser.add_argument("--kill-epoch", type=int)
    args = parser.parse_args()
    torch.set_num_threads(1)
    rank = int(os.environ["RANK"])
    logs = args.out.parent

    real_save = speckle_lab.model.trainer.save_checkpoint

    def recorded_save(path: Path, payload: dict) -> None:
        with open(logs / f"saves-{rank}.log", "a") as log:
            log.write(f"{rank} {Path(path).name} {payload['epoch']}\n")
        real_save(path, payload)

    speckle_lab.model.trainer.save_checkpoint = recorded_save

    def progress(event: ProgressEvent) -> None:
        if rank == args.kill_rank and event.kind == "batch" and event.epoch == args.kill_epoch:
            os.kill(os.getpid(), signal.SIGKILL)

    config = TrainConfig.model_validate_json(args.config)
    result = speckle_lab.model.trainer.train(
        None if args.resume else config,
        synthetic(args.frames),
        args.out,
        resume=args.resume,
        progress=progress,
        show_progress=False,
    )
    (logs / f"result-{rank}.json").write_text(
        json.dumps(
            {
                "epochs_completed": result.epochs_completed,
                "stop_reason": result.stop_reason,
                "best_epoch": result.best_epoch,
                "history": [{k: v for k, v in h.items() if k != "seconds"} for h in result.history],
                "world_size": result.world_size,
            }
        )
    )


if __name__ == "__main__":
    main()
