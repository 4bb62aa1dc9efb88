"""The panel's look: a dark theme (labs with lasers work in dim rooms), one accent colour, flat cards.

One place holds the colours so the widgets and the plots agree.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

WINDOW = "#14171c"
SIDEBAR = "#0f1215"
CARD = "#1b1f26"
CARD_BORDER = "#272c35"
FIELD = "#12151a"
TEXT = "#e4e7ec"
MUTED = "#8a93a3"
ACCENT = "#3ccf91"  # a 532 nm green, toned down for text and buttons
ACCENT_DARK = "#26a06c"
WARN = "#f2a93b"
ERROR = "#ef5a5f"
INFO = "#5aa9ef"
PLOT_BACKGROUND = "#101318"

# Training is blue and validation orange in every plot: one colour per data set, whatever the metric.
CURVES = {"loss": INFO, "val_loss": WARN, "dice": INFO, "val_dice": WARN, "val_pcc": WARN, "drift": ACCENT}

STYLE = f"""
QWidget {{ color: {TEXT}; font-size: 10pt; }}
QMainWindow, QWidget#page {{ background: {WINDOW}; }}
QFrame#sidebar {{ background: {SIDEBAR}; border-right: 1px solid {CARD_BORDER}; }}
QLabel#brand {{ font-size: 13pt; font-weight: 600; padding: 4px 6px; }}
QLabel#brandSub {{ color: {MUTED}; font-size: 8.5pt; padding: 0 6px 12px 6px; }}
QListWidget#nav {{ background: transparent; border: none; outline: none; }}
QListWidget#nav::item {{ padding: 10px 10px; margin: 2px 0; border-radius: 8px; color: {MUTED}; }}
QListWidget#nav::item:hover {{ background: #1a1e24; color: {TEXT}; }}
QListWidget#nav::item:selected {{ background: #1f2b27; color: {TEXT}; border-left: 3px solid {ACCENT}; }}
QLabel#pageTitle {{ font-size: 15pt; font-weight: 600; }}
QLabel#pageSub {{ color: {MUTED}; }}
QLabel#pageSub[note="true"] {{ color: {WARN}; }}
QFrame#card {{ background: {CARD}; border: 1px solid {CARD_BORDER}; border-radius: 10px; }}
QLabel#cardTitle {{ font-size: 10.5pt; font-weight: 600; }}
QLabel#cardSub {{ color: {MUTED}; font-size: 9pt; }}
QLabel#muted {{ color: {MUTED}; }}
QLabel#value {{ font-size: 17pt; font-weight: 600; }}
QLabel#unit {{ color: {MUTED}; }}
QLabel#metric {{ font-size: 12pt; font-weight: 600; }}
QLabel#metricName {{ color: {MUTED}; font-size: 8.5pt; }}
QLabel[pill="true"] {{ border-radius: 9px; padding: 2px 10px; font-weight: 600; font-size: 9pt; }}
QLabel[pill="true"][kind="idle"] {{ background: #2a3039; color: #c3c9d3; }}
QLabel[pill="true"][kind="ok"] {{ background: #17392b; color: {ACCENT}; }}
QLabel[pill="true"][kind="active"] {{ background: {ACCENT}; color: #06140d; }}
QLabel[pill="true"][kind="warn"] {{ background: #3d2e14; color: {WARN}; }}
QLabel[pill="true"][kind="error"] {{ background: #43181b; color: {ERROR}; }}
QLabel[pill="true"][kind="info"] {{ background: #162b40; color: {INFO}; }}
QLabel#saturation {{ border-radius: 6px; padding: 4px 8px; font-weight: 600; }}
QLabel#saturation[warning="true"] {{ background: #43181b; color: {ERROR}; }}
QFrame#banner {{ border-radius: 10px; }}
QFrame#banner[kind="error"] {{ background: #3a1719; border: 1px solid #6b2a2e; }}
QFrame#banner[kind="info"] {{ background: #132a21; border: 1px solid #24573f; }}
QLabel#bannerTitle {{ font-weight: 600; }}
QLabel#bannerIcon {{ border-radius: 11px; font-weight: 700; color: #14171c; }}
QFrame#banner[kind="error"] QLabel#bannerIcon {{ background: {ERROR}; }}
QFrame#banner[kind="info"] QLabel#bannerIcon {{ background: {ACCENT}; }}
QLabel#bannerHint {{ color: #d9dde4; }}
QPushButton {{ background: #262b33; border: 1px solid #323844; border-radius: 7px; padding: 6px 14px; }}
QPushButton:hover {{ background: #2e343e; }}
QPushButton:pressed {{ background: #1f242b; }}
QPushButton:disabled {{ color: #5c6370; background: #1d2127; border-color: #262b33; }}
QPushButton[role="primary"] {{ background: {ACCENT_DARK}; border-color: {ACCENT_DARK}; color: #ffffff;
    font-weight: 600; }}
QPushButton[role="primary"]:hover {{ background: {ACCENT}; }}
QPushButton[role="primary"]:disabled {{ background: #1f3b2f; border-color: #1f3b2f; color: #6f8f80; }}
QPushButton[role="danger"] {{ background: #5a2226; border-color: #6b2a2e; color: #ffd9db; font-weight: 600; }}
QPushButton[role="danger"]:hover {{ background: #6e292e; }}
QPushButton[role="danger"]:disabled {{ background: #2a1c1e; border-color: #2a1c1e; color: #7a6265; }}
QPushButton[role="tool"] {{ padding: 4px 0; min-width: 30px; max-width: 30px; }}
QPushButton[role="flat"] {{ background: transparent; border: none; color: {MUTED}; padding: 4px 8px; }}
QPushButton[role="flat"]:hover {{ color: {TEXT}; }}
QPushButton#emission {{ padding: 10px 14px; font-size: 10.5pt; font-weight: 600; }}
QPushButton#emission:checked {{ background: {ACCENT}; border-color: {ACCENT}; color: #06140d; }}
QLineEdit, QSpinBox, QDoubleSpinBox, QComboBox {{
    background: {FIELD}; border: 1px solid #2d333d; border-radius: 6px; padding: 4px 6px; min-height: 20px;
    selection-background-color: {ACCENT_DARK};
}}
QLineEdit:focus, QSpinBox:focus, QDoubleSpinBox:focus, QComboBox:focus {{ border-color: {ACCENT_DARK}; }}
QLineEdit:disabled, QSpinBox:disabled, QDoubleSpinBox:disabled, QComboBox:disabled {{ color: #5c6370; }}
QComboBox QAbstractItemView {{ background: {CARD}; border: 1px solid {CARD_BORDER};
    selection-background-color: #24312c; }}
QCheckBox::indicator {{ width: 15px; height: 15px; }}
QProgressBar {{ background: {FIELD}; border: 1px solid #2d333d; border-radius: 6px; height: 14px; text-align: center;
    color: {TEXT}; font-size: 8.5pt; }}
QProgressBar::chunk {{ background: {ACCENT_DARK}; border-radius: 5px; }}
QTableWidget, QListWidget#files {{ background: {FIELD}; border: 1px solid #2d333d; border-radius: 6px;
    gridline-color: #252a32; }}
QHeaderView::section {{ background: {CARD}; color: {MUTED}; border: none; border-bottom: 1px solid #2d333d;
    padding: 4px 6px; font-weight: 600; }}
QStatusBar {{ background: {SIDEBAR}; border-top: 1px solid {CARD_BORDER}; }}
QStatusBar QLabel {{ padding: 0 4px; }}
QScrollArea {{ background: transparent; border: none; }}
QToolTip {{ background: {CARD}; color: {TEXT}; border: 1px solid {CARD_BORDER}; }}
QSplitter::handle {{ background: transparent; }}
"""


def apply(app: QApplication) -> None:
    """Fusion style with a dark palette (for native dialogs and menus) and the style sheet above."""
    app.setStyle("Fusion")
    palette = QPalette()
    for role, colour in (
        (QPalette.ColorRole.Window, WINDOW),
        (QPalette.ColorRole.WindowText, TEXT),
        (QPalette.ColorRole.Base, FIELD),
        (QPalette.ColorRole.AlternateBase, CARD),
        (QPalette.ColorRole.Text, TEXT),
        (QPalette.ColorRole.Button, "#262b33"),
        (QPalette.ColorRole.ButtonText, TEXT),
        (QPalette.ColorRole.Highlight, ACCENT_DARK),
        (QPalette.ColorRole.HighlightedText, "#ffffff"),
        (QPalette.ColorRole.ToolTipBase, CARD),
        (QPalette.ColorRole.ToolTipText, TEXT),
        (QPalette.ColorRole.PlaceholderText, MUTED),
    ):
        palette.setColor(role, QColor(colour))
    app.setPalette(palette)
    app.setStyleSheet(STYLE)
    configure_plots()


def configure_plots() -> None:
    pg.setConfigOptions(imageAxisOrder="row-major", background=PLOT_BACKGROUND, foreground=MUTED, antialias=True)
