"""What training and evaluation did, in the log (the panel's and its file, `lab/logging_setup.py`): the start
with the run, files and settings, every epoch, the end, each evaluation's scores, a failure with its reason.
The run's own `training.log` has the child's side; these lines are the panel's record of the session."""

from __future__ import annotations

import logging
from pathlib import Path

from speckle_lab.gui.errors import Problem
from speckle_lab.lab.training_service import TrainingJob
from speckle_lab.model.metric_names import Metric

log = logging.getLogger(__name__)


def _names(paths: list[str] | tuple[str, ...]) -> str:
    return ", ".join(Path(path).name for path in paths) or "?"


def _short(metric: str) -> str:
    """A metric's short name (PCC, SSIM, CS, Dice) where the vocabulary knows it."""
    try:
        return Metric(metric).short
    except ValueError:
        return metric


def started(job: TrainingJob) -> None:
    if job.kind == "evaluate":
        log.info("evaluation: started: %s on %s", job.out_dir, _names(job.data))
        return
    config = job.config or {}
    log.info(
        "training: started: %s on %s (model %s, %s epochs, batch %s, learning rate %s%s%s)",
        job.out_dir,
        _names(job.data),
        config.get("model", {}).get("kind", "?"),
        config.get("epochs", "?"),
        config.get("batch_size", "?"),
        config.get("lr", "?"),
        f", loss {config['loss']}" if "loss" in config else "",
        f", selected on {_short(config['selection_metric'])}" if "selection_metric" in config else "",
    )


def epoch(event: dict) -> None:
    val = event.get("val", {})
    log.info(
        "training: epoch %s of %s: loss %.4f, Dice %.3f · validation loss %.4f, Dice %.3f, PCC %.3f",
        event.get("epoch"),
        event.get("epochs"),
        event.get("loss", float("nan")),
        event.get("dice", float("nan")),
        val.get("loss", float("nan")),
        val.get("dice", float("nan")),
        val.get("pcc", float("nan")),
    )


def ended(result: dict) -> None:
    log.info(
        "training: ended (%s) after %s epochs on %s in %.0f s; %s: best epoch %s by validation %s "
        "(PCC %.3f, Dice %.3f); run %s",
        str(result.get("stop_reason", "?")).replace("_", " "),
        result.get("epochs_completed", "?"),
        result.get("device", "?"),
        float(result.get("seconds", 0.0)),
        result.get("model_kind", "?"),
        result.get("best_epoch", "?"),
        _short(result.get("selection_metric", "?")),
        float(result.get("best_val_pcc", float("nan"))),
        float(result.get("best_val_dice", float("nan"))),
        result.get("run_dir", "?"),
    )


def evaluated(result: dict) -> None:
    metrics = result.get("metrics", {})
    scores = ", ".join(f"{_short(key)} {value['mean']:.3f} ± {value['std']:.3f}" for key, value in metrics.items())
    log.info(
        "evaluation: %s on %s (%s frames, %s): %s",
        result.get("run_dir", "?"),
        _names(result.get("data_paths", [])),
        result.get("n_frames", "?"),
        result.get("subset", "?"),
        scores,
    )


def failed(job: TrainingJob | None, problem: Problem) -> None:
    what = "evaluation" if job is not None and job.kind == "evaluate" else "training"
    log.error("%s failed: %s (%s)", what, problem.detail or problem.title, job.out_dir if job else "?")
