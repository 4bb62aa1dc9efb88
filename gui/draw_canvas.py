"""A small canvas to draw a target with the mouse, at the target's own resolution (the Reconstruct page)."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRect, Qt, Signal
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPaintEvent
from PySide6.QtWidgets import QWidget

from speckle_lab.gui import theme

CANVAS_PX = 160
MIN_PEN_CELLS = 2.0
PEN_FRACTION = 0.12  # of the target's side: a handwritten digit's stroke (2 to 3 pixels of MNIST's 28)


def pen_width_cells(shape: tuple[int, int]) -> float:
    """How wide a stroke is, in target pixels: like a pen stroke in the digits the nets learn from."""
    return max(MIN_PEN_CELLS, PEN_FRACTION * min(shape))


class DrawCanvas(QWidget):
    """Left button draws, right button erases, with a pen as wide as a handwritten stroke; a drag draws the
    whole segment between two mouse positions, however fast the mouse moves (events come far apart then)."""

    changed = Signal()

    def __init__(self, shape: tuple[int, int] = (16, 16), parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFixedSize(CANVAS_PX, CANVAS_PX)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.image = np.zeros(shape, np.float32)
        self._last: tuple[float, float] | None = None  # the stroke's last point, in target pixels (row, col)

    @property
    def pen_cells(self) -> float:
        return pen_width_cells(self.image.shape)

    def set_shape(self, shape: tuple[int, int]) -> None:
        self.image = np.zeros(shape, np.float32)
        self.update()

    def clear(self) -> None:
        self.image[:] = 0
        self.update()
        self.changed.emit()

    def stroke(self, start: tuple[float, float], end: tuple[float, float], value: float) -> None:
        """Every pixel whose centre lies within half the pen's width of the segment start-end (target pixels,
        (row, col), 0 at the top-left corner of the first pixel) takes `value`."""
        rows, cols = self.image.shape
        centre_r, centre_c = np.mgrid[0:rows, 0:cols].astype(np.float64) + 0.5
        (r0, c0), (r1, c1) = start, end
        dr, dc = r1 - r0, c1 - c0
        length2 = dr * dr + dc * dc
        t = np.zeros_like(centre_r) if length2 == 0 else ((centre_r - r0) * dr + (centre_c - c0) * dc) / length2
        t = np.clip(t, 0.0, 1.0)
        distance2 = (centre_r - (r0 + t * dr)) ** 2 + (centre_c - (c0 + t * dc)) ** 2
        self.image[distance2 <= (self.pen_cells / 2) ** 2] = value
        self.update()
        self.changed.emit()

    def paint_at(self, row: int, col: int, value: float) -> None:
        """A dot of the pen's width on the pixel (row, col)."""
        centre = (row + 0.5, col + 0.5)
        self.stroke(centre, centre, value)

    def _point(self, position: QPointF) -> tuple[float, float]:
        rows, cols = self.image.shape
        return position.y() * rows / self.height(), position.x() * cols / self.width()

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt's name)
        self._last = None
        self.mouseMoveEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt's name)
        buttons = event.buttons()
        if not buttons & (Qt.MouseButton.LeftButton | Qt.MouseButton.RightButton):
            return
        point = self._point(event.position())
        value = 0.0 if buttons & Qt.MouseButton.RightButton else 1.0
        self.stroke(self._last or point, point, value)
        self._last = point

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt's name)
        self._last = None

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt's name)
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(theme.FIELD))
        rows, cols = self.image.shape
        for r, c in zip(*np.nonzero(self.image > 0), strict=True):
            v = float(self.image[r, c])
            x0, x1 = c * self.width() // cols, (c + 1) * self.width() // cols
            y0, y1 = r * self.height() // rows, (r + 1) * self.height() // rows
            painter.fillRect(QRect(x0, y0, x1 - x0, y1 - y0), QColor.fromRgbF(v, v, v))
        painter.setPen(QColor(theme.CARD_BORDER))
        painter.drawRect(self.rect().adjusted(0, 0, -1, -1))
        painter.end()
