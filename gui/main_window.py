"""The window: a navigation rail (Devices, Acquisition, Training, Reconstruct) with the LASER OFF button,
the error banner above the page, a menu bar, a log panel, and a status bar where the laser's state is always
visible. Laser off is one click or Ctrl+L from any page, at any time (during a capture it aborts it).

Closing does not block: the first close request starts the controller's shutdown (capture aborted with
its file valid, training stopped, laser off, devices closed) and the window closes when that is done.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QByteArray, QSize, Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QDockWidget,
    QFrame,
    QHBoxLayout,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from speckle_lab.gui import icons, theme
from speckle_lab.gui.acquisition_panel import AcquisitionPanel
from speckle_lab.gui.capture_worker import CaptureUpdate, JobReport
from speckle_lab.gui.controller import LabController
from speckle_lab.gui.device_worker import BenchInfo, LaserState
from speckle_lab.gui.devices_panel import DevicesPanel
from speckle_lab.gui.errors import ALARM_HINT, ALARM_TITLE, Problem
from speckle_lab.gui.log_panel import LogPanel
from speckle_lab.gui.reconstruct_panel import ReconstructPanel
from speckle_lab.gui.settings import Settings
from speckle_lab.gui.states import capture_pill, laser_pill
from speckle_lab.gui.training_panel import TrainingPanel
from speckle_lab.gui.widgets import Banner, ElidedLabel, MessageSlot, Pill, button, label, restyle, wheel_needs_focus

log = logging.getLogger(__name__)

LASER_OFF_KEYS = "Ctrl+L"
SIDEBAR_PX = 180  # the navigation rail: narrow, so the pages have the width at 1280x800
QUIT_KEYS = "Ctrl+Q"  # not StandardKey.Quit: it is empty on Windows and on the offscreen platform

PAGES = (
    ("Devices", "Laser, DMD and camera: align, check, look", icons.devices),
    ("Acquisition", "Capture (target, speckle) pairs into HDF5", icons.acquisition),
    ("Training", "Teach a net to see through the diffuser", icons.training),
    ("Reconstruct", "A trained net looking through the diffuser, live", icons.reconstruct),
)


class MainWindow(QMainWindow):
    ready = Signal()  # everything is loaded behind the window (gui/startup.py)

    def __init__(self, controller: LabController, settings: Settings) -> None:
        super().__init__()
        self._ready = False
        self.controller = controller
        self.settings = settings
        self.setWindowTitle("speckle-lab")
        self.resize(1440, 900)
        self.setMinimumSize(1100, 720)
        self._closed = False
        self._laser_alarm = False  # an alarm stands: no read-back has said the laser is off since
        self._last_alarm = ""
        self.alarm_at_close = False  # the panel closed its devices with an alarm standing (exit code 3)
        self.closing_by_signal = False  # a signal asked to close: the window closes even with an alarm

        self.devices = DevicesPanel(controller, settings)
        self.acquisition = AcquisitionPanel(controller, settings)
        self.training = TrainingPanel(controller, settings)
        self.reconstruct = ReconstructPanel(controller, settings)

        self.nav = QListWidget()
        self.nav.setObjectName("nav")
        self.nav.setIconSize(QSize(20, 20))
        self.nav.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        for name, _, icon in PAGES:
            self.nav.addItem(QListWidgetItem(icon(theme.TEXT), f"  {name}"))
        sidebar = QFrame()
        sidebar.setObjectName("sidebar")
        sidebar.setFixedWidth(SIDEBAR_PX)
        side = QVBoxLayout(sidebar)
        side.setContentsMargins(12, 18, 12, 14)
        side.setSpacing(2)
        side.addWidget(label("speckle-lab", "brand"))
        side.addWidget(label("imaging through scattering media", "brandSub", wrap=True))
        side.addWidget(self.nav, 1)
        self.laser_off = button(f"■  LASER OFF\n{LASER_OFF_KEYS}", "danger")
        self.laser_off.setObjectName("laserOff")
        self.laser_off.setToolTip("Switch emission off now, from any page; a running capture is aborted (resumable)")
        self.laser_off.setStyleSheet(
            f"QPushButton#laserOff {{ background: {theme.ERROR}; color: white; font-weight: 700; padding: 10px;"
            " border-radius: 6px; } QPushButton#laserOff:pressed { background: #b83a3f; }"
        )
        self.laser_off.setCursor(Qt.CursorShape.PointingHandCursor)
        self.laser_off.clicked.connect(self.laser_off_now)
        side.addWidget(self.laser_off)
        self.bench_label = label("Opening the bench…", "brandSub", wrap=True)
        side.addWidget(self.bench_label)

        self.pages = QStackedWidget()
        for page in (self.devices, self.acquisition, self.training, self.reconstruct):
            page.setObjectName("page")
            self.pages.addWidget(page)
        self.title = label("", "pageTitle")
        self.subtitle = ElidedLabel("", "pageSub")
        content = QWidget()
        content.setObjectName("page")
        column = QVBoxLayout(content)
        column.setContentsMargins(22, 16, 22, 16)
        column.setSpacing(12)
        titles = QWidget()
        title_column = QVBoxLayout(titles)
        title_column.setContentsMargins(0, 0, 0, 0)
        title_column.setSpacing(2)
        title_column.addWidget(self.title)
        title_column.addWidget(self.subtitle)
        self.banner = Banner()
        self.message_slot = MessageSlot(titles, self.banner)  # a message shows in the title's stead
        column.addWidget(self.message_slot)
        column.addWidget(self.pages, 1)
        central = QWidget()
        row = QHBoxLayout(central)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(0)
        row.addWidget(sidebar)
        row.addWidget(content, 1)
        self.setCentralWidget(central)

        self.laser_pill = Pill("Laser —")
        self.capture_pill = Pill("Capture idle")
        self.training_pill = Pill("Training idle")
        bar = self.statusBar()
        bar.setSizeGripEnabled(False)
        bar.addWidget(self.laser_pill)
        bar.addWidget(self.capture_pill)
        bar.addWidget(self.training_pill)
        self.status_note = label("", "muted")
        bar.addPermanentWidget(self.status_note)

        self.nav.currentRowChanged.connect(self._page_changed)
        self.nav.setCurrentRow(min(max(settings.get("window/page", 0), 0), len(PAGES) - 1))
        geometry = settings.get("window/geometry", QByteArray())
        if not geometry.isEmpty():
            self.restoreGeometry(geometry)
        self.laser_off_shortcut = QShortcut(QKeySequence(LASER_OFF_KEYS), self, self.laser_off_now)
        self.laser_off_shortcut.setContext(Qt.ShortcutContext.ApplicationShortcut)
        self.log_panel = LogPanel()
        self.log_dock = QDockWidget("Log", self)
        self.log_dock.setObjectName("logDock")
        self.log_dock.setWidget(self.log_panel)
        self.log_dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetClosable)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.log_dock)
        self.resizeDocks([self.log_dock], [110], Qt.Orientation.Vertical)
        self._build_menu()
        wheel_needs_focus(self)  # a scrolled page never edits the field under the pointer
        for widget in self.findChildren(QWidget):  # style every page now, not on its first show (a stall)
            widget.ensurePolished()

        controller.problem.connect(self.show_problem)
        controller.alarm.connect(self.show_alarm)
        controller.bench_opened.connect(self._bench_opened)
        controller.laser.connect(self._laser)
        controller.capture_state.connect(self._capture_state)
        controller.capture_update.connect(self._capture_update)
        controller.capture_job_done.connect(self._capture_job_done)
        controller.training_state.connect(self._training_state)
        controller.training_epoch.connect(self._training_epoch)
        controller.shutdown_complete.connect(self._shutdown_complete)
        self.acquisition.capture_file.connect(self.training.set_capture_path)
        self.devices.note_changed.connect(self._show_subtitle)
        self.training.run_trained.connect(self.reconstruct.offer_run)

    def _build_menu(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        quit_action = QAction("&Quit", self)
        quit_action.setShortcut(QKeySequence(QUIT_KEYS))  # one owner: Qt ignores a key two shortcuts share
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)
        laser_menu = bar.addMenu("&Laser")
        off = QAction(f"Laser &OFF now\t{LASER_OFF_KEYS}", self)
        off.triggered.connect(self.laser_off_now)
        laser_menu.addAction(off)
        view_menu = bar.addMenu("&View")
        for index, (name, _, _) in enumerate(PAGES):
            action = QAction(name, self)
            action.setShortcut(QKeySequence(f"Ctrl+{index + 1}"))
            action.triggered.connect(lambda _checked=False, n=name: self.show_page(n))
            view_menu.addAction(action)
        view_menu.addSeparator()
        view_menu.addAction(self.log_dock.toggleViewAction())
        capture_menu = bar.addMenu("&Capture")
        for text, slot in (
            ("Pause / resume", self.acquisition.toggle_pause),
            ("Abort", self.controller.abort_capture),
        ):
            action = QAction(text, self)
            action.triggered.connect(slot)
            capture_menu.addAction(action)

    # -- start-up -----------------------------------------------------------------------------------------
    @property
    def is_ready(self) -> bool:
        return self._ready

    def mark_ready(self, seconds: float) -> None:
        """The modules loaded behind the window are in (the bench opens on its own and says so)."""
        self._ready = True
        log.info("panel loaded behind the window in %.1f s", seconds)
        self.ready.emit()

    # -- safety -------------------------------------------------------------------------------------
    def laser_off_now(self) -> None:
        """The one-click (and Ctrl+L) laser off: at once, from any page; a capture is aborted, resumable. What it
        acted on is said: the laser switched off and read back, or that no laser is open (and why that is known
        off); a laser not confirmed off is the alarm banner (from `show_alarm`)."""
        busy = self.controller.capture_busy
        result = self.controller.laser_off_now()
        if not result.confirmed:
            return
        aborted = "The capture was aborted; its file is valid and can be resumed." if busy else ""
        if result.message:
            self.banner.show_info("Laser off: no laser is open", " ".join(filter(None, [result.message, aborted])))
            self.laser_pill.set_state("Laser OFF · no laser open", "idle")  # until a laser is read again
        else:
            self.banner.show_info("Laser switched off", aborted)

    def show_alarm(self, message: str) -> None:
        """Every alarm path ends here (LASER OFF, a capture's switch-off, a bench's connect or close, closing the
        panel): the red banner, the status bar, the log. It stays until the laser reads off."""
        log.error("LASER ALARM: %s", message)
        self._laser_alarm = True
        self._last_alarm = message
        self.laser_pill.set_state("Laser ALARM: not confirmed off", "error")
        self.banner.show_problem(Problem(ALARM_TITLE, message, ALARM_HINT))

    # -- navigation ---------------------------------------------------------------------------------
    def show_page(self, name: str) -> None:
        self.nav.setCurrentRow([n for n, _, _ in PAGES].index(name))

    def _page_changed(self, row: int) -> None:
        self.pages.setCurrentIndex(row)
        self.title.setText(PAGES[row][0])
        self._show_subtitle()
        self.settings.set("window/page", row)

    def _show_subtitle(self, *_: object) -> None:
        """The page's own description, or its note while it has one (the Devices page, locked by a capture):
        in the title's fixed place, so the note moves nothing on the page."""
        row = self.pages.currentIndex()
        note = getattr(self.pages.widget(row), "note", "")
        self.subtitle.set_full_text(note or PAGES[row][1])
        self.subtitle.setProperty("note", bool(note))
        restyle(self.subtitle)

    # -- what the lab reports -----------------------------------------------------------------------
    def show_problem(self, problem: Problem) -> None:
        log.warning("%s", problem)
        self.banner.show_problem(problem)

    def _bench_opened(self, info: BenchInfo) -> None:
        kind = "simulated" if info.simulated else "hardware"
        self.bench_label.setText(f"{info.name}\n{kind} · {info.source}")
        self.bench_label.setToolTip("\n".join(f"{k}: {v}" for k, v in info.identities.items()))
        self.status_note.setText(info.name)

    def _laser(self, state: LaserState) -> None:
        if self._laser_alarm and state.emission:  # the alarm stays until the laser reads off
            self.laser_pill.set_state("Laser ALARM: still ON", "error")
            return
        self._laser_alarm = False
        self.laser_pill.set_state(*laser_pill(state))

    def _capture_state(self, state: str) -> None:
        text, kind = capture_pill(state)
        self.capture_pill.set_state(f"Capture {text}", kind)
        if state != "idle":
            log.info("capture: %s", state)

    def _capture_update(self, update: CaptureUpdate) -> None:
        """Progress only while the engine runs (not while pausing, paused, resuming or stopping)."""
        if self.controller.capture_state_now != "running" or not update.rows_total or update.paused:
            return
        rate = f" · {update.frames_per_s:,.0f} fps" if update.frames_per_s else ""
        self.capture_pill.set_state(f"Capture {update.rows_done / update.rows_total:.0%}{rate}", "info")

    def _capture_job_done(self, report: JobReport) -> None:
        if report.status == "complete" and self.banner.isHidden():
            self.banner.show_info(f"Capture complete: {report.out.name}", report.message)

    def _training_state(self, state: str) -> None:
        kinds = {"idle": "idle", "running": "info", "stopping": "warn", "evaluating": "info"}
        self.training_pill.set_state(f"Training {state}", kinds.get(state, "idle"))

    def _training_epoch(self, event: dict) -> None:
        if self.training_pill.kind == "info":  # the validation metric that picks the best epoch of this run
            metric = self.training.selection_metric
            value = event.get("val", {}).get(str(metric), float("nan"))
            self.training_pill.set_state(
                f"Training epoch {event['epoch']}/{event['epochs']} · {metric.short} {value:.3f}", "info"
            )

    # -- closing ------------------------------------------------------------------------------------
    @property
    def closed_cleanly(self) -> bool:
        return self._closed

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt's name)
        if self._closed:
            self.log_panel.detach()
            event.accept()
            return
        event.ignore()
        if not self.controller.shutting_down:
            self.settings.set("window/geometry", self.saveGeometry())
            self.settings.sync()
            busy = [
                what
                for what, flag in (
                    ("the capture", self.controller.capture_busy),
                    ("the training", self.controller.training_busy),
                )
                if flag
            ]
            detail = f"Stopping {' and '.join(busy)}; " if busy else ""
            self.banner.show_info("Closing…", f"{detail}switching the laser off and closing the devices.", 0)
            self.controller.shutdown()

    def _shutdown_complete(self) -> None:
        """The devices are closed. With a laser alarm standing the window stays open on its banner (the operator
        must see it: the laser may still be emitting) until closed again; a signal closes it all the same."""
        self.reconstruct.shutdown()
        self._closed = True
        self.settings.sync()
        self.alarm_at_close = self._laser_alarm
        if self.alarm_at_close and not self.closing_by_signal:
            log.error("closing with a laser alarm standing: the window stays open until it is closed again")
            hint = f"{ALARM_HINT} The devices are closed; close the window again to quit."
            self.banner.show_problem(Problem(ALARM_TITLE, self._last_alarm, hint))
            return
        self.log_panel.detach()
        self.close()
