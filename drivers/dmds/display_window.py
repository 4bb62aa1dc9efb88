"""The Qt side of the display DMD: a frameless window painting one image 1:1, a sequence player, and the
hop onto the GUI thread. Imported only when a `DisplayDMD` opens, so PySide6 stays optional.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import numpy as np
from PySide6.QtCore import QEventLoop, QObject, QPoint, QRect, QSize, Qt, QThread, QTimer, Signal, Slot
from PySide6.QtGui import QGuiApplication, QImage, QPainter, QScreen
from PySide6.QtWidgets import QApplication, QWidget


def application() -> QApplication:
    """The process's QApplication; one is created (in the calling thread) when there is none."""
    app = QApplication.instance()
    if app is None:
        return QApplication([])
    if not isinstance(app, QApplication):
        raise TypeError(f"the process runs a {type(app).__name__}; a window needs a QApplication")
    return app


def screens() -> list[QScreen]:
    return list(QGuiApplication.screens())


def in_gui_thread(app: QApplication) -> bool:
    return QThread.currentThread() is app.thread()


def process_events() -> None:
    QApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents)


def to_image(pattern: np.ndarray, device_pixel_ratio: float = 1.0) -> QImage:
    """A Grayscale8 QImage owning its pixels: bool -> 0 / 255, uint8 as is. One image pixel is one
    device pixel (the ratio undoes the screen's scale factor)."""
    gray = np.ascontiguousarray(pattern.astype(np.uint8) * np.uint8(255) if pattern.dtype == np.bool_ else pattern)
    rows, cols = gray.shape
    image = QImage(gray.data, cols, rows, cols, QImage.Format.Format_Grayscale8).copy()
    image.setDevicePixelRatio(device_pixel_ratio)
    return image


def grab_rgb(widget: QWidget) -> np.ndarray:
    """What the widget paints, as `[row, col, rgb]` uint8 in device pixels."""
    image = widget.grab().toImage().convertToFormat(QImage.Format.Format_RGB888)
    rows, cols = image.height(), image.width()
    buffer = np.frombuffer(image.constBits(), dtype=np.uint8, count=rows * image.bytesPerLine())
    return buffer.reshape(rows, image.bytesPerLine())[:, : cols * 3].reshape(rows, cols, 3).copy()


class Call:
    """A function to run on the GUI thread; the caller waits on `done` with its own timeout."""

    def __init__(self, function: Callable[[], Any]) -> None:
        self.function = function
        self.done = threading.Event()
        self.cancelled = False  # the caller gave up: do not run it late
        self.result: Any = None
        self.error: BaseException | None = None

    def run(self) -> None:
        if self.cancelled:
            return
        try:
            self.result = self.function()
        except BaseException as error:
            self.error = error
        finally:
            self.done.set()


class Invoker(QObject):
    """Lives in the GUI thread; `request.emit(call)` from any thread queues `call.run` there."""

    request = Signal(object)

    def __init__(self) -> None:
        super().__init__()
        self.request.connect(self._run, Qt.ConnectionType.QueuedConnection)

    @Slot(object)
    def _run(self, call: Call) -> None:
        call.run()


class PatternWindow(QWidget):
    """A frameless, cursorless window on one screen that paints its image at (0, 0), unscaled and
    unsmoothed; `painted_id` is the id of the last image a paint event put on the window."""

    def __init__(self, screen: QScreen, rows: int, cols: int) -> None:
        super().__init__(None, Qt.WindowType.FramelessWindowHint | Qt.WindowType.WindowStaysOnTopHint)
        self.setWindowTitle("speckle-lab DMD")
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setAttribute(Qt.WidgetAttribute.WA_NoSystemBackground)
        self.setCursor(Qt.CursorShape.BlankCursor)
        dpr = screen.devicePixelRatio()
        self._image = to_image(np.zeros((rows, cols), dtype=np.uint8), dpr)
        self._image_id = -1
        self.painted_id = -2
        self.winId()  # the native window exists now, so it can be put on its screen before it shows
        handle = self.windowHandle()
        if handle is not None:
            handle.setScreen(screen)
        self.setGeometry(QRect(screen.geometry().topLeft(), QSize(round(cols / dpr), round(rows / dpr))))

    def present(self, image: QImage, image_id: int) -> bool:
        """Paint `image` now; True when the paint event ran (False: the window is not exposed yet)."""
        self._image, self._image_id = image, image_id
        self.repaint()
        return self.painted_id == image_id

    def paintEvent(self, event: Any) -> None:  # noqa: N802 (Qt's name)
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        painter.drawImage(QPoint(0, 0), self._image)
        painter.end()
        self.painted_id = self._image_id


class Player(QObject):
    """Steps through a sequence on a precise QTimer in the GUI thread: `present(index)` shows frame
    `index`; after the last frame's picture time, `finished()` is called."""

    def __init__(
        self, interval_ms: int, total: int | None, present: Callable[[int], None], finished: Callable[[], None]
    ) -> None:
        super().__init__()
        self._total, self._present, self._finished = total, present, finished
        self._count = 0
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(max(1, interval_ms))
        self._timer.timeout.connect(self._tick)

    def start(self) -> None:
        self._tick()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def _tick(self) -> None:
        if self._total is not None and self._count >= self._total:
            self._timer.stop()
            self._finished()
            return
        self._present(self._count)
        self._count += 1
