"""The Training page: pick data files (the one being captured too), choose the model kind and its recipe, train,
watch loss, Dice and PCC, see sample reconstructions, and read the evaluation table of finished runs."""

from __future__ import annotations

import math
from pathlib import Path

from pydantic import ValidationError
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QProgressBar,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from speckle_lab.gui.controller import LabController
from speckle_lab.gui.errors import Problem
from speckle_lab.gui.evaluation_dialog import EvaluationDialog
from speckle_lab.gui.paths import default_runs_dir
from speckle_lab.gui.settings import Settings
from speckle_lab.gui.training_cards import N_SAMPLES, CurvesCard, DataCard, EvaluationCard, SamplesCard
from speckle_lab.gui.training_settings import SettingsCard
from speckle_lab.lab.training_service import TrainingJob
from speckle_lab.model.config import TrainConfig
from speckle_lab.model.metric_names import Metric

LEFT_COLUMN_PX = 370
SMOOTHING = 0.3  # exponential smoothing of the per-batch training values on the curves


class TrainingPanel(QWidget):
    run_trained = Signal(str, object)  # run folder, its data files: a run with a best net, trained here

    def __init__(self, controller: LabController, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.data = DataCard(settings)
        self.settings_card = SettingsCard(settings)
        self.curves = CurvesCard()
        self.samples = SamplesCard()
        self.evaluation = EvaluationCard()
        self.capture_path: Path | None = None
        self.epochs_seen: list[dict] = []
        self.last_done: dict | None = None
        self.evaluation_dialog: EvaluationDialog | None = None
        self._last_evaluated = ""
        self._job: TrainingJob | None = None  # the training started last (not an evaluation)
        self.selection_metric = Metric.PCC  # what picks the best epoch of the training started last
        self._state = "idle"
        self._running: dict[str, tuple[int, int, float]] = {}  # key -> (epoch, batch, running mean)
        self._smoothed: dict[str, float] = {}
        self.progress = QProgressBar()  # progress within the epoch
        self.progress.setRange(0, 1000)
        self.progress.setValue(0)
        self.progress.setFormat("no training yet")
        self.curves.body.insertWidget(0, self.progress)

        left_widget = QWidget()
        left_widget.setObjectName("page")
        left = QVBoxLayout(left_widget)
        left.setContentsMargins(0, 0, 0, 0)
        left.setSpacing(14)
        left.addWidget(self.data)
        left.addWidget(self.settings_card)
        left.addStretch(1)
        scroll = QScrollArea()  # the form scrolls on a small screen; Start and Stop under it stay in view
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(left_widget)
        column = QWidget()
        column.setFixedWidth(LEFT_COLUMN_PX)
        column_layout = QVBoxLayout(column)
        column_layout.setContentsMargins(0, 0, 0, 0)
        column_layout.setSpacing(10)
        column_layout.addWidget(scroll, 1)
        column_layout.addWidget(self.settings_card.run_bar)
        right = QGridLayout()
        right.setSpacing(14)
        right.addWidget(self.curves, 0, 0, 1, 2)
        right.addWidget(self.samples, 1, 0)
        right.addWidget(self.evaluation, 1, 1)
        right.setRowStretch(0, 3)
        right.setRowStretch(1, 2)
        right.setColumnStretch(0, 0)  # the samples take what their images need; the evaluation rows the rest
        right.setColumnStretch(1, 1)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(14)
        layout.addWidget(column)
        layout.addLayout(right, 1)

        card = self.settings_card
        card.start.clicked.connect(self.start_training)
        card.stop.clicked.connect(controller.stop_training)
        self.data.add_current.clicked.connect(self._add_current)
        self.evaluation.evaluate.clicked.connect(self._choose_evaluation)
        controller.training_state.connect(self.set_state)
        controller.training_batch.connect(self._batch)
        controller.training_epoch.connect(self._epoch)
        controller.training_samples.connect(self.samples.show_samples)
        controller.training_done.connect(self._done)
        controller.training_evaluation.connect(self.evaluation.add_result)
        self.set_state("idle")

    def set_capture_path(self, path: Path) -> None:
        self.capture_path = Path(path)
        self.data.add_current.setEnabled(True)
        self.data.add_current.setToolTip(f"Add {path}")

    def _add_current(self) -> None:
        if self.capture_path is not None:
            self.data.add_paths([self.capture_path])

    def start_training(self) -> None:
        paths = self.data.paths()
        if not paths:
            self.controller.problem.emit(
                Problem(
                    "No data to train on",
                    "The data list is empty.",
                    "Add captured files (or the current capture) first.",
                )
            )
            return
        run_dir = Path(self.settings_card.run_dir.text().strip()).expanduser()
        if (run_dir / "last.pt").exists():
            self.controller.problem.emit(
                Problem(
                    "The run folder holds a run already",
                    str(run_dir),
                    "Choose a new run folder (the ↻ button makes one).",
                )
            )
            return
        try:
            config: TrainConfig | None = self.settings_card.train_config()
        except ValidationError:
            config = None  # the child refuses it with the reason (the line under the form says it already)
        if config is not None:
            self.selection_metric = Metric(config.selection_metric)
        self.curves.clear()
        self._running.clear()
        self._smoothed.clear()
        self.progress.setValue(0)
        self.epochs_seen.clear()
        self.last_done = None
        job = TrainingJob(
            data=tuple(paths), out_dir=str(run_dir), config=self.settings_card.config(), samples=N_SAMPLES
        )
        self._job = job
        self.controller.start_training(job)

    def evaluate_run(self, run_dir: Path, paths: list[str]) -> None:
        """Evaluate off the UI thread (the training child process); the row arrives by training_evaluation."""
        self._last_evaluated = str(run_dir)
        names = ", ".join(Path(p).name for p in paths)
        self.evaluation.status.setText(f"Evaluating {Path(run_dir).name} on {names}…")
        job = TrainingJob(data=tuple(paths), out_dir=str(run_dir), kind="evaluate", samples=0)
        self.controller.start_training(job)

    def _choose_evaluation(self) -> None:
        """The evaluation dialog, proposing the last run evaluated or trained and the training data list."""
        run_dir = self._last_evaluated or (self.last_done or {}).get("run_dir", "")
        dialog = EvaluationDialog(run_dir or str(default_runs_dir()), self.data.paths(), self)
        dialog.accepted.connect(lambda: self.evaluate_run(*dialog.choice()))
        dialog.finished.connect(dialog.deleteLater)
        self.evaluation_dialog = dialog
        dialog.open()

    def set_state(self, state: str) -> None:
        self._state = state
        card = self.settings_card
        idle = state == "idle"
        card.start.setEnabled(idle)
        card.stop.setEnabled(state == "running")
        card.set_form_enabled(idle)
        self.evaluation.evaluate.setEnabled(idle)
        kinds = {"idle": "idle", "running": "active", "stopping": "warn", "evaluating": "info"}
        card.pill.set_state(state, kinds.get(state, "idle"))
        if idle:
            self.evaluation.status.setText("")

    def _batch(self, event: dict) -> None:
        """The trainer reports the running mean over the epoch; the curve shows a smoothed per-batch value
        (recovered from consecutive means) that continues across epochs instead of restarting at each."""
        epoch, batch = event["epoch"], event["batch"]
        smoothed = {}
        for key in ("loss", "dice"):
            mean = event[key]
            previous = self._running.get(key)
            if previous is not None and previous[0] == epoch and batch > previous[1]:
                k, k0 = batch, previous[1]
                value = (k * mean - k0 * previous[2]) / (k - k0)  # the mean of the batches since the last report
            else:
                value = mean
            self._running[key] = (epoch, batch, mean)
            last = self._smoothed.get(key)
            smoothed[key] = value if last is None else last + SMOOTHING * (value - last)
            self._smoothed[key] = smoothed[key]
        x = epoch - 1 + batch / max(event["n_batches"], 1)
        self.curves.add("loss", x, smoothed["loss"])
        self.curves.add("dice", x, smoothed["dice"])
        self.progress.setValue(int(1000 * batch / max(event["n_batches"], 1)))
        self.progress.setFormat(f"epoch {epoch} of {event['epochs']} · batch {batch}/{event['n_batches']}")
        self.settings_card.status.setText(
            f"Epoch {epoch} of {event['epochs']} · batch {batch}/{event['n_batches']} · "
            f"loss {event['loss']:.4f} · Dice {event['dice']:.3f} (means over the epoch so far)"
        )

    def _epoch(self, event: dict) -> None:
        self.epochs_seen.append(event)
        val = event.get("val", {})
        self.curves.add("val_loss", event["epoch"], val.get("loss", math.nan))
        self.curves.add("val_dice", event["epoch"], val.get("dice", math.nan))
        self.curves.add("val_pcc", event["epoch"], val.get("pcc", math.nan))

    def _done(self, result: dict) -> None:
        self.last_done = result
        job = self._job
        if (
            job is not None
            and Path(result["run_dir"]) == Path(job.out_dir)
            and (Path(job.out_dir) / "best.pt").exists()
        ):
            self.run_trained.emit(str(result["run_dir"]), list(job.data))
        self.settings_card.status.setText(result_line(result))
        if Path(self.settings_card.run_dir.text().strip()).expanduser() == Path(result["run_dir"]):
            self.settings_card.new_run_dir()  # the next start must not collide with this run


def result_line(result: dict) -> str:
    """How a training ended, its kind, and its best epoch by the metric that chose it, with PCC and Dice both."""
    metric = Metric(result.get("selection_metric", Metric.PCC))
    epoch = result["best_epoch"]
    best = f"best epoch {epoch}" if epoch else "best: the starting point (epoch 0), never beaten"
    return (
        f"{result.get('model_kind', '?')}: {result['stop_reason'].replace('_', ' ')} after "
        f"{result['epochs_completed']} epochs on {result['device']} ({result['seconds']:.0f} s) · {best} by "
        f"validation {metric.label}: {Metric.PCC.short} {result.get('best_val_pcc', math.nan):.3f}, "
        f"{Metric.DICE.short} {result['best_val_dice']:.3f}"
    )
