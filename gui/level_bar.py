"""The live image's colour bar: a DN axis, the frame's histogram (log counts), the display levels and the colours.

Every part is what it looks like. The two triangles on the level lines are the levels: drag them (or the band
between them) and the image's black and white points follow. The colour strip beside them shows the colour
each DN gets with those levels (the first colour below the low level, the last above the high one); it is not
a control. (pyqtgraph's HistogramLUTItem puts editable colour-map ticks there, triangles like the level
handles that rewrite the colour map when dragged, and builds a colour-map menu that imports matplotlib, seconds
of start-up.)
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Signal
from PySide6.QtWidgets import QGraphicsGridLayout

from speckle_lab.gui import theme

STRIP_ROWS = 256


class LevelBar(pg.GraphicsWidget):
    """Levels of `image` on a DN axis, with the histogram of its last frame. `levels_set` follows a drag of the
    levels (and `set_levels`); the image's levels follow while dragging."""

    levels_set = Signal(object)  # (low, high) DN: a drag of the levels ended, or set_levels

    def __init__(self, image: pg.ImageItem, colormap: str = "inferno") -> None:
        super().__init__()
        self.image = image
        self.colormap = pg.colormap.get(colormap)
        self._lut = self.colormap.getLookupTable(nPts=STRIP_ROWS, alpha=True)
        image.setLookupTable(self._lut)
        layout = QGraphicsGridLayout()
        layout.setContentsMargins(1, 1, 1, 1)
        layout.setSpacing(0)
        self.setLayout(layout)

        self.vb = pg.ViewBox(enableMenu=False)
        self.vb.setMouseEnabled(x=False, y=True)  # the wheel zooms the DN axis; dragging pans it
        self.vb.setMinimumWidth(45)
        self.vb.setMaximumWidth(110)
        self.axis = pg.AxisItem("left", linkView=self.vb, maxTickLength=-10, parent=self)
        self.axis.enableAutoSIPrefix(False)
        self.plot = pg.PlotCurveItem(pen=(200, 200, 200, 120), fillLevel=0.0, brush=(100, 100, 200, 90))
        self.plot.setRotation(90)  # counts along x (leftwards after the flip), DN along y
        self.vb.addItem(self.plot)
        self.vb.invertX(True)
        self.region = pg.LinearRegionItem([0, 1], "horizontal", swapMode="block", brush=(120, 120, 160, 40))
        self.region.setZValue(10)
        pen = pg.mkPen(theme.TEXT, width=1.5)
        for line, marker in zip(self.region.lines, ("|>", "<|"), strict=True):  # low, high: both point inwards
            line.setPen(pen)
            line.addMarker(marker, 0.5, size=12.0)  # the triangles: the level handles
        self.vb.addItem(self.region)

        self.strip_vb = pg.ViewBox(enableMenu=False, enableMouse=False)
        self.strip_vb.setFixedWidth(16)
        self.strip_vb.setYLink(self.vb)
        self.strip = pg.ImageItem(axisOrder="row-major")
        self.strip_vb.addItem(self.strip)
        self.strip_vb.setXRange(0, 1, padding=0)

        layout.addItem(self.axis, 0, 0)
        layout.addItem(self.vb, 0, 1)
        layout.addItem(self.strip_vb, 0, 2)

        self.region.sigRegionChanged.connect(self._levels_changing)
        self.region.sigRegionChangeFinished.connect(self._levels_finished)
        self.vb.sigYRangeChanged.connect(self._draw_strip)

    # -- levels ---------------------------------------------------------------------------------------
    def levels(self) -> tuple[float, float]:
        low, high = self.region.getRegion()
        return float(low), float(high)

    def set_levels(self, low: float, high: float) -> None:
        self.region.setRegion([low, high])

    def set_range(self, low_dn: float, high_dn: float) -> None:
        """The DN axis shown (the camera's full range): fixed, so nothing on the bar moves by itself."""
        self.vb.setYRange(low_dn, high_dn, padding=0.02)

    def _levels_changing(self) -> None:
        self.image.setLevels(self.levels())
        self._draw_strip()

    def _levels_finished(self) -> None:
        self.image.setLevels(self.levels())
        self.levels_set.emit(self.levels())

    def _draw_strip(self, *_: object) -> None:
        """The colour of every DN in view, with the present levels."""
        (bottom, top) = self.vb.viewRange()[1]
        if not top > bottom:
            return
        low, high = self.levels()
        dn = np.linspace(bottom, top, STRIP_ROWS)
        index = np.clip((dn - low) / max(high - low, 1e-9), 0.0, 1.0) * (STRIP_ROWS - 1)
        colours = self._lut[np.rint(index).astype(np.intp)]
        self.strip.setImage(colours[:, None, :], autoLevels=False, levels=(0, 255))
        self.strip.setRect(QRectF(0.0, bottom, 1.0, top - bottom))

    # -- histogram ------------------------------------------------------------------------------------
    def show_histogram(self) -> None:
        """The histogram of the image's present frame, in log counts (a few bright or saturated pixels stay
        visible beside a million dark ones)."""
        x, counts = self.image.getHistogram()
        if x is None or not len(x):
            return
        self.plot.setData(np.asarray(x), np.log10(1.0 + np.asarray(counts, dtype=np.float64)))
        self.vb.enableAutoRange(pg.ViewBox.XAxis, True)
