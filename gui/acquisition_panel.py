"""The Acquisition page: build a plan, check its preflight estimate, run it (or a queue, or a resumption), and
watch it: progress, rate and ETA, the last target beside its speckle, the drift of the reference frames,
retries and dropped frames."""

from __future__ import annotations

import html
import os
from pathlib import Path

import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from speckle_lab.acquisition.datafile import CaptureReader
from speckle_lab.acquisition.preflight import Preflight, format_bytes, format_duration
from speckle_lab.gui import theme
from speckle_lab.gui.capture_cards import DriftCard, ProgressCard, RunsCard, format_eta
from speckle_lab.gui.capture_worker import CaptureJob, CaptureUpdate, JobReport
from speckle_lab.gui.controller import LabController
from speckle_lab.gui.device_worker import BenchInfo
from speckle_lab.gui.errors import Problem, describe
from speckle_lab.gui.plan_card import CREATE_FOLDER_LINK, PlanCard
from speckle_lab.gui.settings import Settings
from speckle_lab.gui.states import capture_pill
from speckle_lab.gui.widgets import Card, ImageGrid
from speckle_lab.lab.capture_service import load_queue, stored_plan_and_bench


def unwritable_reason(out: Path) -> str | None:
    """Why a capture cannot write `out` (its folder missing and not creatable, or read-only), or None."""
    folder = Path(out).expanduser().resolve().parent
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        return f"{existing} is not a folder"
    if not os.access(existing, os.W_OK | os.X_OK):
        missing = "" if existing == folder else f" (to create {folder})"
        return f"the folder {existing} cannot be written{missing}"
    return None


def _format_period(seconds: float) -> str:
    return f"{seconds * 1e3:.1f} ms" if seconds >= 1e-3 else f"{seconds * 1e6:.0f} µs"


PREFLIGHT_DELAY_MS = 300


class AcquisitionPanel(QWidget):
    capture_file = Signal(object)  # Path of the file being (or last) captured: the training page offers it

    def __init__(self, controller: LabController, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.plan_card = PlanCard(settings)
        self.progress = ProgressCard()
        self.current_out: Path | None = None
        self.last_update: CaptureUpdate | None = None
        self.reports: list[JobReport] = []
        self._jobs: list[CaptureJob] = []
        self._state = "idle"
        self._first_row = 0
        self._current_job: int | None = None
        self._resume_info: dict[Path, tuple] = {}  # a file to resume: its plan and references, read up front
        self._preflight_ok = True  # Start is refused only for a known reason (unwritable folder, disk too small)
        self.settings = settings

        images = Card("Last frame", "The target shown, and the speckle seen")
        self.images = ImageGrid(1, 2, col_titles=("target", "speckle"))
        self.images.images[0][1].setColorMap(pg.colormap.get("inferno"))
        images.body.addWidget(self.images, 1)

        drift = DriftCard()
        self.drift_plot, self.drift_curve = drift.plot, drift.curve
        self.drift = drift
        self.runs = RunsCard()
        self.table = self.runs.table

        form = QScrollArea()  # the form scrolls on a small screen; the run buttons under it stay in view
        form.setWidgetResizable(True)
        form.setFrameShape(QFrame.Shape.NoFrame)
        form.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        form.setWidget(self.plan_card)
        left_widget = QWidget()
        left_widget.setFixedWidth(380)
        left = QVBoxLayout(left_widget)
        left.setContentsMargins(0, 0, 0, 0)
        left.setSpacing(10)
        left.addWidget(form, 1)
        left.addWidget(self.plan_card.run_bar)
        right = QGridLayout()
        right.setSpacing(14)
        right.addWidget(self.progress, 0, 0, 1, 2)
        right.addWidget(images, 1, 0)
        right.addWidget(drift, 1, 1)
        right.addWidget(self.runs, 2, 0, 1, 2)
        right.setRowStretch(1, 3)
        right.setRowStretch(2, 1)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(14)
        layout.addWidget(left_widget)
        layout.addLayout(right, 1)

        card = self.plan_card
        card.start.clicked.connect(self.start_capture)
        card.pause.clicked.connect(self.toggle_pause)
        card.abort.clicked.connect(controller.abort_capture)
        card.queue.clicked.connect(self._choose_queue)
        card.resume.clicked.connect(self._choose_resume)
        self._preflight_timer = QTimer(self)
        self._preflight_timer.setSingleShot(True)
        self._preflight_timer.setInterval(PREFLIGHT_DELAY_MS)
        self._preflight_timer.timeout.connect(self.request_preflight)
        card.changed.connect(self._preflight_timer.start)
        controller.bench_opened.connect(self._bench_opened)
        controller.preflight.connect(self.show_preflight)
        controller.capture_state.connect(self.set_state)
        controller.capture_update.connect(self.show_update)
        controller.capture_job_started.connect(self._job_started)
        controller.capture_job_done.connect(self._job_done)
        self.set_state("idle")

    # -- starting -----------------------------------------------------------------------------------
    def start_capture(self) -> None:
        try:
            plan = self.plan_card.plan()
        except ValueError as error:
            self.controller.problem.emit(describe(error, "building the plan"))
            return
        out = self.plan_card.out_path()
        unwritable = unwritable_reason(out)
        if unwritable:
            self.controller.problem.emit(
                Problem("The output folder cannot be written", unwritable, "Choose another output folder.")
            )
            return
        if out.exists():
            self.controller.problem.emit(
                Problem(
                    "The output file exists already",
                    f"{out} is there from an earlier capture.",
                    "Choose a new output file (the ↻ button makes one), or continue it with “Resume a file…”.",
                )
            )
            return
        self.run_jobs([CaptureJob(out.name, out, plan)])

    def run_queue(self, path: Path) -> None:
        """Run every plan of the queue file at `path` (entries without `bench` use the panel's bench)."""
        try:
            entries = load_queue(Path(path))
        except ValueError as error:
            self.controller.problem.emit(describe(error, "reading the queue"))
            return
        n = len(entries)
        self.run_jobs([CaptureJob(f"[{i}/{n}] {e.out.name}", e.out, e.plan, e.bench) for i, e in enumerate(entries, 1)])

    def resume_file(self, path: Path) -> None:
        path = Path(path)
        try:  # the remaining rows, for the estimate (the runner refuses a file it cannot resume)
            plan, _ = stored_plan_and_bench(path)
            with CaptureReader(path) as reader:
                done = reader.n_frames
                _, _, after_row, correlation = reader.references()
            self._resume_info[path] = (plan, ([int(r) for r in after_row], [float(c) for c in correlation]))
            left = plan.n_frames - done
            rate_s = self.estimate_s(Preflight(left, 0.0, 0, 0), plan.exposure_us)[0]
            self.plan_card.preflight.setText(
                f"Resuming {path.name}: {left:,} of {plan.n_frames:,} rows left · about {format_duration(rate_s)}"
            )
        except Exception:
            pass
        self.run_jobs([CaptureJob(f"resume {path.name}", path, None)])

    def run_jobs(self, jobs: list[CaptureJob]) -> None:
        if self.controller.capture_busy:
            self.controller.problem.emit(
                Problem(
                    "A capture is already running",
                    "Only one capture runs at a time.",
                    "Wait for it to finish, or abort it.",
                )
            )
            return
        self._jobs = jobs
        self._reset_views()
        first_row = self.table.rowCount()
        for job in jobs:
            self._add_row(job)
        self._first_row = first_row
        self.controller.start_capture(jobs)

    def toggle_pause(self) -> None:
        if self._state in ("paused", "pausing"):
            self.controller.resume_capture()
        elif self._state in ("running", "starting", "resuming"):
            self.controller.pause_capture()

    def _choose_queue(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Run a queue", str(self.plan_card.out_path().parent), "Queue (*.toml)"
        )
        if path:
            self.run_queue(Path(path))

    def _choose_resume(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Resume a capture", str(self.plan_card.out_path().parent), "HDF5 (*.h5 *.hdf5)"
        )
        if path:
            self.resume_file(Path(path))

    # -- preflight ----------------------------------------------------------------------------------
    def _bench_opened(self, info: BenchInfo) -> None:
        low, high = info.power_range_w
        self.plan_card.power_mw.set_range(low * 1e3, high * 1e3)
        self.request_preflight()

    def request_preflight(self) -> None:
        if self.controller.capture_busy:
            return
        try:
            plan = self.plan_card.plan()
        except ValueError as error:
            self.show_preflight(describe(error, "checking the plan"))
            return
        self.controller.request_preflight(plan, self.plan_card.out_path())

    def estimate_s(self, result: Preflight, exposure_us: float) -> tuple[float, str]:
        """How long the rows take: at the rate measured on this bench by the last capture (pauses excluded), or,
        before any capture, the bench's model: a frame takes the DMD's picture time (the preflight's figure) or
        the camera's frame period (the exposure, or its sensor readout when longer), whichever is longer."""
        info = self.controller.bench_info
        key = f"acquisition/measured_fps/{info.name if info else 'bench'}"
        measured = float(self.settings.get(key, 0.0) or 0.0)
        if measured > 0:
            return max(result.duration_s, result.rows / measured), f"at the {measured:,.0f} fps measured on this bench"
        readout_us = info.readout_time_us if info else 0.0
        camera_s = result.rows * max(exposure_us, readout_us) * 1e-6
        duration_s = max(camera_s, result.duration_s)
        if camera_s < result.duration_s:
            what = "the DMD's picture time"
        else:
            what = "the camera's readout" if readout_us > exposure_us else "the exposure"
        period = _format_period(duration_s / max(result.rows, 1))
        return duration_s, f"bench model: {period} a frame, {what}; the first capture measures this bench"

    def show_preflight(self, result: Preflight | Problem) -> None:
        text = self.plan_card.preflight
        self._preflight_ok = False
        if isinstance(result, Problem):  # Start stays possible: it names the problem in the banner
            text.setText(f"<span style='color:{theme.ERROR}'>✗ {result.detail}</span>")
            self._preflight_ok = True
            self._update_start()
            return
        out = self.plan_card.out_path()
        text.setToolTip(str(out.expanduser().resolve()))
        unwritable = unwritable_reason(out)
        if unwritable or result.problem:  # the real reason, never "0 B free · does NOT fit"
            reason = f"Cannot capture here: {unwritable}" if unwritable else result.problem
            creatable = not unwritable and not out.parent.exists()
            create = f" · <a href='{CREATE_FOLDER_LINK}'>Create the folder</a>" if creatable else ""
            text.setText(f"<span style='color:{theme.ERROR}'>✗ {html.escape(reason)}.</span>{create}")
            self._update_start()
            return
        colour = theme.ACCENT if result.ok else theme.ERROR
        verdict = "fits on the disk" if result.ok else "does NOT fit on the disk"
        try:
            exposure_us = self.plan_card.plan().exposure_us
        except ValueError:
            exposure_us = 0.0
        duration_s, basis = self.estimate_s(result, exposure_us)
        text.setText(
            f"Preflight: {result.rows:,} rows · about {format_duration(duration_s)} · "
            f"file {format_bytes(result.file_bytes)} · {format_bytes(result.free_bytes)} free · "
            f"<span style='color:{colour}'>{verdict}</span><br><span style='color:{theme.MUTED}'>{basis}</span>"
        )
        self._preflight_ok = result.ok
        self._update_start()

    def _update_start(self) -> None:
        self.plan_card.start.setEnabled(self._state == "idle" and self._preflight_ok)

    # -- while it runs ------------------------------------------------------------------------------
    def set_state(self, state: str) -> None:
        self._state = state
        card = self.plan_card
        idle = state == "idle"
        self._update_start()
        card.queue.setEnabled(idle)
        card.resume.setEnabled(idle)
        card.set_form_enabled(idle)
        active = ("running", "pausing", "paused", "resuming", "starting")
        card.pause.setEnabled(state in active)
        card.pause.setText("Resume" if state in ("paused", "pausing") else "Pause")
        card.abort.setEnabled(state in active)
        if state not in ("idle", "running"):  # running: the engine's own phase is shown (show_update)
            self.progress.phase.set_state(*capture_pill(state))
        job = self._current_job
        # Never over a finished job's status: only the running job's row turns paused and back.
        if state in ("paused", "running") and job is not None and self.status_row(job) in ("running", "paused"):
            self._set_row(job, 4, state)
        if idle:
            self.request_preflight()

    def show_update(self, update: CaptureUpdate) -> None:
        self.last_update = update
        p = self.progress
        total = max(update.rows_total, 1)
        p.bar.setValue(int(1000 * update.rows_done / total))
        p.rows.set(f"{update.rows_done:,} / {update.rows_total:,}")
        p.rate.set(f"{update.frames_per_s:,.0f} fps" if update.frames_per_s else "–")
        p.eta.set(format_eta(update.eta_s))
        p.retries.set(str(update.retries))
        self._set_row(update.job, 3, f"{update.rows_done:,} / {update.rows_total:,}")
        jobs = f" · job {update.job + 1} of {update.jobs}" if update.jobs > 1 else ""
        p.set_subtitle(f"{update.label}{jobs}")
        if self._state == "running" and not update.paused:  # else the state's own pill stays
            kind = {"complete": "ok", "aborted": "warn", "failed": "error"}.get(update.phase, "active")
            p.phase.set_state(update.phase, kind)
        if update.last_target is not None:
            self.images.set_image(update.last_target, levels=(0.0, 1.0), col=0)
        if update.last_speckle is not None:
            self.images.set_image(update.last_speckle, col=1)
        if update.reference_correlation:
            self.drift.show_correlations(update.reference_correlation)

    def _job_started(self, index: int, job: CaptureJob) -> None:
        self.current_out = job.out
        self.capture_file.emit(job.out)
        self._set_row(index, 4, "running")
        self._current_job = index
        plan = job.plan
        prefix: tuple[list[int], list[float]] = ([], [])
        if plan is None:  # a resumed file: its plan and earlier references, read before the runner opened it
            plan, prefix = self._resume_info.get(job.out, (None, ([], [])))
        if plan is not None:
            self.drift.start(plan.reference_every, plan.n_frames, prefix)
        else:
            self.drift.start(self.drift.reference_every, self.drift.rows_planned, prefix)

    def _job_done(self, report: JobReport) -> None:
        self.reports.append(report)
        update = self.last_update
        if update is not None and update.frames_per_s > 0 and report.rows_committed >= 256:
            info = self.controller.bench_info
            self.settings.set(f"acquisition/measured_fps/{info.name if info else 'bench'}", update.frames_per_s)
        if report.job < 0:
            return
        self._set_row(report.job, 3, f"{report.rows_committed:,} / {report.rows_planned:,}")
        self._set_row(report.job, 4, report.status)
        notes = report.problem.detail if report.problem and report.status == "failed" else ""
        if report.retries or report.frame_gaps or report.camera_timeouts:
            notes = (
                f"{report.retries} retries ({report.camera_timeouts} camera timeouts, "
                f"{report.frame_gaps} frame gaps) " + notes
            )
        self._set_row(report.job, 5, notes or report.message)
        p = self.progress
        p.dropped.set(str(report.frames_skipped))
        p.message.set_full_text(report.message or (report.problem.detail if report.problem else ""))
        if report.status == "complete" and report.out == self.plan_card.out_path():
            self.plan_card.new_file_name()  # the next start must not collide with this file

    # -- helpers ------------------------------------------------------------------------------------
    def _reset_views(self) -> None:
        self.progress.reset()
        self.images.clear_images()
        self.drift.clear()

    def _add_row(self, job: CaptureJob) -> None:
        self.runs.add(job)

    def _set_row(self, index: int, column: int, text: str) -> None:
        self.runs.set_cell(self._first_row + index, column, text)

    def status_row(self, index: int) -> str:
        return self.runs.status(self._first_row + index)
