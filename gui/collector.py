"""Python's cycle collector, moved onto the GUI thread: a timer there collects; no other thread ever does.

Python collects reference cycles in whichever thread allocates when a
threshold is passed, and a worker that trains allocates thousands of objects a
second, so that is usually the worker. A Qt widget caught in a cycle (a dropped
page, a closed dialog, a menu) is then destroyed on the worker thread, which Qt
forbids: there Shiboken's destructor waits for the GIL while holding a Qt lock,
and the GUI thread, holding the GIL, waits for that lock. The window freezes for
good. The test suite hung that way in CI, on the Robustness page, while its
worker read a model. So automatic collection is switched off and the GUI
thread's timer collects with Python's own thresholds, a few times a second.
"""
import gc

from PySide6.QtCore import QObject, QTimer

INTERVAL_MS = 250   # how often the counts are looked at; a look that finds nothing to do is one gc.get_count()


class MainThreadCollector(QObject):
    """While it lives, cycles are collected on the thread it was made on (the GUI thread), from a timer.

    ``close`` gives collection back to Python: tests that run no event loop afterwards must not pile up garbage.
    """

    def __init__(self, parent):
        super().__init__(parent)
        self.thresholds = gc.get_threshold()
        self.was_enabled = gc.isenabled()
        gc.disable()
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.collect)
        self.timer.start(INTERVAL_MS)

    def collect(self):
        """Collect the oldest generation whose count has passed its threshold, as Python would have."""
        counts = gc.get_count()
        for generation in (2, 1, 0):
            if counts[generation] > self.thresholds[generation]:
                gc.collect(generation)
                return

    def close(self):
        """Collect what is left, give collection back to Python as it was, and leave the application."""
        self.timer.stop()
        gc.collect()
        if self.was_enabled:
            gc.enable()
        self.setParent(None)


def install(app):
    """The collector of ``app`` (made once): call on the GUI thread before any worker starts."""
    collector = app.findChild(MainThreadCollector)
    return collector if collector is not None else MainThreadCollector(app)
