"""How bright the training pixels are: ``PixelHistogram.set_histogram(counts, edges)``.

One stepped curve per channel (grey, or red, green and blue), as the share of
all pixel values in each bin, on a log scale: MNIST's background is 81 % of
its pixels, and on a linear axis that one bar would flatten the ink and the
grey edges, which are what tell one dataset from another.
"""
import numpy as np
import pyqtgraph as pg

FLOOR = 1e-4          # percent drawn for an empty bin: the log axis has no zero
CHANNELS = {1: [("grey", "#4b5563")], 3: [("red", "#dc2626"), ("green", "#16a34a"), ("blue", "#2563eb")]}


def shares(counts):
    """(C, bins) counts as percent of each channel's values, at least FLOOR (for the log axis)."""
    counts = np.asarray(counts, np.float64)
    return np.maximum(100 * counts / np.maximum(counts.sum(axis=1, keepdims=True), 1), FLOOR)


class PixelHistogram(pg.PlotWidget):
    """The share of pixel values per brightness bin, a curve per channel; a hint until data is set."""
    EMPTY = "Load a dataset to see how its pixel values are spread"

    def __init__(self, parent=None):
        super().__init__(parent, background="w")
        plot = self.getPlotItem()
        plot.setLogMode(y=True)
        plot.setMouseEnabled(x=False, y=False)
        plot.hideButtons()
        plot.setLabel("bottom", "pixel value (0 black, 1 white)")
        plot.setLabel("left", "% of pixels")
        plot.showGrid(y=True, alpha=0.2)
        for axis in ("left", "bottom"):
            plot.getAxis(axis).setTextPen("#333")
            plot.getAxis(axis).setPen("#999")
        self.legend = plot.addLegend(offset=(-10, 10), labelTextColor="#333")
        self.curves = []
        self.hint = pg.TextItem(self.EMPTY, color="#777", anchor=(0.5, 0.5))
        plot.addItem(self.hint, ignoreBounds=True)
        self.hint.setPos(0.5, 0)
        self.setXRange(0, 1, padding=0.02)
        self.setMinimumSize(260, 160)

    def clear_histogram(self):
        """No curves, and the hint."""
        for curve in self.curves:
            self.removeItem(curve)
        self.curves = []
        self.legend.clear()
        self.hint.setVisible(True)

    def set_histogram(self, counts, edges):
        """``counts`` (C, bins) per channel, ``edges`` (bins + 1,) over [0, 1]."""
        self.clear_histogram()
        values = shares(counts)
        named = CHANNELS.get(len(values), [(f"channel {c}", "#4b5563") for c in range(len(values))])
        self.curves = [self.plot(edges, row, stepMode="center", name=name if len(values) > 1 else None,
                                 pen=pg.mkPen(colour, width=2), fillLevel=np.log10(FLOOR),
                                 brush=pg.mkBrush(colour + "33"))
                       for row, (name, colour) in zip(values, named)]
        self.hint.setVisible(False)
        self.setXRange(0, 1, padding=0.02)
        self.setYRange(np.log10(max(values.min(), FLOOR)), np.log10(100), padding=0.05)
