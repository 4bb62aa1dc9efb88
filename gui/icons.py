"""Navigation icons drawn with QPainter: crisp at any scale, and no image files to ship."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPainterPath, QPen, QPixmap

SIZE = 64


def _canvas() -> tuple[QPixmap, QPainter]:
    pixmap = QPixmap(SIZE, SIZE)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    return pixmap, painter


def _pen(colour: str) -> QPen:
    pen = QPen(QColor(colour), 5)
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    return pen


def devices(colour: str) -> QIcon:
    """A beam leaving a laser head."""
    pixmap, p = _canvas()
    p.setPen(_pen(colour))
    p.drawRoundedRect(QRectF(6, 22, 26, 20), 4, 4)
    p.drawLine(QPointF(32, 32), QPointF(58, 32))
    p.drawLine(QPointF(46, 22), QPointF(58, 32))
    p.drawLine(QPointF(46, 42), QPointF(58, 32))
    p.end()
    return QIcon(pixmap)


def acquisition(colour: str) -> QIcon:
    """A record button in a frame."""
    pixmap, p = _canvas()
    p.setPen(_pen(colour))
    p.drawRoundedRect(QRectF(6, 10, 52, 44), 8, 8)
    p.setBrush(QColor(colour))
    p.drawEllipse(QPointF(32, 32), 9, 9)
    p.end()
    return QIcon(pixmap)


def training(colour: str) -> QIcon:
    """A falling loss curve on axes."""
    pixmap, p = _canvas()
    p.setPen(_pen(colour))
    p.drawLine(QPointF(8, 8), QPointF(8, 56))
    p.drawLine(QPointF(8, 56), QPointF(58, 56))
    path = QPainterPath(QPointF(14, 14))
    path.cubicTo(QPointF(22, 40), QPointF(34, 44), QPointF(56, 46))
    p.drawPath(path)
    p.end()
    return QIcon(pixmap)


def reconstruct(colour: str) -> QIcon:
    """An eye: the net looking through the diffuser."""
    pixmap, p = _canvas()
    p.setPen(_pen(colour))
    eye = QPainterPath(QPointF(6, 32))
    eye.quadTo(QPointF(32, 6), QPointF(58, 32))
    eye.quadTo(QPointF(32, 58), QPointF(6, 32))
    p.drawPath(eye)
    p.setBrush(QColor(colour))
    p.drawEllipse(QPointF(32, 32), 7, 7)
    p.end()
    return QIcon(pixmap)
