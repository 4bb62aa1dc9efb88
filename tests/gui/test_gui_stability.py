"""Nothing moves by itself under the operator's mouse, and what is shown is true: messages in a fixed place,
a colour bar whose handles are the levels, a cursor readout that follows the frames, a DMD card that says
who drives the DMD."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyqtgraph as pg
from gui_helpers import fill_plan
from PySide6.QtCore import QPoint, QPointF

from speckle_lab.gui.errors import Problem
from speckle_lab.gui.level_bar import LevelBar
from speckle_lab.lab.bench_session import live_frame


def test_messages_show_in_a_fixed_place_and_errors_stay(qtbot, open_window, bench_file: Path) -> None:
    window = open_window(bench_file)
    window.show_page("Acquisition")
    start = window.acquisition.plan_card.start

    def where() -> tuple[QPoint, QPoint]:
        return window.pages.mapTo(window, QPoint(0, 0)), start.mapTo(window, QPoint(0, 0))

    qtbot.wait(50)
    before = where()
    long_detail = "a detail far longer than any window is wide " * 12
    window.show_problem(Problem("Something failed", long_detail, "Do this, then that."))
    qtbot.wait(50)
    assert window.banner.isVisible() and where() == before  # in the title's stead: nothing moved
    assert long_detail.strip() in window.banner.text()  # the whole text is kept (tooltip, log), the line elided
    window.banner.show_info("Laser switched off")  # a confirmation never hides an error
    assert window.banner.kind == "error" and "Something failed" in window.banner.text()
    qtbot.wait(300)
    assert window.banner.isVisible()  # an error stays until dismissed
    window.banner.dismiss()
    qtbot.wait(50)
    assert not window.banner.isVisible() and window.title.isVisible() and where() == before
    window.banner.show_info("Capture complete", "capture-1.h5", hide_after_ms=100)
    qtbot.wait(50)
    assert window.banner.isVisible() and where() == before
    qtbot.waitUntil(lambda: not window.banner.isVisible(), timeout=2000)  # back to the title, in the same place
    assert where() == before


def test_the_colour_bar_handles_are_the_levels_and_the_cursor_reads_the_live_value(
    qtbot, open_window, bench_file: Path
) -> None:
    window = open_window(bench_file)
    view = window.devices.camera.view
    bar = view.colour_bar
    assert isinstance(bar, LevelBar)
    items = view.graphics.scene().items()
    assert not [item for item in items if isinstance(item, pg.GradientEditorItem | pg.TickSliderItem)]
    lut = np.array(view.image.lut, copy=True)
    bar.region.setRegion([200.0, 900.0])  # the end of a drag on the triangles
    assert tuple(view.image.levels) == (200.0, 900.0) and np.array_equal(view.image.lut, lut)  # levels, not colours

    frame = np.full((32, 32), 150, np.uint16)
    frame[5, 7] = 321
    view.show_frame(live_frame(frame, 1, 12, 30.0))
    position = view.view.mapViewToScene(QPointF(7.5, 5.5))  # pyqtgraph images are [x, y]: (col, row)
    view.graphics.scene().sigMouseMoved.emit(position)
    assert view.pointer_value.text() == "row 5, col 7: 321 DN"
    frame = frame.copy()
    frame[5, 7] = 4000
    view.show_frame(live_frame(frame, 2, 12, 30.0))  # the mouse has not moved: the readout follows the frame
    assert view.pointer_value.text() == "row 5, col 7: 4000 DN"


def test_the_dmd_card_says_who_drives_the_dmd(qtbot, open_window, bench_file: Path, tmp_path: Path) -> None:
    window = open_window(bench_file)
    dmd = window.devices.dmd
    qtbot.waitUntil(lambda: dmd.shown_label.text() != "DMD shows: —", timeout=5000)
    assert dmd.shown_label.text() == "DMD shows: as found when the bench opened"  # no capture has run
    fill_plan(window, tmp_path / "drives.h5", 400)
    card = window.acquisition.plan_card
    card.start.click()
    card.pause.click()  # held between blocks: the capture owns the DMD meanwhile
    qtbot.waitUntil(lambda: window.controller.capture_state_now == "paused", timeout=10_000)
    assert dmd.shown_label.text().startswith("DMD: the capture drives it now")
    card.pause.click()
    qtbot.waitUntil(lambda: not window.controller.capture_busy, timeout=20_000)
    qtbot.waitUntil(lambda: dmd.shown_label.text() == "DMD shows: left by the last capture", timeout=5000)
