"""The Reconstruct page: a trained net looking through the diffuser, live.

Pick a trained run; each target (a row of any source, rendered exactly as the net's training plan rendered
its targets, or one drawn with the mouse) goes to the DMD, the camera takes its speckle and the net
reconstructs it on a worker thread: target, speckle and reconstruction side by side with PCC and SSIM
against the target shown. "Play" steps through the source as fast as the bench and the net allow.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPoint, QRect, Qt, Signal
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPaintEvent
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLineEdit,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from speckle_lab.acquisition.targets import READY_SPECS
from speckle_lab.gui import theme
from speckle_lab.gui.controller import LabController
from speckle_lab.gui.fields import NumberField
from speckle_lab.gui.reconstruct_worker import ReconstructWorker
from speckle_lab.gui.settings import Settings
from speckle_lab.gui.widgets import Card, ImageGrid, Metric, button, label, metric_row

CANVAS_PX = 160


class DrawCanvas(QWidget):
    """A small canvas at the target's resolution: left button draws, right button erases."""

    changed = Signal()

    def __init__(self, shape: tuple[int, int] = (16, 16), parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFixedSize(CANVAS_PX, CANVAS_PX)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.image = np.zeros(shape, np.float32)
        self.brush = 1

    def set_shape(self, shape: tuple[int, int]) -> None:
        self.image = np.zeros(shape, np.float32)
        self.update()

    def clear(self) -> None:
        self.image[:] = 0
        self.update()
        self.changed.emit()

    def paint_at(self, row: int, col: int, value: float) -> None:
        rows, cols = self.image.shape
        r0, r1 = max(row - self.brush + 1, 0), min(row + self.brush, rows)
        c0, c1 = max(col - self.brush + 1, 0), min(col + self.brush, cols)
        self.image[r0:r1, c0:c1] = value
        self.update()
        self.changed.emit()

    def _cell(self, point: QPoint) -> tuple[int, int]:
        rows, cols = self.image.shape
        return int(point.y() * rows / self.height()), int(point.x() * cols / self.width())

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt's name)
        self.mouseMoveEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt's name)
        row, col = self._cell(event.position().toPoint())
        if 0 <= row < self.image.shape[0] and 0 <= col < self.image.shape[1]:
            erase = bool(event.buttons() & Qt.MouseButton.RightButton)
            self.paint_at(row, col, 0.0 if erase else 1.0)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt's name)
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(theme.FIELD))
        rows, cols = self.image.shape
        for r in range(rows):
            for c in range(cols):
                v = float(self.image[r, c])
                if v > 0:
                    x0, x1 = c * self.width() // cols, (c + 1) * self.width() // cols
                    y0, y1 = r * self.height() // rows, (r + 1) * self.height() // rows
                    painter.fillRect(QRect(x0, y0, x1 - x0, y1 - y0), QColor.fromRgbF(v, v, v))
        painter.setPen(QColor(theme.CARD_BORDER))
        painter.drawRect(self.rect().adjusted(0, 0, -1, -1))
        painter.end()


class ReconstructPanel(QWidget):
    def __init__(self, controller: LabController, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.worker = ReconstructWorker()
        self.worker.start()
        self.loaded: dict | None = None
        self.last_result = None
        self.results = 0
        self._request = 0
        self._in_flight = False
        self._playing = False
        self._result_times: list[float] = []

        # -- the run --------------------------------------------------------------------------------
        run = Card("Trained run", "The net, and the capture plan its targets were rendered with")
        self.run_dir = QLineEdit()
        self.run_dir.setPlaceholderText("run folder (with best.pt)")
        settings.bind(self.run_dir, "reconstruct/run_dir")
        self.data_file = QLineEdit()
        self.data_file.setPlaceholderText("training data file (optional: found from the run)")
        settings.bind(self.data_file, "reconstruct/data_file")
        choose_run = button("Choose…")
        choose_run.clicked.connect(self._choose_run)
        choose_data = button("Choose…")
        choose_data.clicked.connect(self._choose_data)
        self.load = button("Load", "primary")
        self.load.clicked.connect(self.load_run)
        grid = QGridLayout()
        grid.setHorizontalSpacing(8)
        grid.addWidget(label("Run", "muted"), 0, 0)
        grid.addWidget(self.run_dir, 0, 1)
        grid.addWidget(choose_run, 0, 2)
        grid.addWidget(label("Data", "muted"), 1, 0)
        grid.addWidget(self.data_file, 1, 1)
        grid.addWidget(choose_data, 1, 2)
        grid.setColumnStretch(1, 1)
        run.body.addLayout(grid)
        row = QHBoxLayout()
        row.addWidget(self.load)
        self.run_status = label("No run loaded.", "cardSub", wrap=True)
        row.addWidget(self.run_status, 1)
        run.body.addLayout(row)

        # -- targets ----------------------------------------------------------------------------------
        targets = Card("Targets", "Step through a source, or draw one")
        form = QGridLayout()
        form.setHorizontalSpacing(8)
        self.source = QComboBox()
        self.source.setEditable(True)
        self.source.addItems(READY_SPECS)
        self.source.setCurrentText("mnist")
        self.index = NumberField("target index", "", 0, 1_000_000, integer=True)
        self.index.set_text("0")
        self.index.submitted.connect(lambda _v: self.show_target())
        form.addWidget(label("Source", "muted"), 0, 0)
        form.addWidget(self.source, 0, 1)
        form.addWidget(label("Target #", "muted"), 1, 0, Qt.AlignmentFlag.AlignTop)
        form.addWidget(self.index, 1, 1)
        targets.body.addLayout(form)
        steps = QHBoxLayout()
        self.previous = button("◀ Previous")
        self.previous.clicked.connect(lambda: self.step(-1))
        self.next = button("Next ▶")
        self.next.clicked.connect(lambda: self.step(1))
        self.play = button("Play", "primary")
        self.play.setCheckable(True)
        self.play.toggled.connect(self.set_playing)
        for widget in (self.previous, self.next, self.play):
            steps.addWidget(widget)
        targets.body.addLayout(steps)
        targets.body.addWidget(label("Draw (left button draws, right erases):", "muted"))
        self.canvas = DrawCanvas()
        targets.body.addWidget(self.canvas, 0, Qt.AlignmentFlag.AlignHCenter)
        draw_row = QHBoxLayout()
        clear = button("Clear")
        clear.clicked.connect(self.canvas.clear)
        self.send_drawn = button("Send to the DMD", "primary")
        self.send_drawn.clicked.connect(self.show_drawn)
        draw_row.addWidget(clear)
        draw_row.addWidget(self.send_drawn)
        targets.body.addLayout(draw_row)
        targets.body.addStretch(1)

        # -- live -------------------------------------------------------------------------------------
        live = Card("Live reconstruction", "Target on the DMD · speckle on the camera · the net's reconstruction")
        self.images = ImageGrid(1, 3, col_titles=("target on the DMD", "speckle (DN)", "reconstruction"))
        self.images.images[0][1].setColorMap(pg.colormap.get("inferno"))
        live.body.addWidget(self.images, 1)
        self.pcc = Metric("PCC")
        self.ssim = Metric("SSIM")
        self.inference = Metric("inference")
        self.rate = Metric("rate")
        self.shown = Metric("shown")
        self.max_dn = Metric("speckle max")
        live.body.addLayout(metric_row(self.pcc, self.ssim, self.inference, self.rate, self.max_dn, self.shown))
        self.laser_note = label("", "saturation", wrap=True)  # red: the speckle is a dark frame
        self.laser_note.hide()
        live.body.addWidget(self.laser_note)
        self.laser_on = False
        self.message = label("", "cardSub", wrap=True)
        live.body.addWidget(self.message)

        left = QVBoxLayout()
        left.setSpacing(14)
        left.addWidget(run)
        left.addWidget(targets, 1)
        left.setContentsMargins(0, 0, 0, 0)
        holder = QWidget()
        holder.setObjectName("page")
        holder.setLayout(left)
        holder.setMinimumHeight(600)
        scroll = QScrollArea()  # on a small screen the cards scroll rather than squeeze over each other
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(holder)
        scroll.setFixedWidth(400)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(14)
        layout.addWidget(scroll)
        layout.addWidget(live, 1)

        self.worker.loaded.connect(self._loaded)
        self.worker.pattern_ready.connect(self._pattern_ready)
        self.worker.result.connect(self._result)
        self.worker.failed.connect(self._failed)
        controller.snapped.connect(self._snapped)
        controller.laser.connect(self._laser)
        controller.problem.connect(self._device_problem)
        controller.capture_state.connect(lambda state: self._set_enabled())
        controller.bench_opened.connect(lambda _info: self._set_enabled())
        self._set_enabled()

    # -- the run --------------------------------------------------------------------------------------
    def _choose_run(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "A trained run", self.run_dir.text())
        if path:
            self.run_dir.setText(path)

    def _choose_data(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Training data", self.data_file.text(), "HDF5 (*.h5 *.hdf5)")
        if path:
            self.data_file.setText(path)

    def load_run(self) -> None:
        info = self.controller.bench_info
        if info is None or not self.run_dir.text().strip():
            self.run_status.setText("Choose a run folder (and open a bench) first.")
            return
        data = self.data_file.text().strip()
        self.run_status.setText(f"Loading {self.run_dir.text().strip()} …")
        self.worker.load_requested.emit(Path(self.run_dir.text().strip()), Path(data) if data else None, info.geometry)

    def _loaded(self, loaded: dict) -> None:
        self.loaded = loaded
        rows, cols = loaded["target_shape"]
        self.canvas.set_shape((rows, cols))
        self.source.setCurrentText(loaded["targets"].split(":")[0] if ":" in loaded["targets"] else loaded["targets"])
        # The speckle must be taken as the training data was: the plan's exposure and laser setpoint (emission
        # stays as it is: switching the light on is the operator's act).
        self.controller.set_exposure_us(loaded["exposure_us"])
        self.controller.set_power_w(loaded["laser_power_w"])
        self.run_status.setText(
            f"{loaded['run']} · epoch {loaded['epoch']} · targets {rows}×{cols} placed as in {loaded['data']} · "
            f"camera {loaded['exposure_us']:g} µs and laser {loaded['laser_power_w'] * 1e3:g} mW set as in training"
        )
        self.run_status.setToolTip(self.run_status.text())
        self._set_enabled()

    # -- targets --------------------------------------------------------------------------------------
    def step(self, delta: int) -> None:
        try:
            index = int(self.index.value())
        except ValueError:
            index = 0
        self.index.set_text(str(max(index + delta, 0)))
        self.show_target()

    def show_target(self) -> None:
        if not self._ready():
            return
        try:
            index = int(self.index.value())
        except ValueError:
            self.index.submit()  # shows the refusal next to the field
            return
        self.index.clear_refusal()
        self._request += 1
        self._in_flight = True
        self.worker.target_requested.emit(self._request, self.source.currentText().strip(), index)

    def show_drawn(self) -> None:
        if not self._ready():
            return
        self.set_playing(False)
        self._request += 1
        self._in_flight = True
        self.worker.drawn_requested.emit(self._request, self.canvas.image.copy())

    def set_playing(self, on: bool) -> None:
        self._playing = on
        if self.play.isChecked() != on:
            self.play.setChecked(on)
        self.play.setText("Stop" if on else "Play")
        if on and not self._in_flight:
            self.step(1)

    def _ready(self) -> bool:
        if self.loaded is None:
            self.message.setText("Load a trained run first.")
            return False
        if self.controller.capture_busy:
            self.message.setText("A capture owns the bench: the reconstruction view waits for it to end.")
            return False
        return True

    # -- the chain: pattern -> DMD and camera -> net --------------------------------------------------
    def _pattern_ready(self, request_id: int, pattern: np.ndarray, description: str) -> None:
        if request_id == self._request:
            self.controller.show_and_snap(request_id, pattern, description)
            self.shown.set(description)

    def _snapped(self, snapped: tuple[int, np.ndarray]) -> None:
        request_id, speckle = snapped
        if request_id == self._request:
            self.worker.speckle_arrived.emit(request_id, speckle)

    def _result(self, request_id: int, result: object) -> None:
        self._in_flight = False
        self.last_result = result
        self.results += 1
        self.images.set_image(result.target, levels=(0.0, 1.0), col=0)
        self.images.set_image(result.speckle, col=1)
        self.images.set_image(result.output, levels=(0.0, 1.0), col=2)
        self.pcc.set(f"{result.pcc:.3f}")
        self.ssim.set("–" if math.isnan(result.ssim) else f"{result.ssim:.3f}")
        self.inference.set(f"{result.inference_s * 1e3:.1f} ms")
        self.max_dn.set(f"{int(np.max(result.speckle))} DN")
        self.laser_note.setVisible(not self.laser_on)
        now = time.perf_counter()
        self._result_times = [t for t in self._result_times if now - t < 2.0] + [now]
        if len(self._result_times) > 1:
            self.rate.set(f"{(len(self._result_times) - 1) / (now - self._result_times[0]):.1f} /s")
        self.message.setText("")
        if self._playing and request_id == self._request:
            self.step(1)

    def _laser(self, state: object) -> None:
        self.laser_on = bool(state.emission)
        self.laser_note.setVisible(not self.laser_on and self.results > 0)
        self.laser_note.setText(
            "⚠  The laser is off: the speckle shown is a dark frame (noise, stretched to its own range), and the "
            "reconstruction means nothing. Switch emission on on the Devices page."
        )

    def _failed(self, message: str) -> None:
        self._in_flight = False
        self.set_playing(False)
        self.message.setText(f"✗ {message}")
        self.message.setStyleSheet(f"color: {theme.ERROR};")
        if self.loaded is None:
            self.run_status.setText(f"✗ {message}")

    def _device_problem(self, _problem: object) -> None:
        if self._in_flight:  # the device refused the show or the snap: stop the chain, the banner says why
            self._in_flight = False
            self.set_playing(False)

    def _set_enabled(self) -> None:
        usable = self.controller.bench_info is not None and not self.controller.capture_busy
        for widget in (self.previous, self.next, self.play, self.send_drawn):
            widget.setEnabled(usable and self.loaded is not None)
        self.load.setEnabled(self.controller.bench_info is not None)
        if self.controller.capture_busy:
            self.set_playing(False)

    def shutdown(self) -> None:
        self.set_playing(False)
        self.worker.stop()
