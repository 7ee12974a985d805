"""numpynet computes with one BLAS thread unless NUMPYNET_BLAS_THREADS says otherwise, and puts the
caller's setting back afterwards (core/blas_threads.py says why)."""
import numpy as np
import pytest
from threadpoolctl import threadpool_info, threadpool_limits

from core import zoo
from core.callbacks import Callback


def _blas_threads():
    return {lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"}


class SeesThreads(Callback):
    def __init__(self):
        super().__init__()
        self.seen = set()

    def on_train_batch_end(self, batch, logs=None):
        self.seen |= _blas_threads()


def _model():
    model = zoo.build("mlp", seed=0)
    model.compile("sgd", "crossentropy")
    return model


def _data(n=64):
    rng = np.random.default_rng(0)
    return rng.random((n, 1, 28, 28), dtype=np.float32), rng.integers(0, 10, n)


@pytest.mark.parametrize("env, expected", [(None, 1), ("2", 2), ("3", 3)])
def test_fit_trains_with_the_chosen_number_of_blas_threads_and_restores_the_callers(monkeypatch, env, expected):
    if env is None:
        monkeypatch.delenv("NUMPYNET_BLAS_THREADS", raising=False)
    else:
        monkeypatch.setenv("NUMPYNET_BLAS_THREADS", env)
    seen = SeesThreads()
    x, y = _data()
    with threadpool_limits(limits=4, user_api="blas"):   # the caller's own setting
        _model().fit(x, y, batch_size=16, callbacks=[seen])
        after = _blas_threads()
    assert seen.seen == {expected}
    assert after == {4}


@pytest.mark.parametrize("call", ["predict", "evaluate", "train_on_batch", "test_on_batch", "predict_on_batch"])
def test_every_compute_entry_point_limits_blas(monkeypatch, call):
    monkeypatch.delenv("NUMPYNET_BLAS_THREADS", raising=False)
    model = _model()
    seen = set()
    original = model.forward
    monkeypatch.setattr(model, "forward", lambda *a, **k: (seen.update(_blas_threads()), original(*a, **k))[1])
    monkeypatch.setattr(model, "_forward_logits", lambda x, training: model.forward(x, training))
    x, y = _data(8)
    with threadpool_limits(limits=3, user_api="blas"):
        getattr(model, call)(*((x,) if "predict" in call else (x, y)))
    assert seen == {1}


@pytest.mark.parametrize("bad", ["0", "-1", "two", "1.5", ""])
def test_a_bad_thread_count_is_refused_naming_the_variable(monkeypatch, bad):
    monkeypatch.setenv("NUMPYNET_BLAS_THREADS", bad)
    x, y = _data(8)
    with pytest.raises(ValueError, match="NUMPYNET_BLAS_THREADS"):
        _model().fit(x, y)


def test_a_point_map_computes_with_numpynets_blas_threads(monkeypatch):
    from core.embedding import layer_points, pca
    monkeypatch.setenv("NUMPYNET_BLAS_THREADS", "3")
    model, seen = _model(), []
    first = model.layers[0]
    monkeypatch.setattr(first, "forward", lambda x, training=False: seen.append(_blas_threads()) or
                        type(first).forward(first, x, training))
    with threadpool_limits(limits=2, user_api="blas"):
        layer_points(model, _data()[0], 1)
        monkeypatch.setattr(np.linalg, "qr", lambda *a, _qr=np.linalg.qr: seen.append(_blas_threads()) or _qr(*a))
        pca(np.random.default_rng(0).random((50, 8)))
        assert _blas_threads() == {2}           # the caller's limit is back
    assert seen and all(threads == {3} for threads in seen)
