"""The per-run metrics log: one CSV row per epoch, rewritten from the checkpointed history so it never drifts."""

from __future__ import annotations

import csv
from pathlib import Path

COLUMNS = (
    "epoch",
    "train_loss",
    "train_dice",
    "val_loss",
    "val_dice",
    "val_pcc",
    "val_ssim",
    "val_cs",
    "lr",
    "seconds",
)


def write_metrics_csv(path: Path, history: list[dict]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS, extrasaction="ignore")
        writer.writeheader()
        for row in history:
            writer.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in row.items()})
    tmp.replace(path)


def read_metrics_csv(path: Path) -> list[dict[str, float]]:
    with Path(path).open(newline="") as f:
        return [{k: float(v) for k, v in row.items()} for row in csv.DictReader(f)]
