"""One trained net on one in-distribution (ID) set and any out-of-distribution (OOD) sets: d_repr per level
beside d_data, label sharpness, linear probes per level, written as analysis.json, report.md and a figure.

The run is only read (its best checkpoint, loaded with weights_only=True by `model.checkpoint`): nothing in
RUN_DIR is written, and the feature hooks are removed before the function returns.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from speckle_lab.acquisition.targets.diversity import label_sharpness
from speckle_lab.model.analysis.dimension import K_NEIGHBOURS, bounded, representation_dimensions, safe_dimension
from speckle_lab.model.analysis.features import LEVEL_POOL, extract_features
from speckle_lab.model.analysis.probes import mean_pcc, probe_levels
from speckle_lab.model.data import StreamedBatches
from speckle_lab.model.errors import ModelInputError
from speckle_lab.model.evaluate import TrainedModel, load_trained
from speckle_lab.model.sources import FrameSource, same_data
from speckle_lab.model.trainer import open_data

MAX_TRAIN_FRAMES = 2000  # probe training frames (and d_repr points): a seeded subsample beyond this
MAX_EVAL_FRAMES = 1000  # frames per test or OOD set
BATCH = 64
ANALYSIS_JSON = "analysis.json"

Features = tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]  # by level, targets, reconstructions


def subsample(indices: np.ndarray, limit: int, seed: int) -> np.ndarray:
    """At most `limit` of the indices, chosen with `seed`, kept sorted (streamed reads stay sequential)."""
    indices = np.asarray(indices, np.int64)
    if len(indices) <= limit:
        return indices
    return np.sort(np.random.default_rng(seed).choice(indices, limit, replace=False))


def features_of(trained: TrainedModel, source: FrameSource, indices: np.ndarray, pool: int) -> Features:
    batches = StreamedBatches(source, indices, trained.normalisation, BATCH, 256, 1, None)
    return extract_features(trained.model, batches, trained.device, pool)


def mean_mse(prediction: np.ndarray, target: np.ndarray) -> float:
    """Mean squared error per pixel, averaged over frames."""
    return float(np.mean((np.asarray(prediction, np.float64) - np.asarray(target, np.float64)) ** 2))


def raw_frames(source: FrameSource, indices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Camera counts and targets of the given (sorted) rows, read one contiguous block at a time."""
    speckle, target = [], []
    for i in indices:
        s, t = source.read(int(i), int(i) + 1)
        speckle.append(s[0])
        target.append(t[0])
    return np.stack(speckle), np.stack(target)


def analyze_run(
    run_dir: str | Path,
    data: list[str | Path],
    out_dir: str | Path,
    *,
    pool: int = LEVEL_POOL,
    max_train_frames: int = MAX_TRAIN_FRAMES,
    max_eval_frames: int = MAX_EVAL_FRAMES,
    seed: int = 0,
    device: str = "cpu",
    figure: bool = True,
) -> dict:
    """Analyse the best net of `run_dir`: `data[0]` is the data it was trained on (its recorded split gives
    the train, validation and test frames), `data[1:]` are OOD sets (every frame, up to max_eval_frames)."""
    if not data:
        raise ModelInputError("give at least the in-distribution data file (the one the run was trained on)")
    started = time.monotonic()
    out = Path(out_dir)
    trained = load_trained(run_dir, device)
    with open_data([str(data[0])]) as source:
        if not same_data(trained.data, source.describe()):
            raise ModelInputError(
                f"{data[0]} is not the data {run_dir} was trained on ({trained.data}); the first file must be it"
            )
        split = trained.split
        train_rows = subsample(split.train, max_train_frames, seed)
        test_rows = subsample(split.test, max_eval_frames, seed)
        train = features_of(trained, source, train_rows, pool)
        val_rows = subsample(split.val, max_eval_frames, seed)
        val = features_of(trained, source, val_rows, pool) if len(val_rows) else None
        test = features_of(trained, source, test_rows, pool)
        speckle, targets = raw_frames(source, train_rows)
        id_name = Path(data[0]).stem
    ood: dict[str, Features] = {}
    ood_files: dict[str, str] = {}
    for path in data[1:]:
        name = Path(path).stem
        while name in ood or name == id_name:
            name += "_"
        with open_data([str(path)]) as source:
            rows = subsample(np.arange(source.n_frames), max_eval_frames, seed)
            ood[name] = features_of(trained, source, rows, pool)
        ood_files[name] = str(path)
    curves = probe_levels(train[:2], None if val is None else val[:2], test[:2], {k: v[:2] for k, v in ood.items()})
    d_repr = representation_dimensions(train[0], K_NEIGHBOURS, max_train_frames, seed)
    d_targets = safe_dimension(targets, K_NEIGHBOURS, max_train_frames, seed)
    d_speckle = safe_dimension(speckle, K_NEIGHBOURS, max_train_frames, seed)
    result = {
        "run_dir": str(run_dir),
        "epoch": trained.epoch,
        "in_distribution": {
            "name": id_name,
            "file": str(data[0]),
            "n_train": len(train_rows),
            "n_val": len(val_rows),
            "n_test": len(test_rows),
        },
        "ood_sets": {name: {"file": ood_files[name], "n_frames": len(ood[name][1])} for name in ood},
        "pool": pool,
        "k_neighbours": K_NEIGHBOURS,
        "levels": curves.levels,
        "d_data": {"targets": d_targets, "speckle": d_speckle},
        "d_repr": d_repr,
        "d_repr_le_d_data": {"targets": bounded(d_repr, d_targets), "speckle": bounded(d_repr, d_speckle)},
        "label_sharpness": label_sharpness(speckle, targets),
        "net_pcc": {"id_test": mean_pcc(test[2], test[1]), **{k: mean_pcc(v[2], v[1]) for k, v in ood.items()}},
        "net_mse": {"id_test": mean_mse(test[2], test[1]), **{k: mean_mse(v[2], v[1]) for k, v in ood.items()}},
        "mean_target_pcc": {
            "id_test": mean_pcc(np.broadcast_to(train[1].mean(axis=0), test[1].shape), test[1]),
            **{k: mean_pcc(np.broadcast_to(train[1].mean(axis=0), v[1].shape), v[1]) for k, v in ood.items()},
        },
        "probes": curves.summary(),
        "seconds": 0.0,
    }
    result["seconds"] = round(time.monotonic() - started, 2)
    out.mkdir(parents=True, exist_ok=True)
    from speckle_lab.model.analysis.report import write_analysis_report  # matplotlib only when a report is written

    write_analysis_report(result, out, figure=figure)
    (out / ANALYSIS_JSON).write_text(json.dumps(json_ready(result), indent=2))
    return result


def json_ready(value: object) -> object:
    """JSON without NaN/Infinity (not valid JSON): non-finite numbers become null."""
    if isinstance(value, dict):
        return {k: json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_ready(v) for v in value]
    if isinstance(value, float | np.floating) and not np.isfinite(value):
        return None
    if isinstance(value, np.floating | np.integer):
        return value.item()
    return value
