"""Operator choices that persist between sessions (plan fields, training settings, window layout).

A thin wrapper over QSettings, injectable so tests write to a temporary INI file instead of the user's
settings. Values are stored as strings and converted back with the type of the default, because INI
files (and QSettings on some platforms) lose the type.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TypeVar

from PySide6.QtCore import QByteArray, QSettings
from PySide6.QtWidgets import QAbstractButton, QComboBox, QDoubleSpinBox, QLineEdit, QSpinBox, QWidget

ORGANIZATION = "speckle-lab"
APPLICATION = "control-panel"

T = TypeVar("T")


class Settings:
    """Typed access to one QSettings store."""

    def __init__(self, store: QSettings) -> None:
        self._store = store

    @classmethod
    def user(cls) -> Settings:
        """The operator's settings (per user, native format)."""
        return cls(QSettings(ORGANIZATION, APPLICATION))

    @classmethod
    def at(cls, path: Path) -> Settings:
        """Settings in an INI file at `path`: tests, or a lab that keeps them next to the bench file."""
        return cls(QSettings(str(path), QSettings.Format.IniFormat))

    @property
    def path(self) -> str:
        return self._store.fileName()

    def get(self, key: str, default: T) -> T:
        """The stored value converted to the type of `default`; `default` when missing or unreadable."""
        raw = self._store.value(key)
        if raw is None:
            return default
        try:
            if isinstance(default, bool):
                return (raw if isinstance(raw, bool) else str(raw).lower() in ("true", "1")) is True  # type: ignore[return-value]
            if isinstance(default, int | float | str):
                return type(default)(raw)
            if isinstance(default, list | dict):
                return json.loads(raw)
            if isinstance(default, QByteArray):
                return raw if isinstance(raw, QByteArray) else default  # type: ignore[return-value]
        except (TypeError, ValueError):
            return default
        return raw

    def set(self, key: str, value: Any) -> None:
        if isinstance(value, list | dict):
            value = json.dumps(value)
        self._store.setValue(key, value)

    def sync(self) -> None:
        self._store.sync()

    def bind(self, widget: QWidget, key: str) -> None:
        """Restore `widget` from `key` now, and store every change the operator makes."""
        # The spin boxes apart: QSpinBox.setValue takes an int, QDoubleSpinBox's a float (the same text, two types).
        if isinstance(widget, QSpinBox):  # noqa: SIM114
            widget.setValue(self.get(key, widget.value()))
            widget.valueChanged.connect(lambda value: self.set(key, value))
        elif isinstance(widget, QDoubleSpinBox):
            widget.setValue(self.get(key, widget.value()))
            widget.valueChanged.connect(lambda value: self.set(key, value))
        elif isinstance(widget, QComboBox):
            text = self.get(key, widget.currentText())
            if widget.isEditable():
                widget.setCurrentText(text)
            elif (index := widget.findText(text)) >= 0:
                widget.setCurrentIndex(index)
            widget.currentTextChanged.connect(lambda value: self.set(key, value))
        elif isinstance(edit := getattr(widget, "edit", None), QLineEdit):  # a NumberField: its typed text persists
            self.bind(edit, key)
        elif isinstance(widget, QLineEdit):
            widget.setText(self.get(key, widget.text()))
            widget.textChanged.connect(lambda value: self.set(key, value))
        elif isinstance(widget, QAbstractButton) and widget.isCheckable():
            widget.setChecked(self.get(key, widget.isChecked()))
            widget.toggled.connect(lambda value: self.set(key, value))
        else:
            raise TypeError(f"cannot bind a {type(widget).__name__} to a setting")
