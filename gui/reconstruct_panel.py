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
from PySide6.QtCore import Qt
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
from speckle_lab.gui.device_worker import LaserState
from speckle_lab.gui.draw_canvas import DrawCanvas
from speckle_lab.gui.fields import NumberField
from speckle_lab.gui.reconstruct_worker import ReconstructWorker
from speckle_lab.gui.settings import Settings
from speckle_lab.gui.widgets import Card, ElidedLabel, ImageGrid, Metric, button, label, metric_row, restyle
from speckle_lab.lab.reconstruction import TARGET_ROWS, Reconstruction
from speckle_lab.model.registry import KINDS


def kind_summary(kind: str) -> str:
    """The registry's one line on a model kind (the kinds are model/registry.py's)."""
    found = KINDS.get(kind)
    return found.summary if found is not None else "a model kind this version does not know"


LEFT_COLUMN_PX = 460


class ReconstructPanel(QWidget):
    def __init__(self, controller: LabController, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.worker = ReconstructWorker()
        self.worker.start()
        self.loaded: dict | None = None
        self.last_result: Reconstruction | None = None
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
        self.run_status.setFixedHeight(3 * self.run_status.fontMetrics().lineSpacing() + 4)  # moves nothing
        self.run_status.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        row.addWidget(self.run_status, 1)
        run.body.addLayout(row)

        # -- targets: step through a source (left), or draw one (right) ----------------------------------
        targets = Card("Targets", "Step through a source, or draw one")
        self.source = QComboBox()
        self.source.setEditable(True)
        self.source.addItems(READY_SPECS)
        self.source.setCurrentText("mnist")
        self.index = NumberField("target index", "", 0, TARGET_ROWS - 1, integer=True)
        self.index.set_text("0")
        self.index.submitted.connect(lambda _v: self.show_target())
        self.previous = button("◀ Previous")
        self.previous.clicked.connect(lambda: self.step(-1))
        self.next = button("Next ▶")
        self.next.clicked.connect(lambda: self.step(1))
        self.play = button("Play", "primary")
        self.play.setCheckable(True)
        self.play.toggled.connect(self.set_playing)
        stepping = QVBoxLayout()
        stepping.setSpacing(6)
        stepping.addWidget(label("Source", "muted"))
        stepping.addWidget(self.source)
        stepping.addWidget(label("Target #", "muted"))
        stepping.addWidget(self.index)
        steps = QHBoxLayout()
        steps.addWidget(self.previous)
        steps.addWidget(self.next)
        stepping.addLayout(steps)
        stepping.addWidget(self.play)
        stepping.addStretch(1)
        self.canvas = DrawCanvas()
        clear = button("Clear")
        clear.clicked.connect(self.canvas.clear)
        self.send_drawn = button("Send to the DMD", "primary")
        self.send_drawn.clicked.connect(self.show_drawn)
        drawing = QVBoxLayout()
        drawing.setSpacing(6)
        drawing.addWidget(label("Draw: left draws, right erases", "muted"))
        drawing.addWidget(self.canvas)
        draw_row = QHBoxLayout()
        draw_row.addWidget(clear)
        draw_row.addWidget(self.send_drawn, 1)
        drawing.addLayout(draw_row)
        drawing.addStretch(1)
        columns = QHBoxLayout()
        columns.setSpacing(16)
        columns.addLayout(stepping, 1)
        columns.addLayout(drawing)
        targets.body.addLayout(columns)

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
        # red while the speckle is a dark frame; its line is always there, so it moves nothing when it comes
        self.laser_note = ElidedLabel("", "saturation")
        live.body.addWidget(self.laser_note)
        self.laser_on = False
        self.message = ElidedLabel("", "cardSub")  # one line, always there: a message never shrinks the images
        live.body.addWidget(self.message)

        left = QVBoxLayout()
        left.setSpacing(14)
        left.addWidget(run)
        left.addWidget(targets)
        left.addStretch(1)
        left.setContentsMargins(0, 0, 0, 0)
        holder = QWidget()
        holder.setObjectName("page")
        holder.setLayout(left)
        scroll = QScrollArea()  # on a small screen the cards scroll rather than squeeze over each other
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(holder)
        scroll.setFixedWidth(LEFT_COLUMN_PX)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(14)
        layout.addWidget(scroll)
        layout.addWidget(live, 1)

        self.worker.loaded.connect(self._loaded)
        self.worker.load_failed.connect(self._load_failed)
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

    def offer_run(self, run_dir: str, data_paths: list[str]) -> None:
        """A run just trained in this panel: proposed in the Run field (and its first data file in Data, where
        its plan is read), ready for Load. A net in use stays in use until then."""
        self.run_dir.setText(str(run_dir))
        self.data_file.setText(str(data_paths[0]) if data_paths else "")
        if self.loaded is None:
            self.run_status.setText(f"The run trained last, {Path(run_dir).name}, is ready: Load it.")

    def load_run(self) -> None:
        info = self.controller.bench_info
        if info is None or not self.run_dir.text().strip():
            self.run_status.setText("Choose a run folder (and open a bench) first.")
            return
        self.set_playing(False)
        self.loaded = None  # the previous net is unloaded now: nothing runs on it while the new one loads
        self._set_enabled()
        data = self.data_file.text().strip()
        self.run_status.setText(f"Loading {self.run_dir.text().strip()} …")
        self.run_status.setStyleSheet("")
        self.worker.load_requested.emit(Path(self.run_dir.text().strip()), Path(data) if data else None, info)

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
            f"{Path(loaded['run']).name} · model {loaded['kind']}, epoch {loaded['epoch']} · targets {rows}×{cols} "
            f"placed as in {Path(loaded['data']).name} · camera {loaded['exposure_us']:g} µs and laser "
            f"{loaded['laser_power_w'] * 1e3:g} mW set as in training"
        )
        self.run_status.setToolTip(
            f"{loaded['run']}\nmodel {loaded['kind']}: {kind_summary(loaded['kind'])}\ntrained on {loaded['data']}"
        )
        self._set_enabled()

    def _load_failed(self, message: str) -> None:
        """The run could not be loaded: no net is in use (not the previous one), and the status says why."""
        self.loaded = None
        self.run_status.setText(f"✗ {message} · no net loaded")
        self.run_status.setStyleSheet(f"color: {theme.ERROR};")
        self.run_status.setToolTip(message)
        self._set_enabled()

    # -- targets --------------------------------------------------------------------------------------
    def step(self, delta: int) -> None:
        try:
            index = int(self.index.value())
        except ValueError:
            index = 0
        self.index.set_text(str(min(max(index + delta, 0), TARGET_ROWS - 1)))
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
            self.message.set_full_text("Load a trained run first.")
            return False
        if self.controller.capture_busy:
            self.message.set_full_text("A capture owns the bench: the reconstruction view waits for it to end.")
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

    def _result(self, request_id: int, result: Reconstruction) -> None:
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
        self._warn_dark()
        now = time.perf_counter()
        self._result_times = [t for t in self._result_times if now - t < 2.0] + [now]
        if len(self._result_times) > 1:
            self.rate.set(f"{(len(self._result_times) - 1) / (now - self._result_times[0]):.1f} /s")
        self.message.set_full_text("")
        if self._playing and request_id == self._request:
            self.step(1)

    def _laser(self, state: LaserState) -> None:
        self.laser_on = bool(state.emission)
        self._warn_dark()

    def _warn_dark(self) -> None:
        dark = not self.laser_on and self.results > 0
        text = "⚠  Laser off: the speckle is a dark frame, the reconstruction means nothing (Devices: emission on)"
        if (self.laser_note.full_text() == text) != dark:
            self.laser_note.set_full_text(text if dark else "")
            self.laser_note.setProperty("warning", dark)
            restyle(self.laser_note)

    def _failed(self, message: str) -> None:
        self._in_flight = False
        self.set_playing(False)
        self.message.set_full_text(f"✗ {message}")
        self.message.setStyleSheet(f"color: {theme.ERROR};")

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
