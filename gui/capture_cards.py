"""The cards of the Acquisition page beside the plan: progress, reference drift, and the runs of the session."""

from __future__ import annotations

import math

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QProgressBar, QTableWidget, QTableWidgetItem

from speckle_lab.acquisition.preflight import format_duration
from speckle_lab.gui import theme
from speckle_lab.gui.widgets import Card, ElidedLabel, Metric, Pill, metric_row
from speckle_lab.lab.capture_queue import CaptureJob

DRIFT_FLOOR = 0.99  # the drift plot's fixed lower bound; it extends only when a correlation falls below it
STATUS_COLUMN = 4
STATUS_KINDS = {
    "complete": "ok",
    "aborted": "warn",
    "failed": "error",
    "skipped": "idle",
    "running": "info",
    "queued": "idle",
}


def format_eta(seconds: float) -> str:
    return "–" if not math.isfinite(seconds) else format_duration(seconds)


class ProgressCard(Card):
    def __init__(self) -> None:
        super().__init__("Progress", "No capture yet")
        self.phase = Pill("idle")
        self.header.addWidget(self.phase, 0, Qt.AlignmentFlag.AlignTop)
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.bar.setValue(0)
        self.bar.setFormat("%p %")
        self.body.addWidget(self.bar)
        self.rows = Metric("rows")
        self.rate = Metric("rate")
        self.eta = Metric("eta")
        self.retries = Metric("retries")
        self.dropped = Metric("dropped frames")
        self.body.addLayout(metric_row(self.rows, self.rate, self.eta, self.retries, self.dropped))
        self.message = ElidedLabel("", "cardSub")  # one line (the whole of it in the tooltip): nothing moves
        self.body.addWidget(self.message)

    def reset(self) -> None:
        self.bar.setValue(0)
        for metric in (self.rows, self.rate, self.eta, self.retries, self.dropped):
            metric.set("–")
        self.message.set_full_text("")


class DriftCard(Card):
    """The correlation of every reference frame with the first, by row, on a fixed scale from DRIFT_FLOOR to 1
    (extended downwards only when a correlation falls below it): a 1e-5 wobble stays flat."""

    def __init__(self) -> None:
        super().__init__("Reference drift", "Correlation with the first reference, by row")
        self.plot = pg.PlotWidget()
        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.setYRange(DRIFT_FLOOR, 1.0, padding=0.02)
        self.plot.setLabel("bottom", "row")
        self.plot.setLabel("left", "correlation")
        for axis in ("bottom", "left"):
            self.plot.getAxis(axis).enableAutoSIPrefix(False)
        colour = theme.CURVES["drift"]
        self.curve = self.plot.plot([], [], pen=pg.mkPen(colour, width=2), symbol="o", symbolSize=5, symbolBrush=colour)
        self.plot.setMinimumHeight(90)
        self.body.addWidget(self.plot, 1)
        self.value = ElidedLabel("", "cardSub")
        self.body.addWidget(self.value)
        self.prefix: tuple[list[int], list[float]] = ([], [])  # references already in a resumed file
        self.reference_every = 1000
        self.rows_planned = 0

    def start(self, reference_every: int, rows_planned: int, prefix: tuple[list[int], list[float]]) -> None:
        """A new job: its reference interval and rows, and a resumed file's earlier references (drawn first)."""
        self.reference_every, self.rows_planned, self.prefix = reference_every, rows_planned, prefix
        self.curve.setData(*prefix) if prefix[0] else self.curve.setData([], [])
        self.value.set_full_text("")

    def clear(self) -> None:
        self.curve.setData([], [])
        self.value.set_full_text("")

    def show_correlations(self, new: tuple[float, ...]) -> None:
        """The job's correlations by row, after a resumed file's earlier ones."""
        rows_before, values_before = self.prefix
        start = rows_before[-1] if rows_before else 0
        rows = [min(start + (k + 1) * self.reference_every, self.rows_planned or 10**12) for k in range(len(new))]
        # The scheduler's first reference is the file's first (correlation 1) unless the file had references.
        xs, ys = rows_before + rows, values_before + [float(c) for c in new]
        self.curve.setData(xs, ys)
        self.plot.setYRange(min(min(ys), DRIFT_FLOOR), 1.0, padding=0.02)
        self.plot.setXRange(0, max(self.rows_planned, xs[-1]), padding=0.02)
        self.value.set_full_text(f"{len(ys)} reference frames · last {ys[-1]:.5f} · lowest {min(ys):.5f}")


class RunsCard(Card):
    """The files of the session, one row each, and how each ended."""

    def __init__(self) -> None:
        super().__init__("Runs and queue", "The files of this session and how each ended")
        self.table = QTableWidget(0, 6)
        self.table.setHorizontalHeaderLabels(["File", "Folder", "Targets", "Rows", "Status", "Notes"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.setShowGrid(False)
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)  # names and folders: their ends tell them apart
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        for column, width in ((0, 170), (1, 130)):  # cut in the middle, the whole path in the tooltip
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
            self.table.setColumnWidth(column, width)
        header.setSectionResizeMode(5, QHeaderView.ResizeMode.Stretch)
        self.table.setMinimumHeight(90)
        self.body.addWidget(self.table, 1)

    def add(self, job: CaptureJob) -> None:
        row = self.table.rowCount()
        self.table.insertRow(row)
        targets = job.plan.targets if job.plan is not None else "(stored plan)"
        rows = f"0 / {job.plan.n_frames:,}" if job.plan is not None else "–"
        path = job.out.expanduser().resolve()
        for column, text in enumerate((job.out.name, str(path.parent), targets, rows, "queued", "")):
            item = QTableWidgetItem(text)
            item.setToolTip(str(path) if column in (0, 1) else text)
            self.table.setItem(row, column, item)

    def set_cell(self, row: int, column: int, text: str) -> None:
        item = self.table.item(row, column)
        if item is not None and item.text() != text:
            item.setText(text)
            item.setToolTip(text)
            if column == STATUS_COLUMN:
                kind = STATUS_KINDS.get(text, "idle")
                colours = {"ok": theme.ACCENT, "warn": theme.WARN, "error": theme.ERROR, "info": theme.INFO}
                item.setForeground(pg.mkColor(colours.get(kind, theme.MUTED)))

    def status(self, row: int) -> str:
        item = self.table.item(row, STATUS_COLUMN)
        return item.text() if item else ""
