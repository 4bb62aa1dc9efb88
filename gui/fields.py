"""Number fields that never change what was typed: a value outside the allowed range, or text that is not a
number, is refused with a message next to the field and nothing is sent. The range is always shown.

(A QSpinBox clamps silently: 150 in a 0-100 box becomes 100, or 15 while typing; letters vanish. These
fields keep the text exactly as typed and say why it was refused.)
"""

from __future__ import annotations

import logging
import math

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLineEdit, QWidget

from speckle_lab.gui import theme
from speckle_lab.gui.widgets import label

log = logging.getLogger(__name__)


def format_number(value: float, decimals: int) -> str:
    return f"{value:,.{decimals}f}".replace(",", " ") if abs(value) >= 10_000 else f"{value:.{decimals}f}"


def parse_number(text: str, low: float, high: float, integer: bool = False, what: str = "value") -> float:
    """The number in `text`, or ValueError with a one-line reason (never a changed value)."""
    cleaned = text.strip().replace(" ", "").replace("\u202f", "")
    if not cleaned:
        raise ValueError(f"enter a {what}")
    try:
        value = float(cleaned)
    except ValueError:
        raise ValueError(f"“{text.strip()}” is not a number") from None
    if not math.isfinite(value):
        raise ValueError(f"“{text.strip()}” is not a finite number")
    if integer and value != int(value):
        raise ValueError(f"{what} must be a whole number, not {text.strip()}")
    if not low <= value <= high:
        raise ValueError(f"{format_number(value, 0 if integer else 1)} is outside {range_text(low, high, integer)}")
    return int(value) if integer else value


def range_text(low: float, high: float, integer: bool = False, unit: str = "") -> str:
    decimals = 0 if integer or (low == int(low) and high == int(high)) else 1
    suffix = f" {unit}" if unit else ""
    return f"{format_number(low, decimals)} – {format_number(high, decimals)}{suffix}"


class NumberField(QWidget):
    """A line edit with its unit, its allowed range below it and, when refused, the reason in red.

    `submitted(value)` is emitted on Enter (or `submit()`) only for a valid value; `refused(reason)` otherwise.
    `show_device_value` shows what the device reports, unless the operator is typing or looking at a refusal.
    """

    submitted = Signal(float)
    refused = Signal(str)

    def __init__(
        self,
        what: str,
        unit: str,
        low: float,
        high: float,
        decimals: int = 1,
        integer: bool = False,
        note: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.what, self.unit, self.decimals, self.integer, self.note = what, unit, decimals, integer, note
        self.low, self.high = low, high
        self.edit = QLineEdit()
        self.edit.setObjectName("numberField")
        self.edit.returnPressed.connect(self.submit)
        self.edit.textEdited.connect(self._edited)
        self.range_label = label("", "fieldRange", wrap=True)
        self.error = label("", "fieldError", wrap=True)
        self.error.setStyleSheet(f"color: {theme.ERROR};")
        self.error.hide()
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(6)
        grid.setVerticalSpacing(1)
        row = QHBoxLayout()
        row.setSpacing(4)
        row.addWidget(self.edit, 1)
        if unit:
            row.addWidget(label(unit, "muted"))
        grid.addLayout(row, 0, 0)
        grid.addWidget(self.range_label, 1, 0)
        grid.addWidget(self.error, 2, 0)
        self._dirty = False
        self.set_range(low, high)

    def set_range(self, low: float, high: float) -> None:
        self.low, self.high = low, high
        note = f" ({self.note})" if self.note else ""
        self.range_label.setText(f"allowed {range_text(low, high, self.integer, self.unit)}{note}")
        self.edit.setToolTip(f"{self.what}: {range_text(low, high, self.integer, self.unit)}; Enter sends it")

    def value(self) -> float:
        """The typed value (ValueError with the reason when it cannot be sent)."""
        return parse_number(self.edit.text(), self.low, self.high, self.integer, self.what)

    def submit(self) -> bool:
        try:
            value = self.value()
        except ValueError as error:
            reason = f"Refused, nothing sent: {error}"
            self.error.setText(reason)
            self.error.show()
            log.warning("%s refused: %s", self.what, error)
            self.refused.emit(reason)
            return False
        self.error.hide()
        self._dirty = False
        self.submitted.emit(float(value))
        return True

    def set_text(self, text: str) -> None:
        """As if typed (for tests and programmatic entry)."""
        self.edit.setText(text)
        self._edited()

    def show_device_value(self, value: float) -> None:
        if self.edit.hasFocus() or self._dirty or not self.error.isHidden():
            return
        self.edit.setText(str(int(value)) if self.integer else format_number(value, self.decimals).replace(" ", ""))

    @property
    def refused_text(self) -> str:
        return "" if self.error.isHidden() else self.error.text()

    def _edited(self, *_: object) -> None:
        self._dirty = True

    def clear_refusal(self) -> None:
        self.error.hide()
        self._dirty = False
