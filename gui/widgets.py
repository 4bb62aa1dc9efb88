"""Small building blocks shared by the pages: cards, state pills, metrics, image panels, the error banner."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QResizeEvent, QShowEvent
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QComboBox,
    QFormLayout,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from speckle_lab.gui import theme
from speckle_lab.gui.errors import Problem
from speckle_lab.gui.settings import Settings

INFO_SHOWN_MS = 10_000


def restyle(widget: QWidget) -> None:
    """Re-apply the style sheet after a dynamic property changed."""
    widget.style().unpolish(widget)
    widget.style().polish(widget)


def button(text: str, role: str = "", tooltip: str = "") -> QPushButton:
    b = QPushButton(text)
    if role:
        b.setProperty("role", role)
    if tooltip:
        b.setToolTip(tooltip)
    b.setCursor(Qt.CursorShape.PointingHandCursor)
    return b


def label(text: str = "", name: str = "", wrap: bool = False) -> QLabel:
    widget = QLabel(text)
    if name:
        widget.setObjectName(name)
    widget.setWordWrap(wrap)
    return widget


class Card(QFrame):
    """A titled panel; `body` is its content layout."""

    def __init__(self, title: str, subtitle: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("card")
        outer = QVBoxLayout(self)
        outer.setContentsMargins(16, 14, 16, 16)
        outer.setSpacing(10)
        self.header = QHBoxLayout()
        self.header.setSpacing(8)
        titles = QVBoxLayout()
        titles.setSpacing(1)
        titles.addWidget(label(title, "cardTitle"))
        self.subtitle = label(subtitle, "cardSub", wrap=True)
        self.subtitle.setVisible(bool(subtitle))
        titles.addWidget(self.subtitle)
        self.header.addLayout(titles, 1)
        outer.addLayout(self.header)
        self.body = QVBoxLayout()
        self.body.setSpacing(8)
        outer.addLayout(self.body, 1)

    def set_subtitle(self, text: str) -> None:
        self.subtitle.setText(text)
        self.subtitle.setVisible(bool(text))


class Pill(QLabel):
    """A rounded state label: idle, ok, active, warn, error or info."""

    def __init__(self, text: str = "", kind: str = "idle", parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        self.setProperty("pill", True)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.set_state(text, kind)

    def set_state(self, text: str, kind: str) -> None:
        self.setText(text)
        if self.property("kind") != kind:
            self.setProperty("kind", kind)
            restyle(self)

    @property
    def kind(self) -> str:
        return str(self.property("kind"))


class Metric(QWidget):
    """A small name over a large value, as on an instrument's display."""

    def __init__(self, name: str, value: str = "–", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        self.value = label(value, "metric")
        layout.addWidget(label(name.upper(), "metricName"))
        layout.addWidget(self.value)

    def set(self, text: str) -> None:
        self.value.setText(text)


class WheelNeedsFocus(QObject):
    """Event filter: a field takes the mouse wheel only once the operator has clicked (or tabbed) into it.

    A page that scrolls under the pointer must not edit the plan on its way (one notch over a combo box changed
    the targets, the frames and the placement). An unfocused field ignores the notch, which then goes to the
    scroll area around it."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        if event.type() == QEvent.Type.Wheel and isinstance(watched, QWidget) and not watched.hasFocus():
            event.ignore()  # ignored and filtered: Qt hands it on to the parent (the scroll area)
            return True
        return False


def wheel_needs_focus(root: QWidget) -> None:
    """Every combo box and spin box under `root`: the wheel edits it only when it has the focus, and the
    wheel never gives it the focus (`WheelNeedsFocus`). Call it once a window or dialog is built."""
    guard = root.findChild(WheelNeedsFocus) or WheelNeedsFocus(root)
    for widget in root.findChildren(QWidget):
        if isinstance(widget, QComboBox | QAbstractSpinBox):
            widget.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
            widget.installEventFilter(guard)


def bound_form_rows(
    form: QFormLayout, settings: Settings, section: str, rows: tuple[tuple[str, str, QWidget], ...]
) -> None:
    """Add (label, settings key, widget) rows to `form`, each widget restored from and saved to
    `section/key` in the persistent settings."""
    for text, key, widget in rows:
        form.addRow(label(text, "muted"), widget)
        settings.bind(widget, f"{section}/{key}")


def metric_row(*metrics: Metric) -> QGridLayout:
    grid = QGridLayout()
    grid.setHorizontalSpacing(18)
    for column, metric in enumerate(metrics):
        grid.addWidget(metric, 0, column)
    return grid


class ImageGrid(pg.GraphicsLayoutWidget):
    """A grid of images (aspect locked, no axes) in one view: one widget to lay out and paint, not one per
    image, which keeps page switches and updates cheap for the UI thread."""

    def __init__(
        self,
        rows: int = 1,
        cols: int = 1,
        row_titles: tuple[str, ...] = (),
        col_titles: tuple[str, ...] = (),
        colormaps: tuple[str | None, ...] = (),
        column_colormaps: tuple[str | None, ...] = (),
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.ci.setContentsMargins(2, 2, 2, 2)
        self.ci.setSpacing(4)
        if col_titles:
            if row_titles:
                self.addLabel("")
            for title in col_titles:
                self.addLabel(title, color=theme.MUTED, size="8.5pt")
            self.nextRow()
        self.views: list[list[pg.ViewBox]] = []
        self.images: list[list[pg.ImageItem]] = []
        for row in range(rows):
            if row_titles:
                self.addLabel(row_titles[row], color=theme.MUTED, size="8.5pt", angle=-90)
            views, images = [], []
            row_colormap = colormaps[row] if row < len(colormaps) else None
            for col in range(cols):
                view = self.addViewBox(lockAspect=True, enableMouse=False, enableMenu=False)
                view.invertY(True)
                image = pg.ImageItem()
                colormap = column_colormaps[col] if col < len(column_colormaps) else row_colormap
                if colormap:
                    image.setColorMap(pg.colormap.get(colormap))
                view.addItem(image)
                views.append(view)
                images.append(image)
            self.views.append(views)
            self.images.append(images)
            self.nextRow()
        self.setMinimumSize(96, 96)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    @property
    def image(self) -> pg.ImageItem:
        return self.images[0][0]

    def set_image(
        self, pixels: np.ndarray, levels: tuple[float, float] | None = None, row: int = 0, col: int = 0
    ) -> None:
        data = np.asarray(pixels)
        if data.dtype == np.bool_:
            data = data.astype(np.uint8)
        if levels is None:
            low, high = float(np.min(data)), float(np.max(data))
            levels = (low, high if high > low else low + 1)
        item = self.images[row][col]
        reshaped = item.image is None or item.image.shape != data.shape
        item.setImage(data, levels=levels, autoLevels=False)
        if reshaped:
            self.views[row][col].autoRange(padding=0)

    def clear_images(self) -> None:
        # not `clear`: GraphicsLayoutWidget binds its layout's clear() (which removes every item) to that name
        for images in self.images:
            for image in images:
                image.clear()


class ElidedLabel(QLabel):
    """One line of text, cut with "…" to the width it gets (the whole text in its tooltip). It never wraps or
    grows, so a long message never moves what is around it."""

    def __init__(self, text: str = "", name: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        if name:
            self.setObjectName(name)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self._full = ""
        self.set_full_text(text)

    def set_full_text(self, text: str) -> None:
        self._full = text
        self.setToolTip(text)
        self._elide()

    def full_text(self) -> str:
        return self._full

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        self._elide()

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt's name)
        super().changeEvent(event)
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange):
            self._elide()

    def _elide(self) -> None:
        width = self.contentsRect().width()
        elided = self.fontMetrics().elidedText(self._full, Qt.TextElideMode.ElideRight, width) if width > 0 else ""
        super().setText(elided or self._full)


class Banner(QFrame):
    """Errors (and a few confirmations) at the top of the page: what happened and what to do.

    It shows in the page title's stead, in a slot of its own fixed height (`MessageSlot`): it never pushes the
    page down and never covers a control, so nothing moves under the operator's mouse when it comes or goes.
    Two lines: the title with the detail, then what to do; each is cut to the width with the whole text in its
    tooltip (and in the log). An error stays until dismissed; a confirmation goes back to the title after a
    while, and never replaces an error that is still shown.
    """

    shown = Signal()
    dismissed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("banner")
        self.setProperty("kind", "error")
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 6, 8, 6)
        layout.setSpacing(12)
        self.icon = label("!", "bannerIcon")
        self.icon.setFixedSize(22, 22)
        self.icon.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(self.icon, 0, Qt.AlignmentFlag.AlignVCenter)
        texts = QVBoxLayout()
        texts.setSpacing(2)
        self.headline = ElidedLabel("", "bannerTitle")
        self.hint_line = ElidedLabel("", "bannerHint")
        texts.addWidget(self.headline)
        texts.addWidget(self.hint_line)
        layout.addLayout(texts, 1)
        close = button("Dismiss", "flat")
        close.clicked.connect(self.dismiss)
        layout.addWidget(close, 0, Qt.AlignmentFlag.AlignVCenter)
        self._texts: tuple[str, str, str] = ("", "", "")
        self._hide_timer = QTimer(self)
        self._hide_timer.setSingleShot(True)
        self._hide_timer.timeout.connect(self.dismiss)
        self.hide()

    def show_problem(self, problem: Problem) -> None:
        self._show("error", "!", problem.title, problem.detail, f"What to do: {problem.hint}")

    def show_info(self, title: str, detail: str = "", hide_after_ms: int = INFO_SHOWN_MS) -> None:
        """A confirmation. It goes back to the page title by itself (0: it stays), in the same fixed place,
        and it never hides an error the operator has not dismissed (the log has it)."""
        if self.isVisible() and self.kind == "error":
            return
        self._show("info", "✓", title, detail, "")
        if hide_after_ms:
            self._hide_timer.start(hide_after_ms)

    def _show(self, kind: str, icon: str, title: str, detail: str, hint: str) -> None:
        self._hide_timer.stop()
        self.setProperty("kind", kind)
        restyle(self)
        restyle(self.icon)  # its colour follows the banner's kind
        self.icon.setText(icon)
        self._texts = (title, detail, hint)
        self.headline.set_full_text(f"{title} — {detail}" if detail else title)
        self.hint_line.set_full_text(hint)
        self.setToolTip("\n".join(t for t in self._texts if t))
        self.shown.emit()
        self.show()

    @property
    def kind(self) -> str:
        return str(self.property("kind"))

    def text(self) -> str:
        """The whole message: title, detail and what to do, a line each."""
        return "\n".join(t for t in self._texts if t)

    def dismiss(self) -> None:
        self._hide_timer.stop()
        self.hide()
        self.dismissed.emit()


class MessageSlot(QStackedWidget):
    """The fixed place above the page: its title, or the banner in the title's stead. Its height is fixed when
    it is first shown (styled), to the larger of the two, so showing or dismissing a message moves nothing."""

    def __init__(self, resting: QWidget, banner: Banner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.resting, self.banner = resting, banner
        self.addWidget(resting)
        self.addWidget(banner)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        banner.shown.connect(lambda: self.setCurrentWidget(banner))
        banner.dismissed.connect(lambda: self.setCurrentWidget(resting))
        self.setCurrentWidget(resting)
        self._fitted = False

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (Qt's name)
        if not self._fitted:  # the style sheet's fonts and borders are known now
            self._fitted = True
            heights = []
            for page in (self.resting, self.banner):
                page.ensurePolished()
                for child in page.findChildren(QWidget):
                    child.ensurePolished()
                heights.append(page.sizeHint().height())
            self.setFixedHeight(max(heights) + 2)  # + the error banner's border, whichever kind shows first
        super().showEvent(event)
