"""Does the window stay responsive while it trains, and what does the GUI cost the training?

    NUMPYNET_DATA=/path/to/data python benchmarks/gui_responsiveness.py [--batches 150] [--repeats 8]

Offscreen, with the whole window (every panel) open on the Training view and
throw-away settings. LeNet-5 (or ``--model``) trains on real MNIST in the app;
between app runs the same model (same seed, data, batches) trains headless
with ``fit`` on the main thread of the same process: the window is idle then
(its event loop is not running), so nothing of the GUI competes. Throughput
is measured the same way in both: samples from the start of training to the
last batch. Each app run sits between two headless runs and is compared with
their mean; the table gives the median of those ratios. This VM's speed
drifts by +-20 % over seconds, so short runs side by side compare better
than long runs minutes apart.

App runs come in pairs, H A H P H A H P ... H. In a P run a 10 ms QTimer
on the GUI thread measures how late each tick fires: the lateness. An A run
has no probe and gives the app's share of headless speed, since the probe
is the benchmark's, not the window's: its hundred wake-ups a second took
about 1.2% of a core from the training (GUI thread 7.3% of the training time
with it, 6.0% without, three runs each). The P runs' share is printed too.
Targets: p99 lateness <= 50 ms, app throughput >= 95 % of headless.
"""
import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from PySide6.QtCore import QEventLoop, QObject, QSettings, Qt, QTimer  # noqa: E402
from PySide6.QtWidgets import QLabel  # noqa: E402

import machine  # noqa: E402
from core import datasets, zoo  # noqa: E402
from core.callbacks import Callback  # noqa: E402
from core.datasets import Dataset  # noqa: E402
from core.optimizers import SGD  # noqa: E402
from gui import main_window, unsaved  # noqa: E402
from gui.app import create_app  # noqa: E402
from gui.main_window import MainWindow  # noqa: E402

PROBE_MS = 10
LR, MOMENTUM = 0.01, 0.9


class Probe(QObject):
    """A 10 ms timer on the GUI thread; lateness = interval between ticks minus 10 ms."""

    def __init__(self):
        super().__init__()
        self.timer = QTimer(self)
        self.timer.setTimerType(Qt.PreciseTimer)
        self.timer.timeout.connect(self.tick)
        self.late, self.last = [], None

    def start(self):
        self.last = time.perf_counter()
        self.timer.start(PROBE_MS)

    def tick(self):
        now = time.perf_counter()
        self.late.append(max(now - self.last - PROBE_MS / 1000, 0.0))
        self.last = now

    def stop(self):
        self.timer.stop()
        return np.array(self.late) * 1000

    def mark(self, *progress):
        """The GUI thread's CPU clock at the latest progress signal (the last one comes with the last batch)."""
        self.cpu_at, self.wall_at = time.thread_time(), time.perf_counter()


class Rate(Callback):
    """Samples per second from the start of training to the last batch (no test/validation)."""

    def on_train_begin(self, logs=None):
        self.start, self.seen = time.perf_counter(), 0

    def on_batch_end(self, batch, logs=None):
        self.seen += logs["size"]
        self.end = time.perf_counter()

    @property
    def value(self):
        return self.seen / (self.end - self.start)


def data(n_train):
    full = datasets.load("mnist")
    return Dataset("mnist", full.x_train[:n_train], full.y_train[:n_train], full.x_test[:0], full.y_test[:0],
                   full.class_names, full.source)


def headless(model_name, ds, batch_size):
    model = zoo.build(model_name, seed=0)
    model.compile(SGD(lr=LR, momentum=MOMENTUM), "crossentropy")
    rate = Rate()
    model.fit(ds.x_train, ds.y_train, epochs=1, batch_size=batch_size, callbacks=[rate], seed=0)
    return rate.value


def open_window(ds, batch_size, settings_dir):
    window = MainWindow(settings=QSettings(str(Path(settings_dir) / "s.ini"), QSettings.IniFormat),
                        autoload_data=False)
    window.resize(1400, 900)
    window.show()
    window.data_panel.show_dataset(ds)
    window.state.set_dataset(ds)
    window.data_panel.validation.setValue(0)
    window.training_panel.set_config({"optimizer": "SGD", "hyper": {"lr": LR, "momentum": MOMENTUM}, "epochs": 1,
                                      "batch_size": batch_size, "schedule": "None"})
    window.show_panel("Training")
    return window


def idle_lateness(app, seconds):
    probe = Probe()
    probe.start()
    _settle(app, seconds)
    return probe.stop()


def in_app(app, window, model_name, probed):
    """(lateness while training, samples/s, GUI thread's CPU share) of one run of a fresh model; the lateness
    is empty unless ``probed``."""
    window.state.set_model(zoo.build(model_name, seed=0), None)
    _settle(app, 1.0)   # let panels finish reacting to the new model
    tp = window.training_panel
    probe = Probe()
    loop = QEventLoop()   # as app.exec() does: wait inside Qt, not in a Python polling loop
    window.state.trainingFinished.connect(loop.quit)
    cpu, wall = time.thread_time(), time.perf_counter()
    tp.start()
    tp.job.worker.progress.connect(probe.mark)   # a GUI-thread slot: the CPU clock read is the GUI thread's
    if probed:
        probe.start()
    if tp.running:
        loop.exec()
    late = probe.stop()
    busy = (probe.cpu_at - cpu) / (probe.wall_at - wall)   # start to last batch, as the throughput is
    window.state.trainingFinished.disconnect(loop.quit)
    return late, tp.samples_per_second, busy


class _Placeholder(QLabel):
    """Stands in for a view panel: whatever the window reaches for on it (a signal to connect, a control to
    restore, a slot) is a ``_NoOp``, so the window need not change when a panel gains a signal."""

    def __getattr__(self, name):
        return _NoOp()


class _NoOp:
    """Any attribute of it is another, and calling it does nothing."""

    def __getattr__(self, name):
        return self

    def __call__(self, *args, **kwargs):
        return self


def _settle(app, seconds):
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        app.processEvents()
        time.sleep(0.005)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=150)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--model", default="lenet5", choices=zoo.names())
    parser.add_argument("--repeats", type=int, default=8,
                        help="pairs of app runs (without and with the probe), each run between two headless runs")
    parser.add_argument("--shell-only", action="store_true",
                        help="replace the Architecture, Inside, Evaluation and Draw panels by placeholders")
    args = parser.parse_args(argv)
    ds = data(args.batches * args.batch_size)
    app = create_app([])
    # The model trained here is throw-away: closing the window asks nothing (a modal question, offscreen,
    # would wait for an answer forever).
    unsaved.ask = lambda parent, doing, can_save=True: unsaved.DISCARD
    if args.shell_only:   # what the window costs without the views that draw the network
        main_window._build_panels = lambda state: {t: _Placeholder(t) for t in main_window.PANEL_ORDER
                                                   if t not in ("Data", "Training")}
    print(machine.describe())
    print(f"{args.model}, {args.batches} batches of {args.batch_size} real MNIST images, "
          f"SGD lr {LR} momentum {MOMENTUM}; "
          f"{'only Data and Training panels; ' if args.shell_only else 'every panel; '}"
          f"{args.repeats} pairs of app runs (without, then with the probe) between headless runs; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory() as settings_dir:
        os.environ["NUMPYNET_RUNS"] = str(Path(settings_dir) / "runs")   # its runs are not the user's
        window = open_window(ds, args.batch_size, settings_dir)
        idle = idle_lateness(app, 3.0)
        alone, runs = [headless(args.model, ds, args.batch_size)], {False: [], True: []}
        for _ in range(args.repeats):
            for probed in (False, True):
                runs[probed].append(in_app(app, window, args.model, probed))
                alone.append(headless(args.model, ds, args.batch_size))
        window.close()
    neighbours = (np.array(alone[:-1]) + np.array(alone[1:])) / 2
    ratios = {probed: np.array([rate for _, rate, _ in runs[probed]]) / neighbours[int(probed)::2]
              for probed in (False, True)}
    gui_cpu = {probed: np.median([busy for _, _, busy in runs[probed]]) for probed in (False, True)}
    late = np.concatenate([training for training, _, _ in runs[True]])
    rows = [("", "idle window / while training"),
            ("GUI lateness p50", f"{np.percentile(idle, 50):.1f} / {np.percentile(late, 50):.1f} ms"),
            ("GUI lateness p99", f"{np.percentile(idle, 99):.1f} / {np.percentile(late, 99):.1f} ms   (target <= 50)"),
            ("GUI lateness max", f"{idle.max():.1f} / {late.max():.1f} ms"),
            ("probe ticks", f"{len(idle)} / {len(late)}"),
            ("GUI thread CPU", f"{gui_cpu[False]:.1%} of the training time (median; {gui_cpu[True]:.1%} with the "
                               f"probe; the trainer waits while the GUI thread holds the interpreter)"),
            ("headless fit", "samples/s " + ", ".join(f"{r:.0f}" for r in alone)),
            ("in the app", "samples/s    " + ", ".join(f"{rate:.0f}" for _, rate, _ in runs[False])),
            ("app / neighbours", ", ".join(f"{r:.0%}" for r in ratios[False])),
            ("with the probe", ", ".join(f"{r:.0%}" for r in ratios[True])
                               + f"   (median {np.median(ratios[True]):.0%})"),
            ("app / headless", f"{np.median(ratios[False]):.0%} (median, runs without the probe)   "
                               f"(target >= 95%)")]
    width = max(len(k) for k, _ in rows)
    print("\n".join(f"{k:<{width}}  {v}" for k, v in rows))
    print(f"load average at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
