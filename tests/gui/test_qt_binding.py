"""The Qt binding itself must survive a long session: the app emits thousands of signals.

PySide6 6.12.0 on Python 3.11 leaks a reference to True per emit and aborts
the process after a few hundred; pyproject.toml keeps that version out.
"""
import sys

from PySide6.QtCore import QObject, Signal


class _Emitter(QObject):
    ping = Signal(int)


def test_emitting_signals_keeps_reference_counts_steady(qapp):
    emitter = _Emitter()
    emitter.ping.connect(lambda value: None)
    before = sys.getrefcount(True), sys.getrefcount(None)
    for i in range(300):
        emitter.ping.emit(i)
    after = sys.getrefcount(True), sys.getrefcount(None)
    assert abs(after[0] - before[0]) < 50 and abs(after[1] - before[1]) < 50, (before, after)
