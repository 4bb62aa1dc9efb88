"""The cards of the training page: data files, live curves, sample reconstructions, evaluation (the settings card
is gui/training_settings.py)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QListWidget,
    QListWidgetItem,
    QTableWidget,
    QTableWidgetItem,
)

from speckle_lab.gui import theme
from speckle_lab.gui.settings import Settings
from speckle_lab.gui.widgets import Card, ImageGrid, button, label
from speckle_lab.model.metric_names import QUALITY_METRICS, Metric

N_SAMPLES = 4
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
        saved: list[str] = settings.get("training/data", [])
        for path in saved:
            self._add(path)

    def paths(self) -> list[str]:
        return [self.files.item(i).text() for i in range(self.files.count())]

    def add_paths(self, paths: Sequence[str | Path]) -> None:
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


class CurvesCard(Card):
    """Running training loss and Dice per batch; validation values per epoch (loss, Dice and PCC: the metric the
    default recipe selects on is PCC, the reference recipe's Dice). Both plots share one view."""

    KEYS = ("loss", "val_loss", "dice", "val_dice", "val_pcc")

    def __init__(self) -> None:
        super().__init__(
            "Learning curves", "Training (blue): smoothed per batch · validation (orange): after each epoch"
        )
        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setMinimumHeight(200)
        self.loss_plot = self._plot("loss")
        self.dice_plot = self._plot(f"{Metric.DICE.short}, {Metric.PCC.short}")
        self.dice_plot.setYRange(0, 1)
        self.body.addWidget(self.graphics, 1)
        self.loss = self._curve(self.loss_plot, "loss", "training", symbol=False)
        self.val_loss = self._curve(self.loss_plot, "val_loss", "validation", symbol=True)
        self.dice = self._curve(self.dice_plot, "dice", f"training {Metric.DICE.short}", symbol=False)
        self.val_dice = self._curve(self.dice_plot, "val_dice", f"validation {Metric.DICE.short}", symbol=True)
        self.val_pcc = self._curve(
            self.dice_plot, "val_pcc", f"validation {Metric.PCC.short}", symbol=True, dashed=True
        )
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
    def _curve(plot: pg.PlotItem, key: str, name: str, symbol: bool, dashed: bool = False) -> pg.PlotDataItem:
        colour = theme.CURVES[key]
        shape = "t" if dashed else "o"  # a second metric of the same data set: its own line and marker
        markers = {"symbol": shape, "symbolSize": 6, "symbolBrush": colour, "symbolPen": None} if symbol else {}
        style = Qt.PenStyle.DashLine if dashed else Qt.PenStyle.SolidLine
        pen = pg.mkPen(colour, width=2, style=style)
        return plot.plot([], [], pen=pen, name=name, connect="finite", **markers)

    def clear(self) -> None:
        self.points: dict[str, tuple[list[float], list[float]]] = {k: ([], []) for k in self.KEYS}
        for key in self.KEYS:
            getattr(self, key).setData([], [])

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
            header_item = self.table.horizontalHeaderItem(column)
            if header_item is not None:  # set by the header labels above
                header_item.setToolTip(f"{Metric(key).label}: mean ± std over the frames")
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
        items = (self.table.item(row, column) for column in range(self.table.columnCount()))
        return [item.text() if item is not None else "" for item in items]
