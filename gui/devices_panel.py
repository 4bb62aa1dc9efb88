"""The Devices page: the laser, the DMD and the camera's live view, each on a card.

Every control sends a request to the device thread and shows what the device then reports, never what
was asked: a refused setpoint leaves the readout as the device has it.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QHideEvent, QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from speckle_lab.acquisition.targets import READY_SPECS
from speckle_lab.gui.controller import LabController
from speckle_lab.gui.device_worker import BenchInfo, CameraState, LaserState
from speckle_lab.gui.fields import NumberField
from speckle_lab.gui.live_view import LiveView
from speckle_lab.gui.patterns import PATTERN_NAMES, PatternRequest
from speckle_lab.gui.settings import Settings
from speckle_lab.gui.states import laser_pill
from speckle_lab.gui.widgets import Card, ImageGrid, Metric, Pill, button, label, metric_row
from speckle_lab.lab.bench_session import PatternShown

log = logging.getLogger(__name__)


class LaserCard(Card):
    def __init__(self, controller: LabController) -> None:
        super().__init__("Laser", "—")
        self.controller = controller
        self.state: LaserState | None = None
        self.pill = Pill("OFF")
        self.header.addWidget(self.pill, 0, Qt.AlignmentFlag.AlignTop)

        self.measured = Metric("measured")
        self.setpoint = Metric("setpoint")
        self.body.addLayout(metric_row(self.measured, self.setpoint))

        row = QHBoxLayout()
        self.power_mw = NumberField("laser setpoint", "mW", 0.0, 100.0, decimals=1, note="safety limit")
        self.power_mw.submitted.connect(self._apply_power)
        self.apply_power = button("Set power")
        self.apply_power.clicked.connect(self.power_mw.submit)
        row.addWidget(self.power_mw, 1)
        row.addWidget(self.apply_power, 0, Qt.AlignmentFlag.AlignTop)
        self.body.addLayout(row)
        self.capture_owned = False

        self.emission = QPushButton("Emission off — click to turn on")
        self.emission.setObjectName("emission")
        self.emission.setCheckable(True)
        self.emission.setCursor(Qt.CursorShape.PointingHandCursor)
        self.emission.clicked.connect(self._toggle_emission)
        self.body.addWidget(self.emission)

        grid = QFormLayout()
        grid.setHorizontalSpacing(16)
        self.interlock = label("—")
        self.fault = label("—")
        self.hours = label("—")
        grid.addRow(label("Interlock", "muted"), self.interlock)
        grid.addRow(label("Fault", "muted"), self.fault)
        grid.addRow(label("Hours", "muted"), self.hours)
        self.body.addLayout(grid)

    def set_info(self, info: BenchInfo) -> None:
        low, high = info.power_range_w
        self.power_mw.set_range(low * 1e3, high * 1e3)
        self.set_subtitle(info.identities.get("laser", ""))

    def show_state(self, state: LaserState) -> None:
        self.state = state
        self.power_mw.show_device_value(state.setpoint_w * 1e3)  # the laser's own setpoint, unless typing
        text, kind = laser_pill(state)
        self.pill.set_state(text.removeprefix("Laser ").split(" ")[0] if kind != "active" else "EMITTING", kind)
        self.measured.set(f"{state.measured_w * 1e3:.2f} mW")
        self.setpoint.set(f"{state.setpoint_w * 1e3:.1f} mW")
        self.emission.setChecked(state.emission)
        self._label_emission()
        self.interlock.setText("closed ✓" if state.interlock_closed else "OPEN ✗")
        self.fault.setText(state.fault or "none")
        self.hours.setText("—" if state.hours is None else f"{state.hours:.1f} h")

    def _label_emission(self) -> None:
        emitting = self.state is not None and self.state.emission
        if self.capture_owned:
            text = "Emitting — click: laser OFF now (aborts the capture)" if emitting else "Off (the capture owns it)"
        else:
            text = "Emitting — click to turn off" if emitting else "Emission off — click to turn on"
        self.emission.setText(text)
        # Switching off is always possible; switching on only while no capture owns the laser.
        self.emission.setEnabled(emitting or not self.capture_owned)

    def set_capture_owned(self, owned: bool) -> None:
        self.capture_owned = owned
        self._label_emission()

    def _apply_power(self, power_mw: float) -> None:
        self.controller.set_power_w(power_mw / 1e3)

    def _toggle_emission(self) -> None:
        on = not (self.state.emission if self.state else False)
        self.emission.setChecked(self.state.emission if self.state else False)  # the device decides
        if on:
            self.controller.set_emission(True)
        else:
            self.controller.laser_off_now()


class DmdCard(Card):
    def __init__(self, controller: LabController, settings: Settings) -> None:
        super().__init__("DMD", "—")
        self.controller = controller
        self.preview = ImageGrid()
        self.preview.setMinimumHeight(150)
        self.body.addWidget(self.preview, 1)
        self._shown = "—"
        self._capture_owned = False
        self.shown_label = label("DMD shows: —", "cardSub", wrap=True)
        self.shown_label.setFixedHeight(2 * self.shown_label.fontMetrics().lineSpacing() + 4)  # new text moves nothing
        self.body.addWidget(self.shown_label)
        self.geometry_label = label("", "cardSub", wrap=True)
        self.body.addWidget(self.geometry_label)

        form = QFormLayout()
        form.setHorizontalSpacing(12)
        self.kind = QComboBox()
        for key, name in PATTERN_NAMES.items():
            self.kind.addItem(name, key)
        settings.bind(self.kind, "devices/dmd_pattern")
        self.source = QComboBox()
        self.source.setEditable(True)
        self.source.addItems(READY_SPECS)
        self.source.setCurrentText("mnist")
        settings.bind(self.source, "devices/dmd_source")
        self.index = QSpinBox()
        self.index.setRange(0, 1_000_000)
        settings.bind(self.index, "devices/dmd_index")
        self.target_size = QSpinBox()  # not `self.size`: that would hide QWidget.size()
        self.target_size.setRange(2, 4096)
        self.target_size.setValue(32)
        self.target_size.setSuffix(" macropixels")
        settings.bind(self.target_size, "devices/dmd_target_size")
        form.addRow("Pattern", self.kind)
        form.addRow("Source", self.source)
        form.addRow("Target #", self.index)
        form.addRow("Size", self.target_size)
        self.body.addLayout(form)
        self.show_button = button("Show on the DMD", "primary")
        self.show_button.clicked.connect(self._show)
        self.body.addWidget(self.show_button)
        self.kind.currentIndexChanged.connect(self.update_enabled)
        self.update_enabled()

    def set_info(self, info: BenchInfo) -> None:
        g = info.geometry
        rows, cols = g.mirror_shape
        self.set_subtitle(info.identities.get("dmd", ""))
        self.geometry_label.setText(
            f"{cols}×{rows} mirrors · active area {g.side_macropixels}×{g.side_macropixels} macropixels "
            f"of {g.macropixel_mirrors}×{g.macropixel_mirrors} mirrors"
        )
        self.target_size.setMaximum(g.side_macropixels)

    def show_pattern(self, shown: PatternShown) -> None:
        """What the DMD really shows (read back where it can), and what it is."""
        pattern = shown.pattern
        self.preview.set_image(pattern, levels=(0, 255 if pattern.dtype == "uint8" else 1))
        self._shown = shown.description
        self._say_who_drives()

    def set_capture_owned(self, owned: bool) -> None:
        """While a capture runs it drives the DMD (its own targets, thousands a second): the card says so
        rather than naming what was shown before."""
        self._capture_owned = owned
        self._say_who_drives()

    def _say_who_drives(self) -> None:
        if self._capture_owned:
            text = "DMD: the capture drives it now (the preview is from before it)"
        else:
            text = f"DMD shows: {self._shown}"
        self.shown_label.setText(text)
        self.shown_label.setToolTip(text)

    def request(self) -> PatternRequest:
        return PatternRequest(
            self.kind.currentData(), self.source.currentText().strip(), self.index.value(), self.target_size.value()
        )

    def _show(self) -> None:
        self.controller.show_pattern(self.request())

    def update_enabled(self) -> None:
        is_target = self.kind.currentData() == "target"
        for widget in (self.source, self.index, self.target_size):
            widget.setEnabled(is_target)


class CameraCard(Card):
    def __init__(self, controller: LabController, settings: Settings) -> None:
        super().__init__("Camera", "—")
        self.controller = controller
        self.live = False
        self.live_button = button("Start live view", "primary")
        self.live_button.clicked.connect(lambda: controller.set_live(not self.live))
        self.header.addWidget(self.live_button, 0, Qt.AlignmentFlag.AlignTop)
        self.view = LiveView()
        self.view.frame_drawn.connect(controller.frame_shown)
        settings.bind(self.view.auto_levels, "devices/auto_levels")
        self.view.persist_levels(settings, "devices/live_levels_dn")
        self.body.addWidget(self.view, 1)

        controls = QGridLayout()
        controls.setHorizontalSpacing(10)
        controls.setVerticalSpacing(6)
        self.exposure_us = NumberField("exposure", "µs", 1.0, 10_000_000.0, decimals=1)
        self.exposure_us.submitted.connect(controller.set_exposure_us)
        self.gain_db = NumberField("gain", "dB", 0.0, 48.0, decimals=1)
        self.gain_db.submitted.connect(controller.set_gain_db)
        controls.addWidget(label("Exposure", "muted"), 0, 0, Qt.AlignmentFlag.AlignTop)
        controls.addWidget(self.exposure_us, 0, 1)
        controls.addWidget(label("Gain", "muted"), 0, 2, Qt.AlignmentFlag.AlignTop)
        controls.addWidget(self.gain_db, 0, 3)

        self.roi = [
            NumberField(name, "px", 0, 100_000, integer=True)
            for name in ("ROI top row", "ROI left column", "ROI height", "ROI width")
        ]
        roi_row = QHBoxLayout()
        roi_row.setSpacing(6)
        for field, prefix in zip(self.roi, ("row", "col", "h", "w"), strict=True):
            roi_row.addWidget(label(prefix, "muted"), 0, Qt.AlignmentFlag.AlignTop)
            roi_row.addWidget(field, 1)
            field.submitted.connect(lambda _value: self._apply_roi())
        self.apply_roi = button("Apply")
        self.apply_roi.clicked.connect(self._apply_roi)
        self.full_roi = button("Full sensor")
        self.full_roi.clicked.connect(lambda: controller.set_roi(None))
        roi_row.addWidget(self.apply_roi, 0, Qt.AlignmentFlag.AlignTop)
        roi_row.addWidget(self.full_roi, 0, Qt.AlignmentFlag.AlignTop)
        controls.addWidget(label("ROI", "muted"), 1, 0, Qt.AlignmentFlag.AlignTop)
        controls.addLayout(roi_row, 1, 1, 1, 3)
        self.roi_error = label("", "fieldError", wrap=True)
        self.roi_error.setStyleSheet("color: #ef5a5f;")
        self.roi_error.hide()
        controls.addWidget(self.roi_error, 2, 1, 1, 3)
        controls.setColumnStretch(1, 1)
        controls.setColumnStretch(3, 1)
        self.body.addLayout(controls)
        self.sensor_shape = (100_000, 100_000)
        self.view.roi_drawn.connect(self._roi_drawn)

    def set_info(self, info: BenchInfo) -> None:
        self.set_subtitle(info.identities.get("camera", ""))
        self.view.set_bit_depth(info.bit_depth)
        self.exposure_us.set_range(*info.exposure_range_us)
        self.gain_db.set_range(*info.gain_range_db)
        rows, cols = self.sensor_shape = info.sensor_shape
        for field, high in zip(self.roi, (rows - 1, cols - 1, rows, cols), strict=True):
            field.set_range(0 if high in (rows - 1, cols - 1) else 1, high)

    def show_state(self, state: CameraState) -> None:
        self.live = state.live
        self.live_button.setText("Stop live view" if state.live else "Start live view")
        self.live_button.setProperty("role", "" if state.live else "primary")
        self.live_button.style().unpolish(self.live_button)
        self.live_button.style().polish(self.live_button)
        self.view.set_live(state.live)
        self.exposure_us.show_device_value(state.exposure_us)
        self.gain_db.show_device_value(state.gain_db)
        roi = state.roi
        for field, value in zip(self.roi, (roi.row, roi.col, roi.height, roi.width), strict=True):
            field.show_device_value(value)

    def roi_values(self) -> tuple[int, int, int, int] | None:
        """The typed ROI, or None (each refusal shown next to its field, the sensor check below them)."""
        values = []
        for field in self.roi:
            try:
                values.append(int(field.value()))
                field.clear_refusal()
            except ValueError:
                field.submit()  # shows why, sends nothing (submitted only fires for valid values)
                return None
        row, col, height, width = values
        rows, cols = self.sensor_shape
        if row + height > rows or col + width > cols:
            reason = f"rows {row}..{row + height - 1} × cols {col}..{col + width - 1} leave the {rows}×{cols} sensor"
            self.roi_error.setText(f"Refused, nothing sent: {reason}")
            self.roi_error.show()
            log.warning("region of interest refused: %s", reason)
            return None
        self.roi_error.hide()
        return row, col, height, width

    def _apply_roi(self) -> None:
        roi = self.roi_values()
        if roi is not None:
            self.controller.set_roi(roi)

    def _roi_drawn(self, roi: tuple[int, int, int, int]) -> None:
        """A box drawn on the live image (in the current ROI's pixels) becomes the ROI on the sensor."""
        current = self.view.image_origin
        row, col, height, width = roi
        for field, value in zip(self.roi, (row + current[0], col + current[1], height, width), strict=True):
            field.set_text(str(value))
        self._apply_roi()


LOCK_NOTE = "A capture owns the devices: these controls come back when it ends (pause or abort it on Acquisition)"


class DevicesPanel(QWidget):
    """Laser and DMD on the left, the camera filling the rest. While a capture runs, the page's note (shown
    under its title, in a fixed place) says why the controls are locked."""

    note_changed = Signal(str)

    def __init__(self, controller: LabController, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.laser = LaserCard(controller)
        self.dmd = DmdCard(controller, settings)
        self.camera = CameraCard(controller, settings)
        self.note = ""
        left = QVBoxLayout()
        left.setContentsMargins(0, 0, 0, 0)
        left.setSpacing(14)
        left.addWidget(self.laser)
        left.addWidget(self.dmd, 1)
        holder = QWidget()
        holder.setObjectName("page")
        holder.setLayout(left)
        scroll = QScrollArea()  # the cards keep their size on a small screen: no control squeezed over another
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(holder)
        layout = QGridLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setHorizontalSpacing(14)
        layout.setVerticalSpacing(10)
        layout.addWidget(scroll, 0, 0)
        layout.addWidget(self.camera, 0, 1)
        layout.setColumnStretch(1, 1)
        left_width = 340
        self.laser.setFixedWidth(left_width)
        self.dmd.setFixedWidth(left_width)
        scroll.setFixedWidth(left_width + 14)

        controller.bench_opened.connect(self._opened)
        controller.laser.connect(self.laser.show_state)
        controller.camera.connect(self.camera.show_state)
        controller.pattern.connect(self.dmd.show_pattern)
        controller.frame.connect(self.camera.view.show_frame)
        controller.capture_state.connect(lambda state: self.set_locked(state != "idle"))
        controller.capture_state.connect(lambda state: self.laser.set_capture_owned(state != "idle"))
        controller.capture_state.connect(lambda state: self.dmd.set_capture_owned(state != "idle"))
        self.set_enabled_controls(False)

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (Qt's name)
        super().showEvent(event)
        self.controller.hide_live(False)

    def hideEvent(self, event: QHideEvent) -> None:  # noqa: N802 (Qt's name)
        super().hideEvent(event)
        self.controller.hide_live(True)

    def _opened(self, info: BenchInfo) -> None:
        for card in (self.laser, self.dmd, self.camera):
            card.set_info(info)
        self.set_enabled_controls(True)

    def set_locked(self, locked: bool) -> None:
        note = LOCK_NOTE if locked else ""
        if note != self.note:
            self.note = note
            self.note_changed.emit(note)
        self.set_enabled_controls(not locked)

    def set_enabled_controls(self, enabled: bool) -> None:
        widgets = [
            self.laser.power_mw,
            self.laser.apply_power,
            self.dmd.show_button,
            self.dmd.kind,
            self.camera.live_button,
            self.camera.exposure_us,
            self.camera.gain_db,
            self.camera.apply_roi,
            self.camera.full_roi,
            *self.camera.roi,
        ]
        for widget in widgets:
            widget.setEnabled(enabled)
        if enabled:
            self.dmd.update_enabled()
        else:
            for widget in (self.dmd.source, self.dmd.index, self.dmd.target_size):
                widget.setEnabled(False)
