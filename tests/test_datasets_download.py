"""The real downloader against a local HTTP server: mirrors, md5, broken transfers, progress, cancel."""
import dataclasses
import gzip
import hashlib
import http.server
import socket
import threading
import time

import numpy as np
import pytest

from core import DatasetError, datasets
from core.datasets import download, sources
from idx_files import idx_bytes

TRAIN, TEST = 30, 10


def fake_files():
    rng = np.random.default_rng(3)
    arrays = {"train-images-idx3-ubyte": rng.integers(0, 256, (TRAIN, 28, 28)),
              "train-labels-idx1-ubyte": np.arange(TRAIN) % 10,
              "t10k-images-idx3-ubyte": rng.integers(0, 256, (TEST, 28, 28)),
              "t10k-labels-idx1-ubyte": np.arange(TEST) % 10}
    return {f"{name}.gz": gzip.compress(idx_bytes(a), compresslevel=0) for name, a in arrays.items()}


class Server:
    """Serves ``files`` (path -> bytes) on 127.0.0.1; ``drop`` paths stop halfway and hang up."""

    def __init__(self, files):
        self.files, self.drop, self.hits = dict(files), set(), []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                name = self.path.lstrip("/")
                server.hits.append(name)
                if name not in server.files:
                    self.send_error(404)
                    return
                body = server.files[name]
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body[:len(body) // 2] if name in server.drop else body)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def closed_port_url():
    """A loopback URL nobody listens on: a mirror that is down."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


@pytest.fixture
def server():
    s = Server(fake_files())
    yield s
    s.close()


@pytest.fixture
def cache(monkeypatch, tmp_path):
    monkeypatch.delenv("NUMPYNET_DATA", raising=False)
    monkeypatch.setenv("NUMPYNET_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(sources, "SYSTEM_DIRS", [])
    return tmp_path / "cache" / "mnist"


def point_mnist_at(monkeypatch, mirrors, files, wrong_md5=()):
    """Make the 'mnist' entry download ``files`` from ``mirrors`` with their true md5s and sizes."""
    real = sources.IDX_SOURCES["mnist"]
    fakes = [dataclasses.replace(f, md5="0" * 32 if f.name in wrong_md5 else
                                 hashlib.md5(files[f"{f.name}.gz"]).hexdigest(),
                                 size=len(files[f"{f.name}.gz"])) for f in real.files]
    monkeypatch.setitem(sources.IDX_SOURCES, "mnist", dataclasses.replace(
        real, mirrors=tuple(mirrors), train_images=fakes[0], train_labels=fakes[1],
        test_images=fakes[2], test_labels=fakes[3]))


def kept(folder):
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_download_then_cached(monkeypatch, server, cache):
    point_mnist_at(monkeypatch, [server.url], server.files)
    ds = datasets.load("mnist")
    assert ds.x_train.shape == (TRAIN, 1, 28, 28) and ds.y_test.shape == (TEST,)
    assert server.url in ds.source and str(cache) in ds.source
    assert kept(cache) == sorted(server.files)
    served = len(server.hits)
    assert served == 4
    again = datasets.load("mnist")
    assert len(server.hits) == served, "the second load downloaded again"
    assert again.source == str(cache)
    np.testing.assert_array_equal(again.x_train, ds.x_train)


def test_md5_mismatch_keeps_nothing_of_that_file(monkeypatch, server, cache):
    point_mnist_at(monkeypatch, [server.url], server.files, wrong_md5={"t10k-images-idx3-ubyte"})
    with pytest.raises(DatasetError) as err:
        datasets.load("mnist")
    assert "md5" in str(err.value) and "t10k-images-idx3-ubyte.gz" in str(err.value)
    assert "t10k-images-idx3-ubyte.gz" not in kept(cache)
    assert not [n for n in kept(cache) if n.endswith(".part")]


def test_connection_dropped_mid_file_keeps_nothing(monkeypatch, server, cache):
    server.drop.add("train-images-idx3-ubyte.gz")
    point_mnist_at(monkeypatch, [server.url], server.files)
    with pytest.raises(DatasetError, match="closed|broke off"):
        datasets.load("mnist")
    assert kept(cache) == []
    server.drop.clear()
    assert len(datasets.load("mnist").x_train) == TRAIN     # nothing stale blocks a retry


def test_first_mirror_down_second_up(monkeypatch, server, cache):
    down = closed_port_url()
    point_mnist_at(monkeypatch, [down, server.url], server.files)
    ds = datasets.load("mnist")
    assert len(ds.x_train) == TRAIN and server.url in ds.source and down not in ds.source


def test_a_mirror_missing_the_file_falls_through_to_the_next(monkeypatch, server, cache):
    point_mnist_at(monkeypatch, [server.url + "nothing-here/", server.url], server.files)
    assert len(datasets.load("mnist").x_test) == TEST
    assert any(h.startswith("nothing-here/") for h in server.hits)


def test_progress_counts_up_to_the_total(monkeypatch, server, cache):
    point_mnist_at(monkeypatch, [server.url], server.files)
    calls = []
    datasets.load("mnist", progress=lambda done, total: calls.append((done, total)))
    done = [d for d, _ in calls]
    total = sum(len(b) for b in server.files.values())
    assert len(calls) > 4 and done == sorted(done), "bytes done must only grow"
    assert calls[-1] == (total, total) and all(t == total for _, t in calls)


def test_progress_raising_aborts_and_keeps_nothing(monkeypatch, server, cache):
    class Cancelled(Exception):
        pass

    def cancel(done, total):
        if done > 1000:
            raise Cancelled()

    point_mnist_at(monkeypatch, [server.url], server.files)
    with pytest.raises(Cancelled):
        datasets.load("mnist", progress=cancel)
    assert kept(cache) == []
    assert server.hits == ["train-images-idx3-ubyte.gz"], "a cancel must not try other mirrors or files"


def test_offline_error_says_where_to_put_the_files(monkeypatch, cache):
    point_mnist_at(monkeypatch, [closed_port_url(), closed_port_url()], fake_files())
    started = time.perf_counter()
    with pytest.raises(DatasetError) as err:
        datasets.load("mnist")
    message = str(err.value)
    assert "unreachable" in message and "Put train-images-idx3-ubyte.gz" in message
    assert str(cache) in message and "NUMPYNET_DATA" in message
    assert time.perf_counter() - started < 10
    assert kept(cache) == []


def test_no_download_when_turned_off(monkeypatch, server, cache):
    point_mnist_at(monkeypatch, [server.url], server.files)
    with pytest.raises(DatasetError, match="downloading was turned off"):
        datasets.load("mnist", download=False)
    assert server.hits == []


def test_fetch_checks_structure_where_no_md5_is_published(tmp_path, server):
    server.files["cat.npy"] = b"this is not a numpy file"
    item = download.Download((server.url + "cat.npy",), tmp_path / "cat.npy", check=_refuse_all)
    with pytest.raises(DatasetError, match="not valid"):
        download.fetch(item)
    assert list(tmp_path.iterdir()) == []


def _refuse_all(path):
    raise DatasetError(f"{path}: refused")


def test_an_unwritable_cache_is_a_dataset_error(monkeypatch, server, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("the cache cannot be a folder under a file")
    monkeypatch.delenv("NUMPYNET_DATA", raising=False)
    monkeypatch.setenv("NUMPYNET_CACHE", str(blocker / "cache"))
    monkeypatch.setattr(sources, "SYSTEM_DIRS", [])
    point_mnist_at(monkeypatch, [server.url], server.files)
    with pytest.raises(DatasetError, match="NUMPYNET_CACHE"):
        datasets.load("mnist")
