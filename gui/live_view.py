"""The camera's live image: levels and histogram, display rate, and a warning when pixels saturate.

Frames arrive from the device thread; after drawing one, the view says so (`frame_drawn`), and only then
is the next one sent: the display never queues up stale frames, whatever the camera's rate.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QCheckBox, QFileDialog, QHBoxLayout, QSizePolicy, QVBoxLayout, QWidget

from speckle_lab.gui.device_worker import LiveFrame
from speckle_lab.gui.level_bar import LevelBar
from speckle_lab.gui.settings import Settings
from speckle_lab.gui.widgets import ElidedLabel, Metric, button, label, restyle

log = logging.getLogger(__name__)


def save_snapshot(pixels: np.ndarray, png_path: Path, levels: tuple[float, float]) -> Path:
    """The frame as shown (PNG, 8 bit within `levels`) and the raw camera array beside it (.npy, in DN)."""
    png_path = Path(png_path)
    low, high = levels
    scaled = np.clip((pixels.astype(np.float64) - low) / max(high - low, 1e-9), 0, 1)
    from PySide6.QtGui import QImage

    data = np.ascontiguousarray((scaled * 255).astype(np.uint8))
    image = QImage(data.data, data.shape[1], data.shape[0], data.shape[1], QImage.Format.Format_Grayscale8)
    if not image.save(str(png_path)):
        raise OSError(f"{png_path}: the PNG could not be written")
    raw_path = png_path.with_suffix(".npy")
    np.save(raw_path, pixels)
    return raw_path


HISTOGRAM_PERIOD_S = 0.25


class LiveView(QWidget):
    frame_drawn = Signal()
    roi_drawn = Signal(object)  # (row, col, height, width) in the pixels of the frame shown

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(8)

        readouts = QHBoxLayout()
        readouts.setSpacing(22)
        self.fps = Metric("display rate")
        self.max_dn = Metric("max")
        self.frame_id = Metric("frame")
        for metric in (self.fps, self.max_dn, self.frame_id):
            readouts.addWidget(metric)
        readouts.addStretch(1)
        self.pointer_value = label("", "muted")  # not `cursor`: QWidget.cursor() is Qt's
        readouts.addWidget(self.pointer_value)
        self.auto_levels = QCheckBox("Auto levels")
        self.auto_levels.setChecked(False)  # auto levels stretch a dark frame into fake speckle: off by default
        self.auto_levels.setToolTip("Off: the levels set on the colour bar (in DN) stay as they are")
        readouts.addWidget(self.auto_levels)
        layout.addLayout(readouts)
        tools = QHBoxLayout()
        tools.setSpacing(6)
        self.reset_zoom = button("Reset zoom")
        self.reset_zoom.clicked.connect(lambda: self.view.autoRange(padding=0))
        self.draw_roi = button("Draw ROI box")
        self.draw_roi.setCheckable(True)
        self.draw_roi.toggled.connect(self._toggle_roi_box)
        self.use_roi = button("Set ROI from box")
        self.use_roi.setEnabled(False)
        self.use_roi.clicked.connect(self._emit_roi)
        self.snapshot = button("Save snapshot…")
        self.snapshot.clicked.connect(self._save_snapshot)
        for widget in (self.reset_zoom, self.draw_roi, self.use_roi, self.snapshot):
            tools.addWidget(widget)
        tools.addStretch(1)
        layout.addLayout(tools)

        # Its line is always there (empty when nothing saturates): a warning that comes and goes with the frames
        # must not move the image and the buttons under the operator's mouse.
        self.saturation = ElidedLabel("", "saturation")
        self.saturation.setProperty("warning", False)
        layout.addWidget(self.saturation)

        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.ci.setContentsMargins(0, 0, 0, 0)
        self.view: pg.ViewBox = self.graphics.addViewBox(lockAspect=True, enableMenu=False)
        self.view.invertY(True)
        self.image = pg.ImageItem()
        self.view.addItem(self.image)
        # The histogram is recomputed a few times a second, not for every frame: it costs more than the image.
        self.colour_bar = LevelBar(self.image, "inferno")
        self.colour_bar.axis.setLabel("DN")
        self.graphics.addItem(self.colour_bar)
        self.graphics.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.graphics.setMinimumSize(320, 260)
        layout.addWidget(self.graphics, 1)

        self.placeholder = label("Live view is off. Start it to see the camera.", "muted")
        layout.addWidget(self.placeholder)
        self.roi_box: pg.RectROI | None = None
        self.image_origin = (0, 0)  # the sensor pixel of the frame's top-left (the camera's ROI)
        self.last_frame: LiveFrame | None = None
        self._pointer: QPointF | None = None  # where the mouse rests on the image (scene coordinates), if it does
        self.graphics.scene().sigMouseMoved.connect(self._mouse_moved)

        self.frames_drawn = 0
        self.frames_received = 0
        self._pending: LiveFrame | None = None
        self._histogram_s = 0.0
        self._draw_times: list[float] = []
        self._shape: tuple[int, ...] | None = None
        self._saturation_dn = 4095
        self._manual_levels: tuple[float, float] | None = None  # as the operator set them on the colour bar
        self._levels_store: tuple[Settings, str] | None = None
        self._showing_levels = False  # the histogram reports our own setLevels as a finished change too
        self.colour_bar.levels_set.connect(self._levels_set_by_hand)

    def persist_levels(self, settings: Settings, key: str) -> None:
        """Restore the manual levels (DN) of the last session from `key`, and store each one the operator sets.

        Only a drag on the colour bar (or `set_manual_levels`) counts: the full range set for a new camera and
        the levels auto levels compute are not the operator's and are never stored."""
        self._levels_store = (settings, key)
        stored: list[Any] = settings.get(key, [])  # JSON: checked below
        if isinstance(stored, list) and len(stored) == 2:
            try:
                low, high = float(stored[0]), float(stored[1])
            except (TypeError, ValueError):
                return
            if high > low:
                self._manual_levels = (low, high)
                self._show_levels(low, high)

    def set_manual_levels(self, low_dn: float, high_dn: float) -> None:
        """Levels typed or scripted rather than dragged: shown at once and persisted like a drag."""
        if not high_dn > low_dn:
            raise ValueError(f"levels: expected low < high in DN, got {low_dn} and {high_dn}")
        self.auto_levels.setChecked(False)
        self._show_levels(low_dn, high_dn)
        self._levels_set_by_hand()

    def _show_levels(self, low: float, high: float) -> None:
        self._showing_levels = True
        try:
            self.colour_bar.set_levels(low, high)
        finally:
            self._showing_levels = False

    def _levels_set_by_hand(self, *_: object) -> None:
        if self._showing_levels or self.auto_levels.isChecked():
            return  # the next frame overwrites them; auto levels are never the operator's manual levels
        low, high = (float(v) for v in self.colour_bar.levels())
        self._manual_levels = (low, high)
        if self._levels_store is not None:
            settings, key = self._levels_store
            settings.set(key, [low, high])

    def _mouse_moved(self, position: QPointF) -> None:
        self._pointer = QPointF(position) if self.view.sceneBoundingRect().contains(position) else None
        self._read_pointer()

    def _read_pointer(self) -> None:
        """The value under the mouse, in the frame shown: after a move and after every new frame, so a mouse at
        rest reads the live value, not the one under it when it stopped."""
        frame, position = self.last_frame, self._pointer
        if frame is None or position is None:
            return
        point = self.view.mapSceneToView(position)
        col, row = int(np.floor(point.x())), int(np.floor(point.y()))  # pyqtgraph images are [x, y]: see _draw
        rows, cols = frame.pixels.shape
        if 0 <= row < rows and 0 <= col < cols:
            r0, c0 = self.image_origin
            self.pointer_value.setText(f"row {row + r0}, col {col + c0}: {int(frame.pixels[row, col])} DN")
        else:
            self.pointer_value.setText("")

    def _toggle_roi_box(self, on: bool) -> None:
        if on and self.roi_box is None:
            rows, cols = self._shape or (32, 32)
            self.roi_box = pg.RectROI([cols / 4, rows / 4], [cols / 2, rows / 2], pen=pg.mkPen("#3ccf91", width=2))
            self.roi_box.addScaleHandle([1, 1], [0, 0])
            self.view.addItem(self.roi_box)
        elif not on and self.roi_box is not None:
            self.view.removeItem(self.roi_box)
            self.roi_box = None
        self.use_roi.setEnabled(on)

    def drawn_roi(self) -> tuple[int, int, int, int] | None:
        if self.roi_box is None:
            return None
        x, y = self.roi_box.pos()
        w, h = self.roi_box.size()
        return round(y), round(x), max(1, round(h)), max(1, round(w))

    def _emit_roi(self) -> None:
        roi = self.drawn_roi()
        if roi is not None:
            self.roi_drawn.emit(roi)
            self.draw_roi.setChecked(False)

    def _save_snapshot(self) -> None:
        if self.last_frame is None:
            return
        path, _ = QFileDialog.getSaveFileName(self, "Save snapshot", "snapshot.png", "PNG (*.png)")
        if path:
            try:
                raw = save_snapshot(self.last_frame.pixels, Path(path), self.colour_bar.levels())
                log.info("snapshot saved: %s and %s", path, raw)
            except OSError as error:
                log.error("snapshot not saved: %s", error)

    def set_bit_depth(self, bit_depth: int) -> None:
        self._saturation_dn = 2**bit_depth - 1
        self.colour_bar.set_range(0, self._saturation_dn)
        if self._manual_levels is None:  # the full range until the operator sets levels (this or a past session)
            self._show_levels(0, self._saturation_dn)

    def set_live(self, live: bool) -> None:
        self.placeholder.setVisible(not live)
        if not live:
            self.fps.set("–")
            self._draw_times.clear()

    def show_frame(self, frame: LiveFrame) -> None:
        self.frames_received += 1
        if not self.isVisible():  # another page is in front: no drawing, the next frame may come
            self._pending = frame
            self.frame_drawn.emit()
            return
        self._draw(frame)

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (Qt's name)
        super().showEvent(event)
        if self._pending is not None:
            frame, self._pending = self._pending, None
            self._draw(frame, ack=False)

    def _draw(self, frame: LiveFrame, ack: bool = True) -> None:
        self.last_frame = frame
        pixels = frame.pixels
        if self.auto_levels.isChecked():
            low, high = float(pixels.min()), float(pixels.max())
            self.image.setImage(pixels, autoLevels=False, levels=(low, max(high, low + 1)))
            self._show_levels(low, max(high, low + 1))
        else:  # the levels on the colour bar, as the operator left them
            self.image.setImage(pixels, autoLevels=False, levels=self.colour_bar.levels())
        if pixels.shape != self._shape:
            self._shape = pixels.shape
            self.view.autoRange(padding=0)
        now = time.perf_counter()
        if now - self._histogram_s >= HISTOGRAM_PERIOD_S:
            self._histogram_s = now
            self.colour_bar.show_histogram()
        self._read_pointer()
        self._draw_times = [t for t in self._draw_times if now - t < 2.0] + [now]
        # The camera's rate (frames grabbed), which a long exposure slows: never more than the drawing rate.
        shown = (len(self._draw_times) - 1) / (now - self._draw_times[0]) if len(self._draw_times) > 1 else 0.0
        rate = min(shown, frame.grab_fps) if frame.grab_fps > 0 else shown
        exposure = f" · exposure {frame.exposure_us / 1e3:.1f} ms" if frame.exposure_us >= 1e4 else ""
        self.fps.set(f"{rate:.1f} fps{exposure}" if rate < 10 else f"{rate:.0f} fps")
        self.max_dn.set(f"{frame.max_dn} DN")
        self.frame_id.set(str(frame.frame_id))
        if frame.saturated_fraction > 0:
            self._warn_saturation(
                f"⚠  {frame.saturated_fraction:.2%} of the pixels are saturated ({frame.saturation_dn} DN): "
                "lower the exposure, the gain or the laser power."
            )
        else:
            self._warn_saturation("")
        self.frames_drawn += 1
        if ack:
            self.frame_drawn.emit()

    @property
    def display_fps(self) -> float:
        times = self._draw_times
        return (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 and times[-1] > times[0] else 0.0

    def _warn_saturation(self, text: str) -> None:
        if text != self.saturation.full_text():
            self.saturation.set_full_text(text)
            self.saturation.setProperty("warning", bool(text))
            restyle(self.saturation)

    @property
    def saturated(self) -> bool:
        return bool(self.saturation.full_text())

    def clear(self) -> None:
        self.image.clear()
        self._shape = None
        self._warn_saturation("")
