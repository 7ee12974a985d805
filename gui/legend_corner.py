"""A plot's legend in the corner where it hides the least of the curves (matplotlib's ``loc="best"``).

A legend has a translucent white box, so the points under it look faded: in
a short epoch plot the box over the top right corner covered the last epochs
of a model being fine-tuned, which read as something wrong with them. The
corners are scored by the points of every curve (and points along their
segments, so a line crossing the box counts) that fall inside the box, in
pixels; the legend stays put on a tie, so it does not jump for nothing. When
every corner hides some (a plot too short for its legend), the box goes
clear: the curves stay crisp under the legend's words.
"""
import numpy as np

# pyqtgraph legend offsets: negative counts from the right or bottom edge
TOP_RIGHT, TOP_LEFT, BOTTOM_RIGHT, BOTTOM_LEFT = (-10, 8), (10, 8), (-10, -10), (10, -10)
CORNERS = (TOP_RIGHT, TOP_LEFT, BOTTOM_RIGHT, BOTTOM_LEFT)
ALONG = 8   # points sampled along each segment between two data points
FILL, CLEAR = (255, 255, 255, 200), (0, 0, 0, 0)   # the legend's box, over an empty corner / over curves


def place_legend(plot, *_signal_args):
    """Move ``plot``'s legend (a pyqtgraph PlotItem's) to the corner hiding the fewest curve points; clear
    its box if that is still some. (Connected to the view's range and size signals, whose arguments it
    ignores.)"""
    legend = plot.legend
    current = tuple(legend.opts["offset"])
    points = _pixels(plot)
    if points is None:
        return
    covered, best = min((hidden(plot, corner, points), corner != current, corner) for corner in CORNERS)[::2]
    legend.setOffset(best)   # also in the same corner: a legend that grew a line is anchored again by its new size
    legend.setBrush(CLEAR if covered else FILL)


def hidden(plot, corner, points=None):
    """How many curve points (and points along their segments) ``plot``'s legend would cover at ``corner``."""
    points = _pixels(plot) if points is None else points
    if points is None:
        return 0
    view, legend = plot.getViewBox(), plot.legend
    width, height = legend.width(), legend.height()
    left = corner[0] if corner[0] > 0 else view.width() + corner[0] - width
    top = corner[1] if corner[1] > 0 else view.height() + corner[1] - height
    x, y = points
    return int(np.count_nonzero((x >= left) & (x <= left + width) & (y >= top) & (y <= top + height)))


def _pixels(plot):
    """(x, y) in the view's pixels of every curve's points and of ALONG points on each segment; None before
    the view has a size or a range."""
    view = plot.getViewBox()
    (x0, x1), (y0, y1) = view.viewRange()
    if view.width() <= 0 or view.height() <= 0 or x1 <= x0 or y1 <= y0:
        return None
    xs, ys = [], []
    for item in plot.listDataItems():
        if item.xData is None or not len(item.xData):
            continue
        keep = np.isfinite(item.xData) & np.isfinite(item.yData)
        x, y = item.xData[keep], item.yData[keep]
        if len(x) > 1:
            t = np.linspace(0, 1, ALONG, endpoint=False)[:, None]
            x = np.concatenate([(x[:-1] + t * np.diff(x)).ravel(), x[-1:]])
            y = np.concatenate([(y[:-1] + t * np.diff(y)).ravel(), y[-1:]])
        xs.append(x)
        ys.append(y)
    if not xs:
        return None
    x, y = np.concatenate(xs), np.concatenate(ys)
    return (x - x0) / (x1 - x0) * view.width(), (y1 - y) / (y1 - y0) * view.height()
