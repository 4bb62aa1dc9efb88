"""`speckle-lab study scaling`: does a net's test error grow with its training set's intrinsic dimension?

On one simulated bench, training sets of equal size are captured whose targets span a wide range of
intrinsic dimension d_data (binary cells of several sizes, blobs, digits, faces, natural patches, a
mixture), and one shared out-of-distribution (OOD) set. A U-Net is trained on each with the project's
trainer, once per repeat (training seed, hence also split and held-out targets), and tested on its own
held-out targets (1 - PCC and MSE). Then log(error) is fitted against log(d_data), the power law of
Konz and Mazurowski (ICLR 2024), per repeat, giving slope, intercept and R^2 with a spread. Every net is
also analysed by `model.analysis` against the shared OOD set: d_repr per level and linear probes, so the
OOD performance retained at the last level can be read against training diversity (Harun et al. 2024).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from speckle_lab.acquisition.datafile import CaptureReader
from speckle_lab.acquisition.plan import CapturePlan
from speckle_lab.acquisition.targets.diversity import label_sharpness
from speckle_lab.lab.bench_config import load_bench
from speckle_lab.lab.study.common import Log, capture_plans, write_json
from speckle_lab.model.analysis.analyze import analyze_run, json_ready
from speckle_lab.model.analysis.dimension import K_NEIGHBOURS, safe_dimension
from speckle_lab.model.config import TrainConfig

SCALING_JSON = "scaling.json"
SCALING_FIGURE = "scaling.png"
SCHEMA = "speckle-lab.scaling/1"
QUICK_BENCH = {
    "bench": {"name": "simulated bench (quick scaling study)"},
    "dmd": {"macropixel_mirrors": 8, "side_macropixels": 32},
    "camera": {"rows": 64, "cols": 64},
}


@dataclass(frozen=True)
class TargetSet:
    key: str
    label: str
    targets: str  # target source spec
    display: str = "gray"  # "threshold" keeps binary patterns binary after resizing
    diverse: bool = False  # random scale, gain, gradient and jitter per frame (the 100 bundled faces need it)


# Ordered roughly from low to high intrinsic dimension; the study measures it rather than assuming it.
TARGET_SETS = (
    TargetSet("binary_coarse", "binary cells, 4x4 grid", "binary:size=4", display="threshold"),
    TargetSet("binary_medium", "binary cells, 6x6 grid", "binary:size=6", display="threshold"),
    TargetSet("binary_fine", "binary cells, mixed sizes up to full resolution", "binary:size=32", display="threshold"),
    TargetSet("blobs", "blobs and shapes", "blobs:size=32"),
    TargetSet("digits", "MNIST digits", "mnist"),
    TargetSet("faces", "LFW faces (100), random scale/gain/gradient/jitter", "lfw", diverse=True),
    TargetSet("natural", "natural image patches", "natural:size=32"),
    TargetSet("mix", "mixture: digits + natural patches", "mix:mnist=0.5,natural:size=32=0.5"),
)
OOD_SET = TargetSet("ood_sklearn_digits", "scikit-learn 8x8 digits (shared OOD set)", "digits")


@dataclass(frozen=True)
class ScalingDesign:
    name: str
    bench_changes: dict
    target_size: int
    n_frames: int  # per training set (train + validation + test split of the trainer)
    n_ood_frames: int
    repeats: int
    train: TrainConfig  # the seed is the repeat index
    sets: tuple[TargetSet, ...] = TARGET_SETS
    ood: TargetSet = OOD_SET
    notes: list[str] = field(default_factory=list)


def scaling_design(quick: bool) -> ScalingDesign:
    """Quick: the quick demo's bench (32x32 macropixels, 64x64 camera), 12x12 targets. Full: the default
    bench (64x64 macropixels, 128x128 camera), 24x24 targets, more frames, epochs and repeats."""
    model = {"depth": 3, "base_width": 16, "kernel_size": 7}
    if quick:
        train = {"epochs": 8, "patience_epochs": 4, "batch_size": 32, "lr": 1e-3, "device": "cpu", "model": model}
        return ScalingDesign(
            "quick", QUICK_BENCH, 12, 600, 200, 2, TrainConfig.model_validate(train), notes=_notes(quick)
        )
    train = {"epochs": 20, "patience_epochs": 5, "batch_size": 32, "lr": 5e-4, "device": "auto", "model": model}
    return ScalingDesign("full", {}, 24, 2000, 400, 3, TrainConfig.model_validate(train), notes=_notes(quick))


def _notes(quick: bool) -> list[str]:
    return [
        "Every set has the same number of frames. The coarse binary sets draw from few patterns, so some repeat "
        "(n_distinct_targets says how many are distinct). The faces are 100 bundled LFW faces, each frame shown with "
        "a random scale (1-1.3), gain (0.6-1), gradient (<= 0.3) and jitter (0.05), so held-out faces are new views "
        "of seen faces, and their d_data includes those augmentations.",
        "Repeats differ in the training seed, hence in the split (which targets are held out) and the initial weights.",
        "Shared OOD set: scikit-learn's 8x8 digits, upsampled, a source no training set draws from.",
        "Quick run: the quick demo's bench, 12x12 targets, 600 frames a set, 8 epochs, 2 repeats."
        if quick
        else "Full run: the default bench, 24x24 targets, 2000 frames a set, 20 epochs, 3 repeats.",
    ]


def plan_for(design: ScalingDesign, target_set: TargetSet, n_frames: int, seed: int = 7) -> CapturePlan:
    """The capture plan: the target centred in the active area (fixed) or placed with per-frame diversity."""
    side = (design.bench_changes.get("dmd") or {}).get("side_macropixels", 64)
    size = design.target_size
    top = (side - round(size * 1.3)) // 2 if target_set.diverse else (side - size) // 2
    placement: dict = {"mode": "fixed", "top": top, "left": top}
    if target_set.diverse:
        placement.update(scale_min=1.0, scale_max=1.3, gain_min=0.6, gain_max=1.0, gradient_max=0.3, jitter_std=0.05)
    return CapturePlan.model_validate({"targets": target_set.targets, "n_frames": n_frames, "seed": seed,
                                       "target_rows": size, "target_cols": size, "display": target_set.display,
                                       "placement": placement, "reference_every": 500, "dark_frames": 4,
                                       "block_frames": 256})  # fmt: skip


def capture_sets(design: ScalingDesign, data_dir: Path, log: Log) -> dict[str, Path]:
    """Every training set and the OOD set through the same medium, with the project's capture engine."""
    data_dir.mkdir(parents=True, exist_ok=True)
    jobs = [(s, design.n_frames) for s in design.sets] + [(design.ood, design.n_ood_frames)]
    config = load_bench(None)
    config = config.with_changes(**design.bench_changes) if design.bench_changes else config
    plans = [(s.key, plan_for(design, s, n)) for s, n in jobs]
    return capture_plans(config, plans, data_dir, log)  # the capture queue: one bench, overwrite by the writer


def dataset_numbers(path: Path) -> dict[str, float]:
    """d_data of the targets and of the speckle (MLE, k = 20) and label sharpness K_F of a whole set."""
    with CaptureReader(path) as reader:
        rows = reader.frames()
        speckle, target = np.asarray(rows.speckle), np.asarray(rows.target, dtype=np.float32)
    return {
        "n_frames": len(target),
        "n_distinct_targets": len(np.unique(target.reshape(len(target), -1), axis=0)),
        "d_data": safe_dimension(target, K_NEIGHBOURS),
        "d_data_speckle": safe_dimension(speckle, K_NEIGHBOURS),
        "label_sharpness": label_sharpness(speckle, target),
    }


def power_law_fit(d_data: list[float], error: list[float]) -> dict[str, float | None]:
    """Least squares log(error) = slope * log(d_data) + intercept, and its R^2 (None with < 3 valid points)."""
    x, y = np.log(np.asarray(d_data, np.float64)), np.log(np.asarray(error, np.float64))
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    if len(x) < 3 or x.std() == 0:
        return {"slope": None, "intercept": None, "r2": None, "n_points": len(x)}
    slope, intercept = np.polyfit(x, y, 1)
    residual = y - (slope * x + intercept)
    total = float(((y - y.mean()) ** 2).sum())
    r2 = 1.0 - float((residual**2).sum()) / total if total > 0 else None
    return {"slope": float(slope), "intercept": float(intercept), "r2": r2, "n_points": len(x)}


def _spread(values: list[float | None]) -> dict[str, float | None]:
    v = np.asarray([x for x in values if x is not None and np.isfinite(x)], np.float64)
    if len(v) == 0:
        return {"mean": None, "std": None, "n": 0}
    return {"mean": float(v.mean()), "std": float(v.std(ddof=1)) if len(v) > 1 else 0.0, "n": len(v)}


def _pearson(a: list[float], b: list[float]) -> float | None:
    x, y = np.asarray(a, np.float64), np.asarray(b, np.float64)
    ok = np.isfinite(x) & np.isfinite(y)
    if ok.sum() < 3 or x[ok].std() == 0 or y[ok].std() == 0:
        return None
    return float(np.corrcoef(x[ok], y[ok])[0, 1])


def summarise(design: ScalingDesign, sets: dict[str, dict], nets: list[dict]) -> dict:
    """Fits per repeat and on the repeat means, for 1 - PCC and MSE; tunnel strength against d_data."""
    keys = [s.key for s in design.sets]
    d = [sets[k]["d_data"] for k in keys]
    fits: dict[str, dict] = {}
    for metric in ("one_minus_pcc", "mse"):
        per_repeat = []
        for r in range(design.repeats):
            by_key = {n["set"]: n[metric] for n in nets if n["repeat"] == r}
            per_repeat.append(power_law_fit(d, [by_key.get(k, float("nan")) for k in keys]))
        means = [float(np.mean([n[metric] for n in nets if n["set"] == k])) for k in keys]
        fits[metric] = {
            "per_repeat": per_repeat,
            "slope": _spread([f["slope"] for f in per_repeat]),
            "intercept": _spread([f["intercept"] for f in per_repeat]),
            "r2": _spread([f["r2"] for f in per_repeat]),
            "on_means": power_law_fit(d, means),
        }
    retained = [float(np.mean([n["ood_final_retained_pct"] for n in nets if n["set"] == k])) for k in keys]
    mean_error = [float(np.mean([n["one_minus_pcc"] for n in nets if n["set"] == k])) for k in keys]
    return {
        "fits": fits,
        "pearson_log_d_data_log_error": _pearson(np.log(d).tolist(), np.log(mean_error).tolist()),
        "pearson_log_k_f_log_error": _pearson(
            np.log([sets[k]["label_sharpness"] for k in keys]).tolist(), np.log(mean_error).tolist()
        ),
        "pearson_d_data_ood_final_retained": _pearson(d, retained),
        "d_repr_le_d_data_all": all(n["d_repr_le_d_data"] for n in nets),
        "d_repr_le_d_data_speckle_all": all(n["d_repr_le_d_data_speckle"] for n in nets),
    }


def run_scaling(design: ScalingDesign, out_dir: Path, log: Log = print) -> dict:
    """Capture, train, test and analyse every set and repeat; write scaling.json, report.md, scaling.png."""
    from speckle_lab.model.trainer import train

    started = time.monotonic()
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = capture_sets(design, out_dir / "data", log)
    sets = {s.key: {"label": s.label, "targets": s.targets, **dataset_numbers(paths[s.key])} for s in design.sets}
    ood = {"key": design.ood.key, "label": design.ood.label, **dataset_numbers(paths[design.ood.key])}
    capture_s = time.monotonic() - started
    nets = []
    for r in range(design.repeats):
        for i, target_set in enumerate(design.sets, 1):
            run_dir = out_dir / "runs" / f"{target_set.key}_r{r}"
            log(f"[repeat {r + 1}/{design.repeats}, net {i}/{len(design.sets)}] {target_set.label}")
            if run_dir.exists():
                import shutil

                shutil.rmtree(run_dir)
            config = design.train.model_copy(update={"seed": r})
            result = train(config, [str(paths[target_set.key])], run_dir, show_progress=False)
            analysis = analyze_run(run_dir, [paths[target_set.key], paths[design.ood.key]],
                                   out_dir / "analysis" / f"{target_set.key}_r{r}", seed=r)  # fmt: skip
            probe = analysis["probes"]["ood"][design.ood.key]
            d_repr = analysis["d_repr"]
            nets.append({
                "set": target_set.key,
                "repeat": r,
                "run_dir": str(run_dir),
                "epochs": result.epochs_completed,
                "best_epoch": result.best_epoch,
                "train_seconds": round(result.seconds, 1),
                "pcc": analysis["net_pcc"]["id_test"],
                "one_minus_pcc": 1.0 - analysis["net_pcc"]["id_test"],
                "mse": analysis["net_mse"]["id_test"],
                "n_test": analysis["in_distribution"]["n_test"],
                "ood_pcc": analysis["net_pcc"][design.ood.key],
                "d_repr": d_repr,
                "d_repr_max": max(d_repr.values()),
                "d_repr_le_d_data": all(v <= sets[target_set.key]["d_data"] for v in d_repr.values()),
                "d_repr_le_d_data_speckle": all(v <= sets[target_set.key]["d_data_speckle"] for v in d_repr.values()),
                "probe_levels": analysis["probes"]["levels"],
                "probe_id_pcc": analysis["probes"]["id_pcc"],
                "probe_ood_pcc": probe["pcc"],
                "ood_retained_pct": probe["retained_pct"],
                "ood_final_retained_pct": probe["final_retained_pct"],
                "id_ood_pearson": probe["id_ood_pearson"],
                "tunnel_start": probe["tunnel_start"],
            })  # fmt: skip
    results = {
        "schema": SCHEMA,
        "study": design.name,
        "design": {
            "target_size": design.target_size,
            "n_frames": design.n_frames,
            "n_ood_frames": design.n_ood_frames,
            "repeats": design.repeats,
            "train": design.train.model_dump(mode="json"),
            "bench_changes": design.bench_changes,
            "k_neighbours": K_NEIGHBOURS,
        },
        "sets": sets,
        "ood_set": ood,
        "nets": nets,
        "summary": summarise(design, sets, nets),
        "notes": design.notes,
        "seconds": {"capture": round(capture_s, 1), "total": round(time.monotonic() - started, 1)},
    }
    ready = json_ready(results)
    assert isinstance(ready, dict)  # json_ready maps a dict to a dict
    results = ready
    write_json(out_dir / SCALING_JSON, results)
    from speckle_lab.lab.study.scaling_report import write_scaling_report

    write_scaling_report(results, out_dir)
    return results
