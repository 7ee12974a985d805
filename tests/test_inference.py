"""BatchNorm folded into the layer before it for predict and evaluate (core/inference.py).

The folded pass must give what the layers give one by one in inference, with
BatchNorm statistics far from their start (a fold that ignored the mean, the
variance, gamma or beta would still pass on fresh ones), and must leave the
model's own layers and weights as they were.
"""
import numpy as np
import pytest

from core import Sequential, inference, parallel
from core.layers import BatchNorm, Conv2D, Dense, Dropout, Flatten, MaxPool2D, ReLU, Softmax
from core.layers.activations import softmax


class MyConv(Conv2D):
    """A user's layer type: its forward may differ from Conv2D's, so nothing is folded into it."""


def _model(first=Conv2D):
    layers = [first(6, 3, padding="same"), BatchNorm(), ReLU(), MaxPool2D(2),
              Conv2D(8, 3, stride=2, padding=1), BatchNorm(),           # folded, no ReLU after it
              Conv2D(8, 3, padding="same", activation="relu"), BatchNorm(),  # an activation between: not folded
              Conv2D(8, 3, padding="same"), BatchNorm(), ReLU(),        # Winograd (8 channels each side)
              Flatten(), Dense(20), BatchNorm(), ReLU(), Dropout(0.5), Dense(5), Softmax()]
    model = Sequential(layers, input_shape=(2, 12, 12), seed=0)
    rng = np.random.default_rng(1)
    for layer in model.layers:   # statistics and scales as training leaves them, not as they start
        if isinstance(layer, BatchNorm):
            c = layer.params["gamma"].shape
            layer.params["gamma"][:] = rng.uniform(0.5, 2.0, c)
            layer.params["beta"][:] = rng.normal(0, 1, c)
            layer.buffers["mean"][:] = rng.normal(0, 1, c)
            layer.buffers["var"][:] = rng.uniform(0.2, 3.0, c)
        elif "b" in layer.params:
            layer.params["b"][:] = rng.normal(0, 0.5, layer.params["b"].shape)
    return model


def _one_by_one(model, x):
    for layer in model.layers:
        x = layer.forward(x, training=False)
    return x


def test_folded_layers_are_the_foldable_pairs_and_triples():
    model = _model()
    kinds = [(type(layer).__name__, layer.act is not None if hasattr(layer, "act") else None)
             for layer in inference.folded(model.layers, samples=1000)]
    assert kinds == [("Conv2D", True), ("MaxPool2D", None), ("Conv2D", False),
                     ("Conv2D", True), ("BatchNorm", None),
                     ("Conv2D", True), ("Flatten", None), ("Dense", True), ("Dropout", None),
                     ("Dense", False), ("Softmax", None)]


@pytest.mark.parametrize("samples, folds", [(1, 1), (5, 1), (6, 2), (8, 3), (71, 3), (72, 4)])
def test_a_pair_is_folded_where_the_call_normalises_more_values_than_the_layer_has_weights(samples, folds):
    """The convolutions' BatchNorms see 864, 72 and 72 values an image against 108, 432 and 576 weights;
    the Dense's 20 against 1,440."""
    model = _model()
    made = [layer for layer in inference.folded(model.layers, samples) if layer not in model.layers]
    assert len(made) == folds


def test_a_layer_type_of_a_users_is_not_folded():
    model = _model(first=MyConv)
    assert inference.folded(model.layers, samples=1000)[:3] == model.layers[:3]


@pytest.mark.parametrize("threads", [1, 2])
def test_predict_gives_the_outputs_of_the_layers_one_by_one(threads):
    model = _model()
    x = np.random.default_rng(2).standard_normal((80, 2, 12, 12)).astype(np.float32)   # every pair folded
    expected = _one_by_one(model, x)
    with parallel.using(threads):
        got = model.predict(x, batch_size=16)
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-6)
    assert (got.argmax(1) == expected.argmax(1)).all()


def test_evaluate_and_a_temperature_go_through_the_fold_too():
    model = _model()
    model.compile("sgd", "crossentropy")
    x = np.random.default_rng(3).standard_normal((80, 2, 12, 12)).astype(np.float32)
    y = np.arange(80) % 5
    probs = _one_by_one(model, x)
    loss = -np.mean(np.log(probs[np.arange(80), y]))
    assert model.evaluate(x, y, batch_size=7)["loss"] == pytest.approx(loss, rel=1e-4)
    model.meta["temperature"] = 2.0
    body = model.layers[:-1]
    logits = x
    for layer in body:
        logits = layer.forward(logits, training=False)
    np.testing.assert_allclose(model.predict(x), softmax(logits / 2.0), rtol=1e-4, atol=1e-6)


def test_the_models_own_layers_and_weights_stay_as_they_were():
    model = _model()
    before = [{k: v.copy() for k, v in layer.params.items()} for layer in model.layers]
    conv = model.layers[0]
    model.predict(np.zeros((3, 2, 12, 12), np.float32))
    assert conv.act is None
    for layer, params in zip(model.layers, before):
        for k, v in params.items():
            np.testing.assert_array_equal(layer.params[k], v)


def test_training_normalises_by_the_batch_not_by_a_fold():
    """fit's forward is the layers as they are: BatchNorm's running statistics move with the batches."""
    model = _model()
    model.compile("sgd", "crossentropy")
    norm = model.layers[1]
    mean = norm.buffers["mean"].copy()
    x = np.random.default_rng(4).standard_normal((16, 2, 12, 12)).astype(np.float32)
    model.train_on_batch(x, np.arange(16) % 5)
    assert not np.allclose(norm.buffers["mean"], mean)


def test_the_evaluation_views_predictions_fold_too_on_numpynets_threads(monkeypatch):
    """``inspect.evaluate_predictions`` (the Evaluation view's) computes the scores as ``predict`` does: folded,
    on ``count()`` threads with BLAS held to one; its probabilities are the layers' own."""
    from threadpoolctl import threadpool_info
    from core import inspect
    monkeypatch.setenv("NUMPYNET_THREADS", "2")
    model = _model()
    x = np.random.default_rng(5).standard_normal((80, 2, 12, 12)).astype(np.float32)
    expected = _one_by_one(model, x)
    seen, pool = set(), model.layers[3]   # a MaxPool2D: not folded, the same object in the folded pass
    forward = pool.forward
    monkeypatch.setattr(pool, "forward", lambda *a, **k: seen.add(
        (parallel.threads(), tuple(i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas")))
        or forward(*a, **k))
    result = inspect.evaluate_predictions(model, x, np.arange(80) % 5, batch_size=32)
    np.testing.assert_allclose(result.probs, expected, rtol=1e-4, atol=1e-6)
    assert seen == {(2, (1,))}
    folded = []
    monkeypatch.setattr(inference, "folded", lambda layers, samples: folded.append(samples) or list(layers))
    inspect.evaluate_predictions(model, x, np.arange(80) % 5, batch_size=32)
    assert folded == [80]   # once for the call, for its 80 images
