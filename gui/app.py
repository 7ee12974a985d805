"""Application start-up: the QApplication, its names (for QSettings), icon, style, window."""
import os
import sys

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QApplication, QMessageBox

from core import parallel

from . import collector
from .main_window import ASSETS, MainWindow, app_icon
from .settings import APPLICATION, ORGANIZATION

PYSIDE_BUG = ("This PySide6 loses a reference to True on every Qt signal, and on Python {py} that aborts "
              "the program after a few hundred signals (PySide6 6.12.0 does this). Install another version: "
              "pip install 'PySide6-Essentials>=6.5,!=6.12.0' (or use Python 3.12 or newer).")


class _Ping(QObject):
    ping = Signal()


def signals_leak_true():
    """True if emitting a signal drops a reference to True (PySide6 6.12.0 on Python < 3.12).

    Measured rather than judged by version number: on Python 3.12+ True is
    immortal and its count never moves, and a fixed PySide passes.
    """
    probe = _Ping()
    before = sys.getrefcount(True)
    for _ in range(8):
        probe.ping.emit()
    return sys.getrefcount(True) < before


def create_app(argv=None):
    """The QApplication (created once), named so QSettings finds this app's settings."""
    if signals_leak_true():
        raise SystemExit(PYSIDE_BUG.format(py=".".join(map(str, sys.version_info[:2]))))
    app = QApplication.instance() or QApplication(list(argv if argv is not None else sys.argv))
    collector.install(app)   # before any worker runs: Qt objects must never be collected on a worker thread
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    app.setApplicationDisplayName("numpynet studio")
    app.setWindowIcon(app_icon())
    app.setStyle("Fusion")   # the same look on every platform, which the style sheet builds on
    style = ASSETS / "style.qss"
    if style.is_file():
        app.setStyleSheet(style.read_text(encoding="utf-8"))
    return app


def main(argv=None):
    app = create_app(argv)
    window = MainWindow()
    problem = threads_problem()
    if problem:   # once the window is up, so the message has a parent
        QTimer.singleShot(0, lambda: QMessageBox.warning(window, "numpynet studio", problem))
    return run_window(app, window)


def threads_problem():
    """What is wrong with ``$NUMPYNET_THREADS``, having dropped it for this process; None if nothing.

    The headless core refuses a bad count where it is used, but the window
    predicts from a dozen views: each would fail on its own, and most with no
    place to say why. So the window says it once, at start, and uses the cores.
    """
    try:
        parallel.count()
        return None
    except ValueError as e:
        os.environ.pop(parallel.ENV)
        return f"{e}. numpynet computes on all {parallel.count()} cores instead."


def run_window(app, window):
    """Show ``window`` and run the event loop until it closes; the process's exit code.

    Closing waits only so long for background work (``MainWindow.closeEvent``).
    A thread still inside one long NumPy call or a stalled download then is
    left behind: the process ends here at once, because Python finalising
    beside a running QThread would abort or hang. Nothing is lost by that:
    settings were written at close, a worker writes no files but a download's
    temporary one, and the model lives in memory only.
    """
    window.show()
    code = app.exec()
    if not window.stop_background(0):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
