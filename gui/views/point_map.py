"""A point map as a widget: one dot per test image, coloured by its true class, mistakes marked.

Input: ``set_map(points, labels, predictions, indices, names, images, axis_titles)``.
Outputs: ``pointClicked(test index)``, ``pointHovered(test index, or -1 when the mouse leaves a point)``.

Dots are one pyqtgraph ``ScatterPlotItem`` (fast for tens of thousands), a
ring marks each mistake, and a short line from it, in the colour of the class
it was taken for, points toward where that class sits: the centroid of the
images truly of that class. Hovering a dot shows its image in a small inset
with its true and predicted class; the nearest dot within a few pixels is the
one meant, so a dot is easy to hit at any zoom.
"""
import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPoint, QPointF, Qt, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QFrame, QLabel, QVBoxLayout

from ..format import esc
from .grid import image_qimage

HOVER_PX = 6          # how near (in screen pixels) the mouse must be to a dot to mean it
DOT_PX = 5
RING_PX = 11
LINE_SHARE = 0.06     # a mistake's line: at most this share of the map's diagonal, never past the centroid
LEGEND_ROWS = 16      # classes per legend column
INSET_PX = 84         # the hovered image, drawn pixelated at this size
RING = "#111827"
# Ten well-separated class colours (as matplotlib's tab10); more classes get evenly spaced hues.
CLASS_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
                 "#bcbd22", "#17becf")


def class_colours(k):
    """``k`` distinguishable QColors, one per class."""
    if k <= len(CLASS_COLOURS):
        return [pg.mkColor(c) for c in CLASS_COLOURS[:k]]
    return [pg.intColor(i, hues=k, values=1, maxValue=220) for i in range(k)]


def mistake_lines(points, labels, predictions, extent):
    """(starts, ends) of each mistake's line: from its dot toward the centroid of the images truly of the
    class it was predicted as, at most ``LINE_SHARE * extent`` long; (M, 2) each, mistakes in order.
    A class with no image in the map has no centroid: its mistakes get a line of zero length."""
    wrong = np.flatnonzero(labels != predictions)
    starts = points[wrong].astype(np.float64)
    ends = starts.copy()
    for cls in np.unique(predictions[wrong]):
        members = labels == cls
        if not members.any():
            continue
        rows = predictions[wrong] == cls
        toward = points[members].mean(axis=0) - starts[rows]
        length = np.linalg.norm(toward, axis=1, keepdims=True)
        ends[rows] += toward * np.minimum(1.0, LINE_SHARE * extent / np.maximum(length, 1e-12))
    return starts, ends


class ImageInset(QFrame):
    """The hovered image, pixelated, with its index and true and predicted class; ignores the mouse."""

    def __init__(self, parent):
        super().__init__(parent)
        self.setAttribute(Qt.WA_TransparentForMouseEvents)
        self.setFrameShape(QFrame.StyledPanel)
        self.setStyleSheet("ImageInset { background: white; border: 1px solid #9ca3af; border-radius: 4px; }")
        self.picture, self.caption = QLabel(), QLabel()
        self.caption.setTextFormat(Qt.RichText)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(3)
        layout.addWidget(self.picture, 0, Qt.AlignHCenter)
        layout.addWidget(self.caption)
        self.hide()

    def show_image(self, image, caption, at):
        """Show ``image`` (C, H, W) and ``caption`` (rich text) beside ``at``, kept inside the parent."""
        pixmap = QPixmap.fromImage(image_qimage(image))
        self.picture.setPixmap(pixmap.scaled(INSET_PX, INSET_PX, Qt.KeepAspectRatio, Qt.FastTransformation))
        self.caption.setText(caption)
        self.adjustSize()
        room = self.parentWidget().rect()
        x = at.x() + 14 if at.x() + 14 + self.width() <= room.right() else at.x() - 14 - self.width()
        y = min(max(at.y() - self.height() // 2, 0), max(room.bottom() - self.height(), 0))
        self.move(max(x, 0), y)
        self.show()
        self.raise_()


class ClassLegend(QLabel):
    """The map's key: a dot in each class's colour with its name (in columns when there are many), then
    what a ring and a line mean."""

    def __init__(self):
        super().__init__()
        self.setTextFormat(Qt.RichText)
        self.setAlignment(Qt.AlignTop | Qt.AlignLeft)
        self.setToolTip("Dots are coloured by their true class")
        self.setStatusTip(self.toolTip())

    def set_classes(self, names, colours, mistakes):
        dot = "<span style='color:{}; font-size:14pt'>●</span>&nbsp;{}"
        rows = [dot.format(colour.name(), esc(name)) for name, colour in zip(names, colours)]
        columns = ["<br>".join(rows[i:i + LEGEND_ROWS]) for i in range(0, len(rows), LEGEND_ROWS)]
        key = ("<br><br><span style='font-size:12pt'>◯</span>&nbsp;a mistake<br>—&nbsp;toward the class<br>"
               "&nbsp;&nbsp;&nbsp;it was taken for") if mistakes else ""
        cells = "".join(f"<td style='padding-right:10px'>{c}</td>" for c in columns)
        self.setText(f"<b>True class</b><table><tr>{cells}</tr></table>{key}" if names else "")


class PointMapView(pg.PlotWidget):
    """The map: dots by true class with a legend of class names, mistakes ringed, hover and click."""
    pointClicked = Signal(int)    # the test index of the dot clicked
    pointHovered = Signal(int)    # the test index under the mouse, -1 when none

    def __init__(self, parent=None):
        super().__init__(parent, background="w")
        self.points = np.zeros((0, 2), np.float32)
        self.labels = self.predictions = self.indices = np.zeros(0, np.int64)
        self.names, self.images, self.hovered = [], None, None
        plot = self.getPlotItem()
        plot.setMenuEnabled(False)
        plot.hideButtons()
        for axis in ("left", "bottom"):
            plot.getAxis(axis).setTextPen("#374151")
            plot.getAxis(axis).setPen("#9ca3af")
        self.dots = pg.ScatterPlotItem(size=DOT_PX, pen=None, pxMode=True)
        self.rings = pg.ScatterPlotItem(size=RING_PX, pen=pg.mkPen(RING, width=1.3), brush=None, pxMode=True)
        plot.addItem(self.dots)
        plot.addItem(self.rings)
        self.lines = []
        self.legend = ClassLegend()    # a widget for the page to put beside the map, so it hides no dot
        self.inset = ImageInset(self)
        self.scene().sigMouseClicked.connect(self._on_mouse_clicked)
        self.setToolTip("Each dot is a test image; hover a dot to see it, click it to open it in Inside. "
                        "Drag to pan, wheel to zoom, double-click to fit.")
        self.setMinimumSize(360, 300)

    def set_map(self, points, labels, predictions, indices, names, images, axis_titles=("", "")):
        """Draw a map. ``points`` (N, 2); ``labels``, ``predictions`` (N,) class indices into ``names``;
        ``indices`` (N,) the test index of each dot; ``images`` the whole test set (the inset reads
        ``images[test index]``); ``axis_titles`` (bottom, left)."""
        self.points = np.asarray(points, np.float64)
        self.labels, self.predictions = np.asarray(labels), np.asarray(predictions)
        self.indices, self.names, self.images = np.asarray(indices), list(names), images
        colours = class_colours(len(self.names))
        brushes = [pg.mkBrush(c) for c in colours]
        self.dots.setData(pos=self.points, brush=[brushes[c] for c in self.labels])
        wrong = self.labels != self.predictions
        self.rings.setData(pos=self.points[wrong])
        self._draw_lines(colours)
        self.legend.set_classes(self.names, colours, wrong.any())
        plot = self.getPlotItem()
        plot.setLabel("bottom", axis_titles[0], color="#4b5563")
        plot.setLabel("left", axis_titles[1], color="#4b5563")
        self.fit()
        self._hover(None, None)

    def fit(self):
        """Show the whole map, now: a dot is where it will be drawn from this moment (hover and clicks agree)."""
        if len(self.points):
            self.getPlotItem().getViewBox().autoRange(padding=0.03)

    def clear_map(self):
        self.set_map(np.zeros((0, 2)), np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64),
                     [], None)

    def _draw_lines(self, colours):
        plot = self.getPlotItem()
        for line in self.lines:
            plot.removeItem(line)
        self.lines = []
        if not len(self.points):
            return
        extent = float(np.linalg.norm(np.ptp(self.points, axis=0)))
        starts, ends = mistake_lines(self.points, self.labels, self.predictions, extent)
        taken_for = self.predictions[self.labels != self.predictions]
        for cls in np.unique(taken_for):
            rows = taken_for == cls
            xy = np.stack([starts[rows], ends[rows]], axis=1).reshape(-1, 2)   # start, end, start, end, ...
            line = pg.PlotCurveItem(xy[:, 0], xy[:, 1], connect="pairs", pen=pg.mkPen(colours[cls], width=1.6))
            plot.addItem(line)
            self.lines.append(line)

    # ----- hover and click ------------------------------------------------------------------------
    def point_at(self, x, y):
        """The position (in the arrays given) of the dot nearest the view point (x, y), if within
        ``HOVER_PX`` screen pixels of it; else None."""
        if not len(self.points):
            return None
        sx, sy = self.getPlotItem().getViewBox().viewPixelSize()
        d2 = ((self.points[:, 0] - x) / sx) ** 2 + ((self.points[:, 1] - y) / sy) ** 2
        nearest = int(d2.argmin())
        return nearest if d2[nearest] <= HOVER_PX ** 2 else None

    def widget_pos(self, i):
        """Where dot ``i`` is, in this widget's coordinates (for tests and the inset)."""
        scene = self.getPlotItem().getViewBox().mapViewToScene(QPointF(*self.points[i]))
        return self.mapFromScene(scene)

    def _dot_under(self, scene_pos):
        box = self.getPlotItem().getViewBox()
        if not box.sceneBoundingRect().contains(scene_pos):
            return None
        at = box.mapSceneToView(scene_pos)
        return self.point_at(at.x(), at.y())

    def mouseMoveEvent(self, event):
        """Every move, not the scene's ``sigMouseMoved``, which drops moves that come quickly after another:
        the mouse may stop on a dot with its last move dropped."""
        super().mouseMoveEvent(event)
        at = event.position().toPoint()
        self._hover(self._dot_under(self.mapToScene(at)), at)

    def _hover(self, i, at):
        if i == self.hovered:
            return
        self.hovered = i
        if i is None:
            self.inset.hide()
            self.pointHovered.emit(-1)
            return
        index, true, pred = int(self.indices[i]), self.names[self.labels[i]], self.names[self.predictions[i]]
        verdict = "" if true == pred else " <span style='color:#c2410c'>(wrong)</span>"
        caption = f"<b>test image #{index:,}</b><br>true <b>{esc(true)}</b><br>predicted <b>{esc(pred)}</b>{verdict}"
        self.inset.show_image(self.images[index], caption, at if at is not None else QPoint(0, 0))
        self.pointHovered.emit(index)

    def _on_mouse_clicked(self, event):
        if event.button() != Qt.LeftButton:
            return
        if event.double():
            self.fit()     # back to the whole map after zooming
            return
        i = self._dot_under(event.scenePos())
        if i is not None:
            event.accept()
            self.pointClicked.emit(int(self.indices[i]))

    def leaveEvent(self, event):
        super().leaveEvent(event)
        self._hover(None, None)
