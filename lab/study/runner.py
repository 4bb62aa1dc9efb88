"""Run the study: for every condition and repeat, capture its datasets on a fresh simulated bench, train a net
per training set, score every net and its two baselines on every test set, probe it with single spots, and
hand the numbers to the findings and the report.

`capture_plans` is the one place that drives the bench (a list of plans in, files out): the capture-queue
service can replace it without touching the rest.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from speckle_lab.acquisition.datafile import CaptureReader
from speckle_lab.acquisition.plan import CapturePlan
from speckle_lab.acquisition.scheduler import CaptureError
from speckle_lab.acquisition.targets import Placements, place_block
from speckle_lab.acquisition.targets.homogeneity import homogeneity_of
from speckle_lab.lab.bench_config import BenchConfig, load_bench
from speckle_lab.lab.capture_queue import CaptureJob, CaptureQueue
from speckle_lab.lab.commands.capture import ProgressBar
from speckle_lab.lab.study.design import MEDIUM_SEED, Condition, DatasetSpec, StudyDesign
from speckle_lab.lab.study.findings import findings, summarise
from speckle_lab.lab.study.probes import heat_maps

Log = Callable[[str], None]
PREDICT_BATCH = 256


def bench_config(design: StudyDesign, condition: Condition | None = None, repeat: int = 0) -> BenchConfig:
    """The study's bench for one repeat: its own medium seed, and the condition's medium changes."""
    medium = {"seed": MEDIUM_SEED + repeat, **(condition.medium if condition else {})}
    return load_bench(None).with_changes(**{**design.bench_changes, "medium": medium})


def capture_plans(config: BenchConfig, plans: list[tuple[str, dict]], data_dir: Path, log: Log) -> dict[str, Path]:
    """Every (key, plan) through one bench and one medium, as on a real bench in one session; key.h5 files."""
    data_dir.mkdir(parents=True, exist_ok=True)
    paths = {}
    with CaptureQueue(config, "study bench") as queue:
        for key, plan in plans:
            path = data_dir / f"{key}.h5"
            job = CaptureJob(key, path, CapturePlan.model_validate(plan), overwrite=True)
            bar = ProgressBar(key, quiet=True)
            try:
                result = queue.run(job, on_progress=bar)
            finally:
                bar.close()
            if result.laser_failure is not None:  # the laser was not confirmed off: the alarm (exit 3)
                raise result.laser_failure
            if not result.ok:
                raise CaptureError(f"capture of {key} stopped: {result.message}")
            paths[key] = path
    return paths


def read_frames(path: Path, side: int) -> dict[str, np.ndarray]:
    """speckle, target and the DMD images (regenerated from the stored targets and placements) of a file."""
    with CaptureReader(path) as reader:
        frames = reader.frames()
        speckle, target = np.asarray(frames.speckle), np.asarray(frames.target, dtype=np.float32)
        fields = {name: reader.column(name) for name in _placement_names()}
    dmd = place_block(target, Placements.from_fields(fields), None, side, binary=False)
    return {"speckle": speckle, "target": target, "dmd": dmd}


def _placement_names() -> list[str]:
    from dataclasses import fields

    return [f"placement_{f.name}" for f in fields(Placements)]


def pcc_per_frame(pred: np.ndarray, target: np.ndarray) -> np.ndarray:
    """The metric the trainer reports (model.metrics.pcc), for arrays."""
    import torch

    from speckle_lab.model.metrics import pcc

    a, b = (torch.from_numpy(np.array(x, dtype=np.float32)) for x in (pred, target))
    return pcc(a, b).numpy()


def predict(trained, speckle: np.ndarray) -> np.ndarray:
    return np.concatenate(
        [trained.predict(speckle[i : i + PREDICT_BATCH]) for i in range(0, len(speckle), PREDICT_BATCH)]
    )


def _datasets(design: StudyDesign, condition: Condition) -> list[DatasetSpec]:
    keys = [*condition.training, *condition.tests]
    specs = [design.dataset(k) for k in keys]
    if condition.probes:
        specs += design.probe_sets
    return specs


def run_repeat(design: StudyDesign, condition: Condition, repeat: int, out_dir: Path, log: Log) -> dict:
    """One repeat of one condition: PCC tables (U-Net, ridge, mean image) and, with probes, heat maps."""
    from speckle_lab.model.config import TrainConfig
    from speckle_lab.model.evaluate import load_trained
    from speckle_lab.model.ridge import fit_ridge
    from speckle_lab.model.trainer import train

    where = out_dir / "data" / condition.name / f"r{repeat}"
    specs = _datasets(design, condition)
    plans = [(s.key, {**s.plan, **condition.plans.get(s.key, {})}) for s in specs]
    started, cpu = time.monotonic(), time.process_time()
    paths = capture_plans(bench_config(design, condition, repeat), plans, where, log)
    log(f"  captured {len(plans)} sets ({sum(p[1]['n_frames'] for p in plans)} frames) in "
        f"{time.monotonic() - started:.0f} s (cpu {time.process_time() - cpu:.0f} s)")  # fmt: skip
    frames = {key: read_frames(path, design.side) for key, path in paths.items()}
    config = TrainConfig.model_validate({**design.train, **condition.train, "seed": repeat})
    per_frame = config.normalisation == "per_frame"  # the ridge baseline sees its input as the net does
    out: dict = {"pcc": {}, "training": {}, "heat_maps": {}, "homogeneity": {}, "medium_seed": MEDIUM_SEED + repeat}
    for key in condition.training:
        run_dir = out_dir / "runs" / condition.name / f"r{repeat}" / key.removeprefix("train_")
        started, cpu = time.monotonic(), time.process_time()
        result = train(config, [str(paths[key])], run_dir, show_progress=False)
        seconds = {"train": time.monotonic() - started}
        trained = load_trained(run_dir, "cpu")
        train_rows = np.sort(np.asarray(trained.split.train))
        data = frames[key]
        clock = time.monotonic()
        ridge = fit_ridge(data["speckle"][train_rows], data["target"][train_rows], per_frame=per_frame)
        seconds["ridge"] = time.monotonic() - clock
        clock = time.monotonic()
        mean_target = data["target"][train_rows].mean(axis=0)
        row = {}
        for test in condition.tests:
            t = frames[test]
            row[test] = {
                "unet": float(pcc_per_frame(predict(trained, t["speckle"]), t["target"]).mean()),
                "ridge": float(pcc_per_frame(ridge.predict(t["speckle"]), t["target"]).mean()),
                "mean_image": float(pcc_per_frame(np.broadcast_to(mean_target, t["target"].shape), t["target"]).mean()),
            }
        out["pcc"][key] = row
        seconds["score"] = time.monotonic() - clock
        out["training"][key] = {"epochs_completed": result.epochs_completed, "best_epoch": result.best_epoch,
                                "best_val_dice": result.best_val_dice, "stop_reason": result.stop_reason,
                                "seconds": round(time.monotonic() - started, 1), "ridge_lambda": ridge.lam,
                                "device": result.device, "run_dir": str(run_dir),
                                "stage_seconds": {k: round(v, 1) for k, v in seconds.items()}}  # fmt: skip
        out["homogeneity"][key] = homogeneity_of(data["dmd"], design.regions["roi"])
        clock = time.monotonic()
        if condition.probes:
            probes = {s.key: frames[s.key] for s in design.probe_sets}
            out["heat_maps"][key] = heat_maps(design, probes, lambda s, net=trained: predict(net, s), ridge.predict)
        seconds["probes"] = time.monotonic() - clock
        clock = time.monotonic()
        if repeat == 0:
            _figures(design, condition, key, trained, frames, out_dir / "figures")
        seconds["figures"] = time.monotonic() - clock
        seconds["cpu"] = time.process_time() - cpu
        cells = ", ".join(
            f"{test.removeprefix('test_')} {c['unet']:.3f} (ridge {c['ridge']:.3f})" for test, c in row.items()
        )
        stages = " ".join(f"{k} {v:.0f}" for k, v in seconds.items())
        log(f"  [{condition.name} r{repeat}] {key.removeprefix('train_')} net, {result.epochs_completed} epochs, "
            f"{time.monotonic() - started:.0f} s ({stages}): {cells}")  # fmt: skip
    return out


def _figures(design: StudyDesign, condition: Condition, key: str, trained, frames: dict, figures_dir: Path) -> None:
    from speckle_lab.model.figures import plot_reconstructions

    figures_dir.mkdir(parents=True, exist_ok=True)
    for test in condition.tests:
        t = frames[test]
        pick = np.linspace(0, len(t["target"]) - 1, design.figures_per_pair).round().astype(int)
        recon = predict(trained, t["speckle"][pick])
        plot_reconstructions(figures_dir / f"{condition.name}_{key}_on_{test}.png", t["target"][pick],
                             t["speckle"][pick], recon, pick)  # fmt: skip


def run_study(design: StudyDesign, out_dir: Path, log: Log = print) -> dict:
    started, cpu = time.monotonic(), time.process_time()
    out_dir.mkdir(parents=True, exist_ok=True)
    conditions = {}
    for condition in design.conditions:
        repeats = []
        for r in range(condition.repeats):
            log(f"[{condition.name}] {condition.label}: repeat {r + 1}/{condition.repeats} (medium seed "
                f"{MEDIUM_SEED + r}, training seed {r}), {time.monotonic() - started:.0f} s so far")  # fmt: skip
            repeats.append(run_repeat(design, condition, r, out_dir, log))
        conditions[condition.name] = {"label": condition.label, "medium": condition.medium, "train": condition.train,
                                      "plans": condition.plans, "repeats": repeats,
                                      "summary": summarise(repeats)}  # fmt: skip
    results = {
        "study": design.name,
        "bench": bench_config(design).to_dict(),
        "regions": {name: list(r) for name, r in design.regions.items()},
        "datasets": {s.key: {"label": s.label, "role": s.role, "plan": s.plan} for s in design.datasets},
        "training": {"config": design.train},
        "conditions": conditions,
        "findings": findings(conditions["main"]["repeats"]),
        "notes": design.notes,
        "seconds": round(time.monotonic() - started, 1),
        "cpu_seconds": round(time.process_time() - cpu, 1),  # all threads: the load on a shared machine
    }
    (out_dir / "results.json").write_text(json.dumps(results, indent=2, default=_plain))
    return results


def _plain(value: object) -> object:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"not JSON: {type(value).__name__}")
