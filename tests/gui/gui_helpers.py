"""Helpers for the GUI tests (a module of its own: conftest files cannot be imported by name)."""

from __future__ import annotations

from pathlib import Path

from speckle_lab.lab.bench_config import BenchConfig, dumps_toml

SMALL_BENCH = {
    "dmd": {"mirror_rows": 64, "mirror_cols": 64, "macropixel_mirrors": 2, "side_macropixels": 24},
    "camera": {"rows": 32, "cols": 32},
    "medium": {"grain_px": 1.0},
}
CLOSE_TIMEOUT_MS = 30_000
TINY_TRAINING = {"epochs": 2, "batch_size": 16, "lr": 0.003, "depth": 2, "width": 8, "kernel": "5", "device": "cpu"}


def write_bench(path: Path, sections: dict) -> Path:
    path.write_text(dumps_toml(BenchConfig().with_changes(**sections)))
    return path


def fill_plan(window, out: Path, n_frames: int, targets: str = "mnist", reference_every: int = 100) -> None:
    """A small, fast plan: 16x16 targets, binary display."""
    card = window.acquisition.plan_card
    card.targets.setCurrentText(targets)
    card.n_frames.setValue(n_frames)
    card.target_size.setValue(16)
    card.display.setCurrentText("threshold")
    card.placement.setCurrentText("fixed")
    card.reference_every.setValue(reference_every)
    card.out.setText(str(out))


def fill_training(window, run_dir: Path, **changes: object) -> None:
    card = window.training.settings_card
    values = {**TINY_TRAINING, **changes}
    card.epochs.setValue(values["epochs"])
    card.batch_size.setValue(values["batch_size"])
    card.lr.setValue(values["lr"])
    card.patience.setValue(0)
    card.unet_depth.setValue(values["depth"])
    card.base_width.setValue(values["width"])
    card.kernel.setCurrentText(values["kernel"])
    card.device.setCurrentText(values["device"])
    card.run_dir.setText(str(run_dir))


def close_cleanly(qtbot, window) -> None:
    """Close the window and wait for its shutdown (capture and training stopped, bench closed) to end."""
    if not window.closed_cleanly:
        window.close()
        qtbot.waitUntil(lambda: window.closed_cleanly, timeout=CLOSE_TIMEOUT_MS)
