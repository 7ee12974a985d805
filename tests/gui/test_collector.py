"""Reference cycles are collected on the GUI thread only (gui/collector.py): a widget destroyed by a
worker's collection deadlocks the window."""
import gc
import threading

from gui.app import create_app
from gui.collector import MainThreadCollector


class Cycle:
    """Garbage that only the cycle collector frees, and says on which thread it was freed."""

    def __init__(self, freed_on):
        self.me = self
        self.freed_on = freed_on

    def __del__(self):
        self.freed_on.append(threading.current_thread())


def allocate_like_training(kept):
    """Containers, kept: far past the threshold of a first-generation collection, and still past it after."""
    kept.extend([] for _ in range(100_000))


def test_a_cycle_dropped_while_a_worker_allocates_is_collected_on_the_gui_thread(qtbot):
    create_app()
    freed_on = []
    Cycle(freed_on)
    kept = []
    worker = threading.Thread(target=allocate_like_training, args=(kept,))
    worker.start()
    worker.join()
    assert freed_on == []                    # the worker's allocations collected nothing
    qtbot.waitUntil(lambda: bool(freed_on), timeout=5000)
    assert freed_on == [threading.main_thread()]


def test_the_app_has_one_collector_and_python_collects_nothing_by_itself(qapp):
    create_app()
    create_app()
    assert len(qapp.findChildren(MainThreadCollector)) == 1
    assert not gc.isenabled()
