"""The camera's live image: levels and histogram, display rate, and a warning when pixels saturate.

Frames arrive from the device thread; after drawing one, the view says so (`frame_drawn`), and only then
is the next one sent: the display never queues up stale frames, whatever the camera's rate.
"""

from __future__ import annotations

import time

import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QSizePolicy, QVBoxLayout, QWidget

from gui.device_worker import LiveFrame
from gui.widgets import Metric, label

HISTOGRAM_PERIOD_S = 0.25


class LiveView(QWidget):
    frame_drawn = Signal()

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
        self.auto_levels = QCheckBox("Auto levels")
        self.auto_levels.setChecked(True)
        readouts.addWidget(self.auto_levels)
        layout.addLayout(readouts)

        self.saturation = label("", "saturation", wrap=True)
        self.saturation.hide()
        layout.addWidget(self.saturation)

        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.ci.setContentsMargins(0, 0, 0, 0)
        self.view = self.graphics.addViewBox(lockAspect=True, enableMenu=False)
        self.view.invertY(True)
        self.image = pg.ImageItem()
        self.view.addItem(self.image)
        self.histogram = pg.HistogramLUTItem(image=self.image)
        self.histogram.gradient.loadPreset("inferno")
        # The histogram is recomputed a few times a second, not for every frame: it costs more than the image.
        self.image.sigImageChanged.disconnect(self.histogram.imageChanged)
        self.graphics.addItem(self.histogram)
        self.graphics.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.graphics.setMinimumSize(320, 260)
        layout.addWidget(self.graphics, 1)

        self.placeholder = label("Live view is off. Start it to see the camera.", "muted")
        layout.addWidget(self.placeholder)

        self.frames_drawn = 0
        self.frames_received = 0
        self._pending: LiveFrame | None = None
        self._histogram_s = 0.0
        self._draw_times: list[float] = []
        self._shape: tuple[int, ...] | None = None
        self._saturation_dn = 4095

    def set_bit_depth(self, bit_depth: int) -> None:
        self._saturation_dn = 2**bit_depth - 1
        self.histogram.setLevels(0, self._saturation_dn)

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
        pixels = frame.pixels
        if self.auto_levels.isChecked():
            low, high = float(pixels.min()), float(pixels.max())
            self.image.setImage(pixels, autoLevels=False, levels=(low, max(high, low + 1)))
            self.histogram.setLevels(low, max(high, low + 1))
        else:
            self.image.setImage(pixels, autoLevels=False)
        if pixels.shape != self._shape:
            self._shape = pixels.shape
            self.view.autoRange(padding=0)
        now = time.perf_counter()
        if now - self._histogram_s >= HISTOGRAM_PERIOD_S:
            self._histogram_s = now
            self.histogram.imageChanged(autoLevel=False)
        self._draw_times = [t for t in self._draw_times if now - t < 1.0] + [now]
        if len(self._draw_times) > 1:
            self.fps.set(f"{(len(self._draw_times) - 1) / (now - self._draw_times[0]):.0f} fps")
        self.max_dn.set(f"{frame.max_dn} DN")
        self.frame_id.set(str(frame.frame_id))
        if frame.saturated_fraction > 0:
            self.saturation.setText(
                f"⚠  {frame.saturated_fraction:.2%} of the pixels are saturated ({frame.saturation_dn} DN): "
                "lower the exposure, the gain or the laser power."
            )
            self.saturation.show()
        else:
            self.saturation.hide()
        self.frames_drawn += 1
        if ack:
            self.frame_drawn.emit()

    @property
    def display_fps(self) -> float:
        times = self._draw_times
        return (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 and times[-1] > times[0] else 0.0

    @property
    def saturated(self) -> bool:
        return not self.saturation.isHidden()

    def clear(self) -> None:
        self.image.clear()
        self._shape = None
        self.saturation.hide()
