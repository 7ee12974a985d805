"""Views that are costly to draw redraw only when someone can see them."""


class LazyRefresh:
    """Mixin for a QWidget with a ``refresh()``: redraw now if visible, else on its next show.

    Training sends new weights several times a second; a hidden tab should not
    spend the GUI thread's time drawing them.
    """
    _dirty = False

    def refresh_when_visible(self):
        if self.isVisible():
            self.refresh()
        else:
            self._dirty = True

    def showEvent(self, event):
        if self._dirty:
            self.refresh()
        super().showEvent(event)
