"""Drive the real window into a state, close it, and let the process end the way the app's does.

Run by ``test_exit.py`` in a subprocess (the process's own life is the point)::

    python tests/gui/close_driver.py STATE[+STATE...] SETTINGS.ini

States, entered in order through the window's own buttons: ``idle``, ``data``
(MNIST from $NUMPYNET_DATA, loaded and waited for), ``training``, ``paused``,
``slow-batch`` (training whose batch outlasts the close), ``evaluating``,
``loading`` (a load under way) and ``downloading`` (a download from a local
server that sends a little and then stalls). Prints ``closing <monotonic
seconds>`` just before ``window.close()``, then runs ``gui.app.run_window``, and
``every thread ended`` if that returns (rather than ending a process whose
threads outlasted the close).
"""
import dataclasses
import http.server
import os
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from PySide6.QtCore import QSettings, QTimer

from core import inspect
from core.datasets import sources
from gui.app import create_app, run_window
from gui.main_window import MainWindow
from gui.panels import training

WAIT_S = 60


def wait_until(app, condition, what):
    end = time.monotonic() + WAIT_S
    while not condition():
        if time.monotonic() > end:
            raise SystemExit(f"driver: timed out waiting for {what}")
        app.processEvents()
        time.sleep(0.005)


class StallingServer:
    """Answers every request with a long body, sends its first 64 KB, then stalls."""

    def __init__(self):
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200)
                self.send_header("Content-Length", str(10_000_000))
                self.end_headers()
                self.wfile.write(b"\0" * 65536)
                self.wfile.flush()
                time.sleep(3600)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


def load_data(app, window):
    data = window.data_panel
    data.source.setCurrentIndex(data.source.findData("mnist"))
    data.load_button.click()
    wait_until(app, lambda: window.state.dataset is not None and not data.loading, "MNIST to load")


def start_training(app, window):
    tp = window.training_panel
    tp.epochs.setValue(50)
    tp.batch_size.setValue(64)
    tp.buttons["start"].click()
    wait_until(app, lambda: tp.running and tp.job.worker.step > tp.job.worker.job.first_step, "a trained batch")


def pause(app, window):
    tp = window.training_panel
    tp.buttons["pause"].click()
    wait_until(app, lambda: tp.progress_label.text() == "Paused", "the run to pause")


def slow_batch(app, window):
    """Training whose batch takes 30 s (a sleep standing in for one long NumPy call): no stop
    request can end it before the window is closed."""
    def long_call(x, rng):
        time.sleep(30)
        return x

    training.make_augment = lambda switches: long_call
    tp = window.training_panel
    tp.buttons["start"].click()
    wait_until(app, lambda: tp.progress_label.text() == "Training…", "the first batch to start")


def evaluate(app, window):
    """An evaluation that takes seconds (small chunks, a pause after each), stopped between chunks."""
    real = inspect.evaluate_predictions

    def slow_evaluation(model, x, y, progress):
        def slowly(done, total):
            time.sleep(0.02)
            progress(done, total)
        return real(model, x, y, batch_size=16, progress=slowly)

    inspect.evaluate_predictions = slow_evaluation
    ev = window.panels["Evaluation"]
    window.show_panel("Evaluation")
    if ev.busy:   # raising the panel may start one by itself
        ev.cancel()
        wait_until(app, lambda: not ev.busy, "the automatic evaluation to end")
    ev.run_button.click()
    wait_until(app, lambda: ev.busy and ev.progress.value() > 0, "evaluation progress")


def loading(app, window):
    window.data_panel.load_button.click()
    wait_until(app, lambda: window.data_panel.loading, "the load to start")


def downloading(app, window):
    server = StallingServer()
    os.environ.pop("NUMPYNET_DATA", None)
    os.environ["NUMPYNET_CACHE"] = os.path.join(os.path.dirname(sys.argv[2]), "cache")
    sources.SYSTEM_DIRS[:] = []
    sources.IDX_SOURCES["kmnist"] = dataclasses.replace(sources.IDX_SOURCES["kmnist"], mirrors=(server.url,))
    data = window.data_panel
    data.source.setCurrentIndex(data.source.findData("kmnist"))
    data.load_button.click()
    wait_until(app, lambda: data.progress.maximum() == 1000, "the download to start")


def active(window):
    """What runs in the background at the close: the states a test asked for, if they were reached."""
    tp, ev, data = window.training_panel, window.panels["Evaluation"], window.data_panel
    return {name for name, on in (("training", tp.running), ("paused", tp.running and tp.job.worker.paused),
                                  ("evaluating", ev.busy), ("loading", data.loading)) if on}


STATES = {"idle": lambda app, window: None, "data": load_data, "training": start_training, "paused": pause,
          "slow-batch": slow_batch, "evaluating": evaluate, "loading": loading, "downloading": downloading}


def main(states, settings_path):
    app = create_app([sys.argv[0]])
    window = MainWindow(settings=QSettings(settings_path, QSettings.IniFormat), autoload_data=False)
    window.show()
    for name in states:
        STATES[name](app, window)

    def close():
        print(f"closing {time.monotonic():.6f} {' '.join(sorted(active(window)))}", flush=True)
        window.close()

    QTimer.singleShot(0, close)
    code = run_window(app, window)
    print("every thread ended", flush=True)   # not reached when the app left one behind
    return code


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1].split("+"), sys.argv[2]))
