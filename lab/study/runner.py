"""Run the study: capture every dataset on one simulated bench, train a net per training set, evaluate every
net on every test set, and hand the numbers to the report."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from acquisition.datafile import CaptureReader
from acquisition.plan import CapturePlan
from acquisition.scheduler import CaptureError
from lab.bench_config import BenchConfig, load_bench
from lab.capture_queue import CaptureJob, CaptureQueue
from lab.commands.capture import ProgressBar
from lab.study.design import StudyDesign

Log = Callable[[str], None]


def bench_config(design: StudyDesign) -> BenchConfig:
    config = load_bench(None)
    return config.with_changes(**design.bench_changes) if design.bench_changes else config


def capture_datasets(design: StudyDesign, data_dir: Path, log: Log) -> dict[str, Path]:
    """Every dataset through the same medium, as on a real bench where all are captured in one session."""
    data_dir.mkdir(parents=True, exist_ok=True)
    paths = {}
    with CaptureQueue(bench_config(design), "bench configuration") as queue:
        for i, spec in enumerate(design.datasets, 1):
            path = data_dir / f"{spec.key}.h5"
            log(f"[capture {i}/{len(design.datasets)}] {spec.label}: {spec.plan['n_frames']} frames")
            job = CaptureJob(spec.key, path, CapturePlan.model_validate(spec.plan), overwrite=True)
            bar = ProgressBar(spec.key, quiet=False)
            try:
                result = queue.run(job, on_progress=bar)
            finally:
                bar.close()
            if not result.ok:
                raise CaptureError(f"capture of {spec.key} stopped: {result.message}")
            paths[spec.key] = path
    return paths


def train_models(design: StudyDesign, paths: dict[str, Path], runs_dir: Path, log: Log) -> dict[str, dict]:
    from model.config import TrainConfig
    from model.trainer import train

    summaries = {}
    for i, spec in enumerate(design.training_sets, 1):
        run_dir = runs_dir / spec.key.removeprefix("train_")
        log(f"[train {i}/{len(design.training_sets)}] U-Net on {spec.label}")
        result = train(TrainConfig.model_validate(design.train), [str(paths[spec.key])], run_dir)
        summaries[spec.key] = {
            "run_dir": str(run_dir),
            "epochs_completed": result.epochs_completed,
            "best_epoch": result.best_epoch,
            "best_val_dice": result.best_val_dice,
            "stop_reason": result.stop_reason,
            "seconds": round(result.seconds, 1),
            "device": result.device,
        }
    return summaries


def evaluate_all(
    design: StudyDesign, paths: dict[str, Path], trained: dict[str, dict], figures_dir: Path, log: Log
) -> dict[str, dict[str, dict]]:
    """metrics[train key][test key]; the column `own` is the net's held-out split of its own training set."""
    from model.evaluate import evaluate, save_figures

    figures_dir.mkdir(parents=True, exist_ok=True)
    table: dict[str, dict[str, dict]] = {}
    for spec in design.training_sets:
        run_dir = trained[spec.key]["run_dir"]
        log(f"[evaluate] {spec.label} net on every test set")
        row = {"own": evaluate(run_dir, [str(paths[spec.key])], subset="test")}
        for test in design.test_sets:
            row[test.key] = evaluate(run_dir, [str(paths[test.key])], subset="all")
            save_figures(run_dir, [str(paths[test.key])], figures_dir, design.figures_per_pair, "all",
                         prefix=f"{spec.key}_on_{test.key}_")  # fmt: skip
        table[spec.key] = row
    return table


def mean_image_baseline(design: StudyDesign, paths: dict[str, Path]) -> dict[str, dict[str, float]]:
    """PCC of each training set's mean target with every test target: what a net that learned nothing scores."""
    targets = {}
    for spec in design.datasets:
        with CaptureReader(paths[spec.key]) as reader:
            targets[spec.key] = reader.frames().target.reshape(reader.n_frames, -1).astype(np.float64)
    baseline = {}
    for spec in design.training_sets:
        mean = targets[spec.key].mean(axis=0)
        mean = (mean - mean.mean()) / (mean.std() or 1.0)
        row = {}
        for test in design.test_sets:
            t = targets[test.key]
            centred = (t - t.mean(axis=1, keepdims=True)) / np.maximum(t.std(axis=1, keepdims=True), 1e-12)
            row[test.key] = float(np.mean(centred @ mean / mean.size))
        baseline[spec.key] = row
    return baseline


def dataset_facts(design: StudyDesign, paths: dict[str, Path]) -> dict[str, dict]:
    facts = {}
    for spec in design.datasets:
        with CaptureReader(paths[spec.key]) as reader:
            facts[spec.key] = {
                "label": spec.label,
                "role": spec.role,
                "file": str(paths[spec.key]),
                "frames": reader.n_frames,
                "plan": reader.plan,
                "target_stats": reader.target_stats,
                "reference_correlation_min": float(min(reader.references()[3], default=float("nan"))),
            }
    return facts


def run_study(design: StudyDesign, out_dir: Path, log: Log = print) -> dict:
    started = time.monotonic()
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = capture_datasets(design, out_dir / "data", log)
    trained = train_models(design, paths, out_dir / "runs", log)
    metrics = evaluate_all(design, paths, trained, out_dir / "figures", log)
    config = bench_config(design)
    results = {
        "study": design.name,
        "bench": config.to_dict(),
        "datasets": dataset_facts(design, paths),
        "training": {"config": design.train, "runs": trained},
        "metrics": {
            train_key: {test_key: {"n_frames": r["n_frames"], **r["metrics"]} for test_key, r in row.items()}
            for train_key, row in metrics.items()
        },
        "mean_image_baseline_pcc": mean_image_baseline(design, paths),
        "notes": design.notes,
        "seconds": round(time.monotonic() - started, 1),
    }
    (out_dir / "results.json").write_text(json.dumps(results, indent=2))
    return results
