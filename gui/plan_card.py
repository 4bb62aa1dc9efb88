"""The capture plan form: target source, count, placement, display, exposure, power, output, preflight."""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
)

from speckle_lab.acquisition.plan import DISPLAY_MODES, CapturePlan, PlanError, plan_from_dict
from speckle_lab.acquisition.targets import READY_SPECS
from speckle_lab.gui.fields import NumberField
from speckle_lab.gui.paths import default_data_dir, fresh_name
from speckle_lab.gui.settings import Settings
from speckle_lab.gui.widgets import Card, bound_form_rows, button, label

log = logging.getLogger(__name__)

PREFLIGHT_LINES = 4  # the preflight's height, fixed: the buttons under it stay where they are
CREATE_FOLDER_LINK = "create-folder"


class PlanCard(Card):
    """The plan's fields, its preflight estimate and the run buttons."""

    changed = Signal()

    def __init__(self, settings: Settings) -> None:
        super().__init__("Capture plan", "What the DMD shows, how many frames, with which settings")
        form = QFormLayout()
        form.setHorizontalSpacing(12)
        form.setVerticalSpacing(7)
        self.targets = QComboBox()
        self.targets.setEditable(True)
        self.targets.addItems(READY_SPECS)
        self.targets.setCurrentText("mnist")
        self.targets.setToolTip("A target source: pick one or type a spec, e.g. folder:/data/faces or blobs:size=48")
        self.n_frames = QSpinBox()
        self.n_frames.setRange(1, 100_000_000)
        self.n_frames.setGroupSeparatorShown(True)
        self.n_frames.setValue(10_000)
        self.target_size = QSpinBox()
        self.target_size.setRange(2, 4096)
        self.target_size.setValue(32)
        self.target_size.setSuffix(" macropixels")
        self.placement = QComboBox()
        self.placement.addItems(["fixed", "random"])
        self.display = QComboBox()
        self.display.addItems(list(DISPLAY_MODES))
        self.display.setToolTip("gray: 8-bit DMD levels; threshold, dither, ordered: binary patterns (faster)")
        self.exposure_us = NumberField("plan exposure", "µs", 1.0, 10_000_000.0, decimals=1)
        self.exposure_us.set_text("40.0")
        self.power_mw = NumberField("plan laser power", "mW", 0.0, 100.0, decimals=1, note="the bench's limit")
        self.power_mw.set_text("50.0")
        self.reference_every = QSpinBox()
        self.reference_every.setRange(1, 10_000_000)
        self.reference_every.setValue(1000)
        self.reference_every.setPrefix("every ")
        self.reference_every.setSuffix(" rows")
        self.out = QLineEdit(str(fresh_name(default_data_dir(), "capture", ".h5")))
        browse = button("…", "tool", "Choose the output file")
        browse.clicked.connect(self._browse)
        renew = button("↻", "tool", "A new, time-stamped file name in the same folder")
        renew.clicked.connect(self.new_file_name)
        out_row = QHBoxLayout()
        out_row.setSpacing(6)
        out_row.addWidget(self.out, 1)
        out_row.addWidget(browse)
        out_row.addWidget(renew)
        rows = (
            ("Targets", "targets", self.targets),
            ("Frames", "n_frames", self.n_frames),
            ("Target size", "target_size", self.target_size),
            ("Placement", "placement", self.placement),
            ("DMD display", "display", self.display),
            ("Exposure", "exposure_us", self.exposure_us),
            ("Laser power", "laser_power_mw", self.power_mw),
            ("Reference", "reference_every", self.reference_every),
        )
        bound_form_rows(form, settings, "acquisition", rows)
        form.addRow(label("Output", "muted"), out_row)
        settings.bind(self.out, "acquisition/out")
        if self.out_path().parent == default_data_dir():  # a fresh machine: the proposed folder must exist
            with contextlib.suppress(OSError):  # else the preflight says why the file cannot be written
                default_data_dir().mkdir(parents=True, exist_ok=True)
        self.out.setToolTip(self.out.text())
        self.out.textChanged.connect(self.out.setToolTip)  # the whole path, however narrow the field
        self.body.addLayout(form)
        for widget in (*(widget for _, _, widget in rows), self.out):
            field = widget.edit if isinstance(widget, NumberField) else widget  # a NumberField: its line edit
            if isinstance(field, QComboBox):
                field.currentTextChanged.connect(self.changed)
            else:  # a line edit or a spin box: every keystroke
                field.textChanged.connect(self.changed)

        self.body.addStretch(1)

        # What to run and its preflight: a bar of its own under the form, always in view (the form scrolls on a
        # small screen), its text in a fixed height so a new estimate never moves the buttons under the mouse.
        self.run_bar = QFrame()
        self.run_bar.setObjectName("card")
        bar = QVBoxLayout(self.run_bar)
        bar.setContentsMargins(14, 10, 14, 12)
        bar.setSpacing(8)
        self.preflight = label("Preflight: waiting for the bench…", "cardSub", wrap=True)
        self.preflight.setTextFormat(Qt.TextFormat.RichText)
        self.preflight.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.preflight.setFixedHeight(PREFLIGHT_LINES * self.preflight.fontMetrics().lineSpacing() + 4)
        self.preflight.linkActivated.connect(self._link)
        bar.addWidget(self.preflight)
        buttons = QHBoxLayout()
        self.start = button("Start capture", "primary")
        self.pause = button("Pause")
        self.abort = button("Abort", "danger")
        buttons.addWidget(self.start, 2)
        buttons.addWidget(self.pause, 1)
        buttons.addWidget(self.abort, 1)
        bar.addLayout(buttons)
        more = QHBoxLayout()
        self.queue = button("Run a queue…", tooltip="Run the plans of a QUEUE.toml one after the other")
        self.resume = button("Resume a file…", tooltip="Continue an interrupted capture from its first missing row")
        more.addWidget(self.queue)
        more.addWidget(self.resume)
        bar.addLayout(more)

    def _link(self, target: str) -> None:
        if target == CREATE_FOLDER_LINK:
            self.create_folder()

    @staticmethod
    def _typed(field: NumberField) -> float:
        """The typed value; refused (reason next to the field, PlanError naming it) rather than clamped."""
        try:
            value = field.value()
        except ValueError as error:
            field.submit()  # shows the reason next to the field; nothing is sent
            raise PlanError(f"plan: {field.what}: {error}") from None
        field.clear_refusal()
        return value

    def plan(self) -> CapturePlan:
        """The plan of the fields (raises PlanError naming the field)."""
        size = self.target_size.value()
        return plan_from_dict(
            {
                "targets": self.targets.currentText().strip(),
                "n_frames": self.n_frames.value(),
                "target_rows": size,
                "target_cols": size,
                "placement": {"mode": self.placement.currentText()},
                "display": self.display.currentText(),
                "exposure_us": self._typed(self.exposure_us),
                "laser_power_w": self._typed(self.power_mw) / 1e3,
                "reference_every": self.reference_every.value(),
            },
            "plan",
        )

    def out_path(self) -> Path:
        return Path(self.out.text().strip()).expanduser()

    def new_file_name(self) -> None:
        folder = self.out_path().parent if self.out.text().strip() else default_data_dir()
        self.out.setText(str(fresh_name(folder, "capture", ".h5")))

    def create_folder(self) -> None:
        """The output file's folder, with its parents (offered in the preflight when it is missing)."""
        folder = self.out_path().parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            self.preflight.setText(f"✗ {folder} could not be created: {error.strerror or error}")
            return
        log.info("created the output folder %s", folder)
        self.changed.emit()

    def _browse(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Capture into", str(self.out_path()), "HDF5 (*.h5 *.hdf5)")
        if path:
            self.out.setText(path)

    def set_form_enabled(self, enabled: bool) -> None:
        for widget in (
            self.targets,
            self.n_frames,
            self.target_size,
            self.placement,
            self.display,
            self.exposure_us,
            self.power_mw,
            self.reference_every,
            self.out,
        ):
            widget.setEnabled(enabled)
