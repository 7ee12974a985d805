"""Images per class as horizontal bars: ``ClassCounts.set_counts(names, counts)``."""
import numpy as np
import pyqtgraph as pg


class ClassCounts(pg.PlotWidget):
    """Horizontal bars of images per class, class names on the left axis (long names fit).

    Until a dataset is loaded it shows a hint and no axes: empty axes would
    show a meaningless 0-1 range, upside down (the class axis runs downwards).
    """
    EMPTY = "Load a dataset to see how many images each class has"

    def __init__(self, parent=None):
        super().__init__(parent, background="w")
        self.bars = pg.BarGraphItem(x0=[], y=[], height=0.7, width=[], brush="#2563eb", pen=None)
        self.addItem(self.bars)
        self.hint = pg.TextItem(self.EMPTY, color="#777", anchor=(0.5, 0.5))
        self.hint.setPos(0.5, 0.5)
        self.addItem(self.hint)
        self.getPlotItem().invertY(True)
        self.getPlotItem().setMouseEnabled(x=False, y=False)
        self.getPlotItem().hideButtons()
        self.setLabel("bottom", "images")
        for axis in ("left", "bottom"):
            self.getAxis(axis).setTextPen("#333")
            self.getAxis(axis).setPen("#999")
        self.counts = np.zeros(0, np.int64)
        self._show_axes(False)
        self.setRange(xRange=(0, 1), yRange=(0, 1), padding=0)

    def _show_axes(self, shown):
        for axis in ("left", "bottom"):
            self.getPlotItem().showAxis(axis, shown)
        self.hint.setVisible(not shown)

    def set_counts(self, names, counts):
        self._show_axes(True)
        self.counts = np.asarray(counts)
        y = np.arange(len(names))
        self.bars.setOpts(x0=np.zeros(len(names)), y=y, width=self.counts, height=0.7)
        self.getAxis("left").setTicks([[(i, str(n)) for i, n in enumerate(names)]])
        self.setXRange(0, max(int(self.counts.max(initial=0)), 1) * 1.05, padding=0)
        self.setYRange(-0.6, len(names) - 0.4, padding=0)
