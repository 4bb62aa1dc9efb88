"""Evaluation: metric summaries on the test split or on other data, figures, inference."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from model_helpers import synthetic

from speckle_lab.model.evaluate import evaluate, load_trained, save_figures
from speckle_lab.model.sources import ArraySource


def test_evaluate_reports_mean_and_std(blobs: ArraySource, trained_run: Path) -> None:
    report = evaluate(trained_run, blobs, device="cpu")
    assert report["subset"] == "test split"
    assert set(report["metrics"]) == {"pcc", "ssim", "cs", "dice", "dice_thresholded"}
    for summary in report["metrics"].values():
        assert np.isfinite(summary["mean"]) and summary["std"] >= 0


def test_other_data_is_evaluated_on_every_frame(trained_run: Path) -> None:
    other = synthetic(24, seed=9)
    report = evaluate(trained_run, other, device="cpu")
    assert (report["subset"], report["n_frames"]) == ("all frames", 24)


def test_predict_matches_shapes_and_range(blobs: ArraySource, trained_run: Path) -> None:
    trained = load_trained(trained_run, "cpu")
    recon = trained.predict(blobs.read(0, 5)[0])
    assert recon.shape == (5, 16, 16) and recon.min() >= 0 and recon.max() <= 1


def test_figures_are_written(blobs: ArraySource, trained_run: Path, tmp_path: Path) -> None:
    paths = save_figures(trained_run, blobs, tmp_path, n_examples=3, prefix="blobs-")
    assert [p.name for p in paths] == ["blobs-reconstructions.png", "blobs-loss_curves.png"]
    for p in paths:
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
