"""The Data panel: showing a dataset, and downloading one (with progress and Cancel) from a local server."""
import dataclasses
import gzip
import hashlib
import http.server
import struct
import threading
import time

import numpy as np
import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QMessageBox

from core.datasets import Dataset, sources
from gui.panels.data import DataPanel
from gui.settings import Settings
from gui.state import AppState

TRAIN, TEST = 120, 30


def idx_gz(array):
    """An IDX file (gzip) of a uint8 array, as the MNIST mirrors serve them."""
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    return gzip.compress(header + array.astype(np.uint8).tobytes(), mtime=0)


def fake_mnist_files():
    rng = np.random.default_rng(0)
    arrays = {"train-images-idx3-ubyte": rng.integers(0, 256, (TRAIN, 28, 28)),   # noise: gzip cannot shrink it
              "train-labels-idx1-ubyte": np.arange(TRAIN) % 10,
              "t10k-images-idx3-ubyte": rng.integers(0, 256, (TEST, 28, 28)),
              "t10k-labels-idx1-ubyte": np.arange(TEST) % 10}
    return {f"{name}.gz": idx_gz(a) for name, a in arrays.items()}


class Server:
    """Serves ``files`` on 127.0.0.1, ``delay`` seconds between 8 KB chunks (to have time to cancel)."""

    def __init__(self, files, delay=0.0):
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                body = outer.files.get(self.path.lstrip("/"))
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    for i in range(0, len(body), 8192):
                        self.wfile.write(body[i:i + 8192])
                        time.sleep(outer.delay)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args):
                pass

        self.files, self.delay = files, delay
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def local_mnist(monkeypatch, tmp_path):
    """core.datasets pointed at a local server for 'mnist', with an empty cache and no local data."""
    files = fake_mnist_files()
    server = Server(files)
    real = sources.IDX_SOURCES["mnist"]
    fakes = [dataclasses.replace(f, md5=hashlib.md5(files[f"{f.name}.gz"]).hexdigest(),
                                 size=len(files[f"{f.name}.gz"])) for f in real.files]
    monkeypatch.setitem(sources.IDX_SOURCES, "mnist", dataclasses.replace(
        real, mirrors=(server.url,), train_images=fakes[0], train_labels=fakes[1],
        test_images=fakes[2], test_labels=fakes[3]))
    monkeypatch.delenv("NUMPYNET_DATA", raising=False)
    monkeypatch.setenv("NUMPYNET_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(sources, "SYSTEM_DIRS", [])
    yield server
    server.close()


@pytest.fixture
def panel(qtbot, tmp_path):
    state = AppState()
    panel = DataPanel(state, Settings(QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat)))
    qtbot.addWidget(panel)
    panel.resize(1200, 700)
    yield panel
    panel.job.stop_and_wait(2000)


def test_download_shows_progress_and_sets_the_dataset(qtbot, panel, local_mnist, tmp_path):
    seen = []
    panel.progress.valueChanged.connect(seen.append)
    panel.source.setCurrentIndex(panel.source.findData("mnist"))
    with qtbot.waitSignal(panel.state.datasetChanged, timeout=10_000) as blocker:
        qtbot.mouseClick(panel.load_button, Qt.LeftButton)
    ds = blocker.args[0]
    assert ds.x_train.shape == (TRAIN, 1, 28, 28) and ds.x_test.shape == (TEST, 1, 28, 28)
    assert local_mnist.url in ds.source and local_mnist.url in panel.where.text()
    assert any(0 < v < 1000 for v in seen), "no intermediate progress was shown"
    assert panel.progress.format() == "Loaded" and panel.load_button.isEnabled()
    assert sorted(p.name for p in (tmp_path / "cache" / "mnist").iterdir()) == sorted(fake_mnist_files())
    assert list(panel.counts.counts) == [12] * 10


def test_cancel_stops_the_download_and_leaves_nothing_behind(qtbot, panel, local_mnist, tmp_path):
    local_mnist.delay = 0.05   # ~100 chunks: seconds to go, time enough to cancel
    panel.source.setCurrentIndex(panel.source.findData("mnist"))
    changed = []
    panel.state.datasetChanged.connect(changed.append)
    qtbot.mouseClick(panel.load_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: panel.progress.maximum() == 1000 and panel.progress.value() > 0, timeout=5000)
    started = time.perf_counter()
    qtbot.mouseClick(panel.cancel_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: not panel.loading, timeout=3000)
    assert time.perf_counter() - started < 1.0
    assert panel.progress.format() == "Cancelled" and not changed
    leftovers = list((tmp_path / "cache" / "mnist").iterdir())
    assert leftovers == [], f"a cancelled download left {leftovers}"
    assert not [w for w in panel.findChildren(QMessageBox) if w.isVisible()], "Cancel is not an error"


def test_a_failed_download_is_a_message(qtbot, panel, local_mnist):
    local_mnist.files.clear()   # every request is a 404
    panel.source.setCurrentIndex(panel.source.findData("mnist"))
    qtbot.mouseClick(panel.load_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: not panel.loading, timeout=5000)
    box, = [w for w in panel.findChildren(QMessageBox) if w.isVisible()]
    assert "HTTP 404" in box.text() and panel.state.dataset is None


def test_quiet_startup_load_does_not_download(qtbot, panel, local_mnist):
    panel.source.setCurrentIndex(panel.source.findData("mnist"))
    panel.load(download=False)
    qtbot.waitUntil(lambda: not panel.loading, timeout=5000)
    assert "not on this computer" in panel.summary.text()
    assert not [w for w in panel.findChildren(QMessageBox) if w.isVisible()]


def test_a_quiet_failure_names_the_source_that_failed_not_the_one_chosen_since(qtbot, panel, monkeypatch):
    from gui.panels import data as data_mod
    release = threading.Event()

    def failing(progress):
        release.wait(5)
        raise OSError("the disk is gone (test)")
    monkeypatch.setattr(data_mod, "_loader", lambda *_args, **_kw: failing)
    monkeypatch.setattr(data_mod, "_on_this_computer", lambda _choice: True)
    panel.source.setCurrentIndex(panel.source.findData("mnist"))
    panel.load(download=False)
    panel.source.setCurrentIndex(panel.source.findData("synthetic"))   # the user looks elsewhere meanwhile
    release.set()
    qtbot.waitUntil(lambda: not panel.loading, timeout=5000)
    assert "Could not load MNIST" in panel.summary.text() and "disk is gone" in panel.summary.text()


def test_shows_samples_counts_and_the_validation_fraction(qtbot, panel):
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(3), [50, 30, 20])
    ds = Dataset("tiny", rng.random((100, 1, 12, 12), dtype=np.float32), y,
                 np.zeros((5, 1, 12, 12), np.float32), np.zeros(5, np.int64), ["cat", "dog", "apple"], "/data/x")
    panel.show_dataset(ds)
    assert len(panel.samples._images) == 40 and set(panel.samples._labels) <= {"cat", "dog", "apple"}
    assert list(panel.counts.counts) == [50, 30, 20]
    assert "Found at: /data/x" == panel.where.text() and "100 training" in panel.summary.text()
    fractions = []
    panel.validationFractionChanged.connect(fractions.append)
    panel.validation.setValue(25)
    assert fractions == [0.25]


def test_synthetic_digits_load_offline(qtbot, panel):
    panel.source.setCurrentIndex(panel.source.findData("synthetic"))
    panel.count.setValue(300)
    with qtbot.waitSignal(panel.state.datasetChanged, timeout=30_000) as blocker:
        qtbot.mouseClick(panel.load_button, Qt.LeftButton)
    assert blocker.args[0].x_train.shape == (300, 1, 28, 28)
    assert panel.settings.get("data/choice")["source"] == "synthetic"


def test_the_empty_class_chart_shows_a_hint_not_empty_axes(qtbot, panel):
    plot = panel.counts.getPlotItem()
    assert not plot.getAxis("left").isVisible() and not plot.getAxis("bottom").isVisible()
    assert panel.counts.hint.isVisible() and "Load a dataset" in panel.counts.hint.toPlainText()
    panel.counts.set_counts(["cat", "dog"], [3, 5])
    assert plot.getAxis("left").isVisible() and plot.getAxis("bottom").isVisible()
    assert not panel.counts.hint.isVisible()
