"""The cards of the training page: data files, settings, live curves, sample reconstructions, evaluation."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from speckle_lab.gui import theme
from speckle_lab.gui.paths import default_runs_dir, fresh_name
from speckle_lab.gui.settings import Settings
from speckle_lab.gui.widgets import Card, ImageGrid, Pill, bound_form_rows, button, label
from speckle_lab.model.metric_names import QUALITY_METRICS, Metric

N_SAMPLES = 4
STATUS_LINES = 3
SAMPLES_MAX_WIDTH_PX = 220
METRICS = tuple((str(m), m.short) for m in (*QUALITY_METRICS, Metric.DICE))  # (key, column header)


class DataCard(Card):
    def __init__(self, settings: Settings) -> None:
        super().__init__("Data", "Captured files to train on, in order")
        self.settings = settings
        self.files = QListWidget()
        self.files.setObjectName("files")
        self.files.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.files.setMinimumHeight(70)
        self.files.setMaximumHeight(120)
        self.files.setTextElideMode(Qt.TextElideMode.ElideMiddle)  # the file name at the end stays in view
        self.files.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.body.addWidget(self.files)
        row = QHBoxLayout()
        self.add = button("Add files…")
        self.add_current = button("Add the capture", tooltip="The file the Acquisition page writes (or wrote)")
        self.add_current.setEnabled(False)
        self.remove = button("Remove", "flat")
        row.addWidget(self.add)
        row.addWidget(self.add_current)
        row.addStretch(1)
        row.addWidget(self.remove)
        self.body.addLayout(row)
        self.add.clicked.connect(self._browse)
        self.remove.clicked.connect(self._remove_selected)
        for path in settings.get("training/data", []):
            self._add(path)

    def paths(self) -> list[str]:
        return [self.files.item(i).text() for i in range(self.files.count())]

    def add_paths(self, paths: list[str | Path]) -> None:
        present = set(self.paths())
        for path in map(str, paths):
            if path not in present:
                self._add(path)
                present.add(path)
        self._save()

    def _add(self, path: str) -> None:
        item = QListWidgetItem(path)
        item.setToolTip(path)  # the whole path: the list cuts it in the middle
        self.files.addItem(item)

    def _browse(self) -> None:
        start = str(Path(self.paths()[-1]).parent) if self.paths() else str(Path.home())
        paths, _ = QFileDialog.getOpenFileNames(self, "Training data", start, "HDF5 (*.h5 *.hdf5)")
        self.add_paths(paths)

    def _remove_selected(self) -> None:
        for item in self.files.selectedItems():
            self.files.takeItem(self.files.row(item))
        self._save()

    def _save(self) -> None:
        self.settings.set("training/data", self.paths())


class SettingsCard(Card):
    def __init__(self, settings: Settings) -> None:
        super().__init__("Training", "U-Net, MSE + Dice loss, Adam, early stopping on validation Dice")
        self.pill = Pill("idle")
        self.header.addWidget(self.pill, 0, Qt.AlignmentFlag.AlignTop)
        form = QFormLayout()
        form.setHorizontalSpacing(12)
        form.setVerticalSpacing(7)
        self.epochs = QSpinBox()
        self.epochs.setRange(1, 10_000)
        self.epochs.setValue(50)
        self.batch_size = QSpinBox()
        self.batch_size.setRange(1, 4096)
        self.batch_size.setValue(32)
        self.lr = QDoubleSpinBox()
        self.lr.setDecimals(6)
        self.lr.setRange(1e-6, 1.0)
        self.lr.setSingleStep(1e-5)
        self.lr.setValue(1e-4)
        self.patience = QSpinBox()
        self.patience.setRange(0, 10_000)
        self.patience.setValue(10)
        self.patience.setSpecialValueText("never stop early")
        self.patience.setSuffix(" epochs")
        self.depth = QSpinBox()
        self.depth.setRange(1, 6)
        self.depth.setValue(3)
        self.width = QSpinBox()
        self.width.setRange(1, 512)
        self.width.setValue(16)
        self.kernel = QComboBox()
        self.kernel.addItems(["3", "5", "7", "9"])
        self.kernel.setCurrentText("7")
        self.device = QComboBox()
        self.device.addItems(["auto", "cpu", "cuda"])
        self.run_dir = QLineEdit(str(fresh_name(default_runs_dir(), "run")))
        browse = button("…", "tool", "Choose the run folder")
        browse.clicked.connect(self._browse)
        renew = button("↻", "tool", "A new, time-stamped run folder next to this one")
        renew.clicked.connect(self.new_run_dir)
        run_row = QHBoxLayout()
        run_row.setSpacing(6)
        run_row.addWidget(self.run_dir, 1)
        run_row.addWidget(browse)
        run_row.addWidget(renew)
        self.depth.setSuffix(" levels")
        bound_form_rows(
            form,
            settings,
            "training",
            (
                ("Epochs", "epochs", self.epochs),
                ("Batch size", "batch_size", self.batch_size),
                ("Learning rate", "lr", self.lr),
                ("Patience", "patience", self.patience),
                ("U-Net depth", "depth", self.depth),
                ("Base width", "width", self.width),
                ("Kernel", "kernel", self.kernel),
                ("Device", "device", self.device),
            ),
        )
        form.addRow(label("Run folder", "muted"), run_row)
        settings.bind(self.run_dir, "training/run_dir")
        self.body.addLayout(form)
        # Start and Stop in a bar of their own under the form, always in view (the form scrolls on a small
        # screen), the progress line in a fixed height so it never moves them under the mouse.
        self.run_bar = QFrame()
        self.run_bar.setObjectName("card")
        bar = QVBoxLayout(self.run_bar)
        bar.setContentsMargins(14, 10, 14, 12)
        bar.setSpacing(8)
        buttons = QHBoxLayout()
        self.start = button("Start training", "primary")
        self.stop = button("Stop", "danger")
        buttons.addWidget(self.start, 2)
        buttons.addWidget(self.stop, 1)
        bar.addLayout(buttons)
        self.status = label("", "cardSub", wrap=True)
        self.status.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.status.setFixedHeight(STATUS_LINES * self.status.fontMetrics().lineSpacing() + 4)
        bar.addWidget(self.status)

    def config(self) -> dict:
        """TrainConfig keys (validated by the trainer, in its process)."""
        return {
            "epochs": self.epochs.value(),
            "batch_size": self.batch_size.value(),
            "lr": self.lr.value(),
            "patience_epochs": self.patience.value() or None,
            "device": self.device.currentText(),
            "model": {
                "depth": self.depth.value(),
                "base_width": self.width.value(),
                "kernel_size": int(self.kernel.currentText()),
            },
        }

    def new_run_dir(self) -> None:
        current = Path(self.run_dir.text().strip() or default_runs_dir() / "run")
        self.run_dir.setText(str(fresh_name(current.parent, "run")))

    def _browse(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Run folder", str(Path(self.run_dir.text()).parent))
        if path:
            self.run_dir.setText(path)

    def set_form_enabled(self, enabled: bool) -> None:
        for widget in (
            self.epochs,
            self.batch_size,
            self.lr,
            self.patience,
            self.depth,
            self.width,
            self.kernel,
            self.device,
            self.run_dir,
        ):
            widget.setEnabled(enabled)


class CurvesCard(Card):
    """Running training loss and Dice per batch; validation values per epoch. Both plots share one view."""

    def __init__(self) -> None:
        super().__init__(
            "Learning curves", "Training (blue): smoothed per batch · validation (orange): after each epoch"
        )
        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setMinimumHeight(200)
        self.loss_plot = self._plot("loss")
        self.dice_plot = self._plot("Dice")
        self.dice_plot.setYRange(0, 1)
        self.body.addWidget(self.graphics, 1)
        self.loss = self._curve(self.loss_plot, "loss", "training", symbol=False)
        self.val_loss = self._curve(self.loss_plot, "val_loss", "validation", symbol=True)
        self.dice = self._curve(self.dice_plot, "dice", "training", symbol=False)
        self.val_dice = self._curve(self.dice_plot, "val_dice", "validation", symbol=True)
        self.clear()

    def _plot(self, name: str) -> pg.PlotItem:
        plot = self.graphics.addPlot()
        plot.setMenuEnabled(False)
        plot.showGrid(x=False, y=False)
        plot.setLabel("bottom", "epoch")
        plot.setLabel("left", name)
        for axis in ("bottom", "left"):
            plot.getAxis(axis).enableAutoSIPrefix(False)
        plot.addLegend(offset=(-8, 8), labelTextColor=theme.MUTED)
        return plot

    @staticmethod
    def _curve(plot: pg.PlotItem, key: str, name: str, symbol: bool) -> pg.PlotDataItem:
        colour = theme.CURVES[key]
        markers = {"symbol": "o", "symbolSize": 6, "symbolBrush": colour, "symbolPen": None} if symbol else {}
        return plot.plot([], [], pen=pg.mkPen(colour, width=2), name=name, connect="finite", **markers)

    def clear(self) -> None:
        self.points: dict[str, tuple[list[float], list[float]]] = {
            k: ([], []) for k in ("loss", "val_loss", "dice", "val_dice")
        }
        for curve in (self.loss, self.val_loss, self.dice, self.val_dice):
            curve.setData([], [])

    def break_line(self, key: str) -> None:
        """No line from the end of one epoch's running mean to the start of the next."""
        xs, ys = self.points[key]
        if xs and math.isfinite(ys[-1]):
            xs.append(xs[-1])
            ys.append(math.nan)

    def add(self, key: str, x: float, y: float) -> None:
        if not math.isfinite(y):
            return
        xs, ys = self.points[key]
        xs.append(x)
        ys.append(y)
        getattr(self, key).setData(xs, ys)


SAMPLE_COLUMNS = (("speckle", "speckle", "inferno"), ("target", "target", None), ("prediction", "network", None))


class SamplesCard(Card):
    """A validation frame a row: its speckle, its target and the network's reconstruction side by side (a
    narrow card, so the evaluation table beside it has the width for every metric)."""

    def __init__(self) -> None:
        super().__init__("Samples", "Validation frames, by the net of the last epoch")
        self.grid = ImageGrid(
            N_SAMPLES,
            len(SAMPLE_COLUMNS),
            col_titles=tuple(name for _, name, _ in SAMPLE_COLUMNS),
            column_colormaps=tuple(colormap for _, _, colormap in SAMPLE_COLUMNS),
        )
        self.grid.setMinimumSize(150, 200)
        self.body.addWidget(self.grid, 1)
        self.setMaximumWidth(SAMPLES_MAX_WIDTH_PX)  # three small images a row: the rest of the width is the table's
        self.shown: dict | None = None

    def show_samples(self, samples: dict) -> None:
        self.shown = samples
        for column, (key, _, _) in enumerate(SAMPLE_COLUMNS):
            images = samples.get(key)
            if images is None:
                continue
            levels = None if key == "speckle" else (0.0, 1.0)
            for row in range(min(N_SAMPLES, len(images))):
                self.grid.set_image(np.asarray(images[row]), levels=levels, row=row, col=column)
        self.set_subtitle(f"Validation frames, by the net of epoch {samples.get('epoch', '?')}")


class EvaluationCard(Card):
    """One row per evaluation, told apart by run folder and data file names (whole paths in the tooltips), with
    the frames evaluated under the names and the mean ± standard deviation over the frames of each metric.

    Run and data names are cut in the middle to the width left (a file's end tells files apart): every metric
    column stays in view, never behind a sideways scroll."""

    COLUMNS = ("Run", "Data")

    def __init__(self) -> None:
        super().__init__("Evaluation", "Best net of each run, on its test split or on other files")
        self.table = QTableWidget(0, len(self.COLUMNS) + len(METRICS))
        self.table.setHorizontalHeaderLabels([*self.COLUMNS, *(name for _, name in METRICS)])
        data_header = QTableWidgetItem("Data")
        data_header.setToolTip("The data files, and the frames evaluated: test split or all")
        self.table.setHorizontalHeaderItem(1, data_header)
        for column, (key, _) in enumerate(METRICS, start=len(self.COLUMNS)):
            self.table.horizontalHeaderItem(column).setToolTip(f"{Metric(key).label}: mean ± std over the frames")
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setShowGrid(False)
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setMinimumSectionSize(36)
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)  # run and data share what the metrics leave
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)  # a file's end tells files apart
        self.table.setMinimumHeight(100)
        self.body.addWidget(self.table, 1)
        row = QHBoxLayout()
        self.status = label("", "muted")
        row.addWidget(self.status, 1)
        self.evaluate = button("Evaluate a run…")
        row.addWidget(self.evaluate)
        self.body.addLayout(row)

    def add_result(self, result: dict) -> None:
        """`result` is model.evaluate.evaluate's, plus the job's file paths as `data_paths` where known."""
        row = self.table.rowCount()
        self.table.insertRow(row)
        run_dir = result.get("run_dir", "")
        records = result.get("data", [])
        paths = result.get("data_paths") or [d.get("name", "?") for d in records]
        names = ", ".join(Path(p).name for p in paths)
        subset = result.get("subset", "")
        frames = f"{result.get('n_frames', '?')} {subset.split()[0] if subset else ''}".strip()
        cells = [
            (Path(run_dir).name, f"{run_dir}\nbest net: epoch {result.get('epoch', '?')}"),
            (f"{names}\n{frames}", "\n".join(map(str, paths)) + f"\n{result.get('n_frames', '?')} frames: {subset}"),
        ]
        metrics = result.get("metrics", {})
        for key, _ in METRICS:
            value = metrics.get(key)
            cells.append(
                (
                    f"{value['mean']:.3f}\n±{value['std']:.3f}",  # two lines: all the metrics fit the card
                    f"{Metric(key).label}: {value['mean']:.4f} ± {value['std']:.4f} (mean ± std over the frames)",
                )
                if value
                else ("–", "")
            )
        for column, (text, tooltip) in enumerate(cells):
            item = QTableWidgetItem(text)
            item.setToolTip(tooltip)
            if column >= len(self.COLUMNS):
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.table.setItem(row, column, item)
        self.table.resizeRowToContents(row)
        self.table.scrollToBottom()
        self.status.setText("")

    def row_texts(self, row: int) -> list[str]:
        return [self.table.item(row, column).text() for column in range(self.table.columnCount())]
