"""Dead units over training: per activation layer, the share of its units silent for a whole batch.

Inputs: ``state.deadUnitsUpdated`` (the worker's figures, read from the forward
pass of the batch each weight snapshot follows: ``core.dead_units``) and a
``ModelSource`` (another model starts the plot afresh). Drawn beside the
gradient sizes in Inside > Weights: a layer whose units die gets no gradient
through them, and the two plots tell that story together. A ReLU unit is dead
when it outputs zero for every image of the batch (a conv unit is a filter,
at every position); a Sigmoid or Tanh unit when it is stuck at a flat end.
"""
import pyqtgraph as pg

from ..hover_help import explain
from .lazy import LazyRefresh

HELP = ("Share of each activation layer's units that gave no output for a whole training batch (ReLU: zero "
        "for every image; a conv unit is a filter, at every position; Sigmoid/Tanh: stuck at a flat end). "
        "Dead units get no gradient and stop learning: a share that climbs while training means steps too "
        "large or a bad start. Updated a few times a second while training.")


class DeadUnitsPlot(LazyRefresh, pg.PlotWidget):
    """One curve per activation layer: % of units dead against the training step.

    Every snapshot's shares are kept, and drawn when the plot can be seen, as the
    views beside it are: behind the Training tab, handing each curve its points
    took the GUI thread 0.13 ms a snapshot for one curve and 0.27 ms for four,
    against 0.005-0.007 ms to keep them.
    """

    def __init__(self, source, state, parent=None):
        super().__init__(parent, background="w")
        self.points = {}      # activation's name -> ([steps], [% dead])
        self.curves = {}
        plot = self.getPlotItem()
        plot.setTitle("<b>Dead units per layer while training</b>", color="#222", size="10pt")
        plot.setLabel("bottom", "training step (batch)")
        plot.setLabel("left", "% of units dead")
        plot.showGrid(x=True, y=True, alpha=0.25)
        plot.setYRange(0, 100, padding=0.02)
        plot.enableAutoRange(y=False)
        plot.setMouseEnabled(x=True, y=False)
        plot.addLegend(offset=(-8, 8), labelTextColor="#333", brush=(255, 255, 255, 210))
        explain(self, HELP)
        state.deadUnitsUpdated.connect(self.add_shares)
        source.modelReplaced.connect(self.forget)
        self.hide()

    def add_shares(self, step, shares):
        """The shares of one snapshot ({name: fraction dead}) at training ``step``."""
        for name, share in shares.items():
            steps, values = self.points.setdefault(name, ([], []))
            if steps and step <= steps[-1]:
                continue   # a run started over from an earlier step: keep the line going forward
            steps.append(step)
            values.append(100 * share)
        self._dirty = True   # shown the first time: its showEvent draws
        self.setVisible(bool(self.points))
        if self._dirty:
            self.refresh_when_visible()

    def refresh(self):
        """Hand every layer's points to its curve (a curve for a layer seen the first time)."""
        self._dirty = False
        for name, (steps, values) in self.points.items():
            if name not in self.curves:
                colour = pg.intColor(len(self.curves), hues=8, values=1, maxValue=200)
                self.curves[name] = self.getPlotItem().plot(name=name, pen=pg.mkPen(colour, width=2))
            self.curves[name].setData(steps, values)

    def forget(self):
        """Another model: its layers' history starts empty. (Not ``clear``: PlotWidget sets that name on
        each instance, for its PlotItem's.)"""
        self.getPlotItem().clear()
        self.getPlotItem().legend.clear()
        self.points, self.curves, self._dirty = {}, {}, False
        self.hide()
