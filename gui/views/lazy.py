"""Views that are costly to draw redraw only when someone can see them."""
from PySide6.QtWidgets import QAbstractScrollArea


def on_screen(widget):
    """Whether any of ``widget`` can be seen.

    ``isVisible()`` alone is not enough: the panels are tabbed docks, and a
    dock behind another tab still counts as visible to Qt, with an empty
    visible region. Redrawing it there costs the GUI thread (and the trainer
    waiting for the interpreter) for a picture nobody sees. A scroll area (a
    pyqtgraph plot is one) is seen through its viewport, which covers all of
    it: its own visible region is empty even on screen.
    """
    seen = widget.viewport() if isinstance(widget, QAbstractScrollArea) else widget
    return widget.isVisible() and not seen.visibleRegion().isEmpty()


class LazyRefresh:
    """Mixin for a QWidget with a ``refresh()``: redraw now if it can be seen, else when it comes back.

    Training sends new weights several times a second; a covered view should
    not spend the GUI thread's time drawing them. It comes back either by a
    ``showEvent`` (a page of a QTabWidget) or, for a dock raised from behind
    another tab, which gets no showEvent, by the window calling ``catch_up``.
    """
    _dirty = False   # refresh() clears it

    def refresh_when_visible(self):
        if on_screen(self):
            self.refresh()
        else:
            self._dirty = True

    def catch_up(self):
        """Redraw what changed while nobody could see it."""
        if self._dirty and self.isVisible():
            self.refresh()

    def showEvent(self, event):
        super().showEvent(event)
        self.catch_up()
