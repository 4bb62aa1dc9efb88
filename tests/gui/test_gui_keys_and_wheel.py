"""Keys and the mouse wheel as a busy operator uses them: every shortcut has one owner (Ctrl+Q closes the
window), and the wheel scrolls the page rather than editing the field under the pointer."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QAction, QShortcut, QWheelEvent
from PySide6.QtWidgets import QAbstractSpinBox, QApplication, QComboBox, QWidget


def test_every_shortcut_has_one_owner_and_ctrl_q_closes_the_window(qtbot, open_window, bench_file: Path) -> None:
    window = open_window(bench_file)
    keys = [key.toString() for action in window.findChildren(QAction) for key in action.shortcuts()]
    keys += [shortcut.key().toString() for shortcut in window.findChildren(QShortcut)]
    assert not [key for key, n in Counter(k for k in keys if k).items() if n > 1]  # Qt drops an ambiguous key
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    qtbot.keyClick(window, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: window.closed_cleanly, timeout=30_000)


def _wheel(widget: QWidget, notches: int = -1) -> bool:
    """One notch of the wheel over `widget` (down by default); returns whether the widget took it."""
    centre = QPointF(widget.rect().center())
    event = QWheelEvent(
        centre,
        QPointF(widget.mapToGlobal(centre.toPoint())),
        QPoint(),
        QPoint(0, 120 * notches),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(widget, event)
    return event.isAccepted()


def _value(widget: QWidget) -> object:
    return widget.currentText() if isinstance(widget, QComboBox) else widget.text()


def test_the_wheel_edits_a_field_only_when_it_has_the_focus(qtbot, open_window, bench_file: Path) -> None:
    window = open_window(bench_file)
    window.show_page("Acquisition")
    card = window.acquisition.plan_card
    plan = {"targets": card.targets.currentText(), "frames": card.n_frames.value(), "placement": "fixed"}
    card.placement.setCurrentText("fixed")
    for field in (card.targets, card.n_frames, card.placement, card.display, card.reference_every):
        before = _value(field)
        assert not _wheel(field), field  # ignored: the scroll area under it gets the notch
        assert _value(field) == before
    assert card.targets.currentText() == plan["targets"] and card.n_frames.value() == plan["frames"]
    card.n_frames.setFocus()
    qtbot.waitUntil(card.n_frames.hasFocus, timeout=2000)
    assert _wheel(card.n_frames)  # the field the operator clicked into takes the wheel
    assert card.n_frames.value() == plan["frames"] - 1

    # The same policy on every page and dialog: no wheel-editable field anywhere takes focus from the wheel.
    editable = [w for w in window.findChildren(QWidget) if isinstance(w, QComboBox | QAbstractSpinBox)]
    assert len(editable) >= 15
    assert all(w.focusPolicy() != Qt.FocusPolicy.WheelFocus for w in editable)
    unfocused = [w for w in editable if not w.hasFocus() and w.isEnabled()]
    assert all(not _wheel(w) for w in unfocused), [w.objectName() or type(w).__name__ for w in unfocused]
