"""core.inspect on tiny hand-built models whose answers are known in closed form."""
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from core import Sequential, ShapeError, inspect, zoo
from core.layers import AvgPool2D, BatchNorm, Conv2D, Dense, Flatten, MaxPool2D, ReLU, Softmax, Tanh
from core.optimizers import SGD
from core.surgery import set_temperature


def identity_conv_model(channels=2):
    """A 3x3 'same' convolution whose kernel copies each channel through unchanged."""
    model = Sequential([Conv2D(channels, 3, padding="same")], input_shape=(channels, 6, 5))
    W = np.zeros((channels, channels, 3, 3), np.float32)
    W[np.arange(channels), np.arange(channels), 1, 1] = 1
    model.set_weights({"0.W": W, "0.b": np.zeros(channels, np.float32)})
    return model


def linear_model(final=None, rng=None):
    """Flatten + Dense(3) on 1x4x4 images, optionally ending in a softmax."""
    layers = [Flatten(), Dense(3, activation="softmax" if final == "fused" else None)]
    if final == "layer":
        layers.append(Softmax())
    model = Sequential(layers, input_shape=(1, 4, 4), seed=0)
    model.layers[1].params["b"][:] = (rng or np.random.default_rng(1)).normal(size=3)
    return model


def test_identity_kernel_activation_equals_input(rng):
    model = identity_conv_model()
    x = rng.random((1, 2, 6, 5)).astype(np.float32)
    [(layer, act)] = inspect.activations(model, x)
    assert layer is model.layers[0]
    assert_allclose(act, x[0], atol=1e-6)


def test_activations_cover_every_layer_in_order_and_accept_a_grey_image(rng):
    model = zoo.build("lenet5", seed=0)
    acts = inspect.activations(model, rng.random((28, 28)))
    assert [layer for layer, _ in acts] == model.layers
    assert [a.shape for _, a in acts] == [layer.output_shape for layer in model.layers]
    assert_allclose(acts[-1][1].sum(), 1.0, rtol=1e-5)  # the softmax output


def test_one_input_refuses_a_batch_and_a_wrong_shape():
    model = identity_conv_model()
    with pytest.raises(ShapeError, match=r"\(1, 2, 6, 5\)"):
        inspect.activations(model, np.zeros((2, 2, 6, 5)))
    with pytest.raises(ShapeError, match="got"):
        inspect.saliency(model, np.zeros((1, 6, 5)), 0)


@pytest.mark.parametrize("final", [None, "layer", "fused"])
def test_saliency_of_a_linear_model_is_its_weight_column(final):
    model = linear_model(final)
    W = model.layers[1].params["W"]
    x = np.random.default_rng(2).random((1, 1, 4, 4))
    grads = inspect.input_gradients(model, x)
    assert grads.shape == (3, 1, 4, 4)
    for c in range(3):
        assert_allclose(grads[c], W[:, c].reshape(1, 4, 4), rtol=1e-6)
        assert_allclose(inspect.saliency(model, x, c), np.abs(W[:, c]).reshape(4, 4), rtol=1e-6)
    assert model.layers[0].need_input_grad is False  # restored


def test_saliency_rejects_a_class_out_of_range():
    with pytest.raises(ValueError, match=r"\[0, 2\]"):
        inspect.saliency(linear_model(), np.zeros((1, 4, 4)), 3)


def test_input_gradients_match_central_differences_through_batchnorm_and_pooling():
    rng = np.random.default_rng(3)
    model = Sequential([Conv2D(3, 3, activation="tanh"), BatchNorm(), AvgPool2D(2), Flatten(),
                        Dense(4), Tanh(), Dense(3), Softmax()], input_shape=(2, 6, 6), seed=4)
    bn = model.layers[1]
    bn.buffers["mean"][:] = rng.normal(size=3)
    bn.buffers["var"][:] = rng.random(3) + 0.5
    bn.params["gamma"][:] = rng.normal(size=3)
    x = rng.random((1, 2, 6, 6))
    grads = inspect.input_gradients(model, x)
    eps = 1e-5
    numeric = np.zeros((3, *x.shape[1:]))
    for idx in np.ndindex(*x.shape[1:]):
        d = np.zeros_like(x)
        d[(0, *idx)] = eps
        diff = inspect.class_scores(model, x + d) - inspect.class_scores(model, x - d)
        numeric[(slice(None), *idx)] = diff[0] / (2 * eps)
    assert_allclose(grads, numeric, rtol=2e-3, atol=1e-5)


def test_filter_grid_shapes_and_symmetric_limit():
    W = np.arange(2 * 3 * 2 * 2, dtype=np.float32).reshape(2, 3, 2, 2) - 10
    every = inspect.filter_grid(W)
    assert every.tiles.shape == (2, 3, 2, 2) and every.limit == 13.0
    one = inspect.filter_grid(W, input_channel=1)
    assert one.tiles.shape == (2, 1, 2, 2)
    assert_array_equal(one.tiles[:, 0], W[:, 1])
    assert one.limit == 13.0  # the whole layer's limit, whichever channel is shown
    assert_array_equal(one.limits, [10, 13])  # each filter's own, over all its input channels
    with pytest.raises(ValueError, match=r"\[0, 2\]"):
        inspect.filter_grid(W, input_channel=3)
    with pytest.raises(ShapeError):
        inspect.filter_grid(W[0])


def test_dense_unit_images_follow_flatten_order():
    model = Sequential([Flatten(), Dense(5)], input_shape=(2, 3, 4), seed=0)
    W = model.layers[1].params["W"]
    tiles = inspect.dense_unit_images(W, (2, 3, 4), units=slice(1, 3))
    assert tiles.tiles.shape == (2, 2, 3, 4)
    assert tiles.tiles[1, 1, 2, 3] == W[1 * 12 + 2 * 4 + 3, 2]
    assert tiles.limit == pytest.approx(np.abs(W).max())
    assert_allclose(tiles.limits, np.abs(W[:, 1:3]).max(axis=0))
    with pytest.raises(ShapeError, match="2x3x3"):
        inspect.dense_unit_images(W, (2, 3, 3))


def test_dense_on_input_finds_only_a_dense_that_sees_pixels():
    mlp = zoo.build("mlp")
    assert inspect.dense_on_input(mlp) is mlp.layers[1]
    assert inspect.dense_on_input(zoo.build("lenet5")) is None


def test_feature_map_grid_of_maps_and_of_a_vector():
    maps = inspect.feature_map_grid(np.array([[[0, 2]], [[1, 3]]], np.float32))
    assert maps.maps.shape == (2, 1, 2) and not maps.signed and maps.limit == 3
    vec = inspect.feature_map_grid(np.linspace(-1, 2, 50, dtype=np.float32))
    assert vec.signed and vec.units == 50 and vec.limit == 2
    assert vec.maps.shape == (1, 7, 8)
    assert vec.maps[0, 6, 1] == 2 and vec.maps[0, 6, 2] == 0  # unit 49, then padding
    assert inspect.feature_map_grid(np.ones(10, np.float32)).maps.shape == (1, 1, 10)


def test_confusion_matrix_and_per_class_accuracy_on_fixed_predictions():
    y_true = [0, 0, 1, 1, 1, 2, 0]
    y_pred = [0, 1, 1, 1, 0, 2, 0]
    cm = inspect.confusion_matrix(y_true, y_pred, 4)
    assert_array_equal(cm, [[2, 1, 0, 0], [1, 2, 0, 0], [0, 0, 1, 0], [0, 0, 0, 0]])
    acc = inspect.per_class_accuracy(cm)
    assert_allclose(acc[:3], [2 / 3, 2 / 3, 1])
    assert np.isnan(acc[3])
    assert_array_equal(inspect.cell_indices(y_true, y_pred, 1, 0), [4])
    assert_array_equal(inspect.cell_indices(y_true, y_pred, 0, 0), [0, 6])
    with pytest.raises(ValueError, match="y_pred"):
        inspect.confusion_matrix([0], [4], 4)


def test_top_mistakes_orders_wrong_answers_by_confidence():
    probs = np.array([[0.9, 0.1],    # right
                      [0.2, 0.8],    # wrong, 0.8
                      [0.05, 0.95],  # wrong, 0.95
                      [0.6, 0.4],    # wrong, 0.6
                      [0.2, 0.8]])   # wrong, 0.8 (tie: later index)
    y = np.array([0, 0, 0, 1, 0])
    assert_array_equal(inspect.top_mistakes(probs, y, 10), [2, 1, 4, 3])
    assert_array_equal(inspect.top_mistakes(probs, y, 2), [2, 1])
    assert inspect.top_mistakes(probs[:1], y[:1], 5).size == 0


def test_evaluate_predictions_agrees_with_model_evaluate(tiny_data):
    x, y = tiny_data
    model = Sequential([Conv2D(2, 3, activation="relu"), MaxPool2D(2), Flatten(), Dense(3), Softmax()],
                       input_shape=(1, 8, 8), seed=0)
    model.compile(SGD(lr=0.1), "crossentropy")
    model.fit(x, y, epochs=2, batch_size=16, seed=0)
    calls = []
    ev = inspect.evaluate_predictions(model, x, y, batch_size=40, progress=lambda d, t: calls.append((d, t)))
    ref = model.evaluate(x, y)
    assert calls == [(40, 96), (80, 96), (96, 96)]
    assert ev.loss == pytest.approx(ref["loss"], rel=1e-5)
    assert ev.accuracy == pytest.approx(ref["accuracy"])
    assert_allclose(ev.probs, model.predict(x), atol=1e-6)
    assert ev.confusion.sum() == 96 and np.trace(ev.confusion) == round(ev.accuracy * 96)
    assert_array_equal(ev.preds, ev.probs.argmax(1))


def test_evaluate_predictions_applies_the_models_temperature_as_predict_does(tiny_data):
    x, y = tiny_data
    model = Sequential([Flatten(), Dense(3), Softmax()], input_shape=(1, 8, 8), seed=0)
    hot = set_temperature(model, 0.25)
    ev = inspect.evaluate_predictions(hot, x, y)
    assert_allclose(ev.probs, hot.predict(x), atol=1e-6)
    assert ev.probs.max(1).mean() > inspect.evaluate_predictions(model, x, y).probs.max(1).mean()


def test_evaluate_predictions_can_be_cancelled_from_progress(tiny_data):
    x, y = tiny_data
    model = Sequential([Flatten(), Dense(3)], input_shape=(1, 8, 8), seed=0)

    def cancel(done, total):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        inspect.evaluate_predictions(model, x, y, progress=cancel)


def test_weight_histograms_bin_weights_and_log_gradient_sizes():
    weights = {"0.W": np.array([-2, -1, 0, 1, 2], np.float32), "0.b": np.zeros(2, np.float32),
               "2.W": np.ones((3, 3), np.float32), "2.mean": np.zeros(3, np.float32)}
    grads = {"0.W": np.array([0, 1e-3, 1e-3, 1e-12, 10.0]), "0.b": np.zeros(2)}
    h0, h2 = inspect.weight_histograms(weights, grads, bins=12, grad_range=(-10, 2))
    assert (h0.key, h2.key) == ("0.W", "2.W")
    assert h0.weight_counts.sum() == 5 and h0.weight_edges[0] == -2 and h0.weight_edges[-1] == 2
    assert h0.zero_grads == pytest.approx(0.2)
    assert h0.grad_counts.sum() == 4
    assert h0.grad_counts[0] == 1           # 1e-12 clipped into the first bin
    assert h0.grad_counts[7] == 2           # log10(1e-3) = -3 falls in [-3, -2)
    assert h0.grad_counts[-1] == 1          # log10(10) = 1
    assert h2.grad_counts is None and h2.weight_counts.sum() == 9


def test_batch_gradients_equal_those_of_a_training_step(tiny_data):
    x, y = tiny_data
    model = Sequential([Conv2D(2, 3), ReLU(), Flatten(), Dense(3), Softmax()], input_shape=(1, 8, 8), seed=0)
    model.compile(SGD(lr=0.1), "crossentropy")
    twin = model.copy()
    grads = inspect.batch_gradients(twin, x[:16], y[:16])
    model.train_step(x[:16], y[:16])  # computes grads, then updates
    assert sorted(grads) == ["0.W", "0.b", "3.W", "3.b"]
    for key, g in grads.items():
        i, name = key.split(".")
        assert_allclose(g, model.layers[int(i)].grads[name], rtol=1e-5, atol=1e-7)


def test_gradient_log_rms():
    grads = {"0.W": np.full((3, 4), 0.01, np.float32), "1.W": np.array([3.0, -4.0], np.float32),
             "2.W": np.zeros(5, np.float32)}
    rms = inspect.gradient_log_rms(grads)
    assert rms["0.W"] == pytest.approx(-2.0)
    assert rms["1.W"] == pytest.approx(np.log10(np.sqrt(12.5)))
    assert rms["2.W"] == -30.0


def test_gradient_log_rms_of_an_exploding_gradient_whose_squares_overflow_float32():
    exploding = np.full((50, 40), 1e20, np.float32)   # each square 1e40, beyond float32's 3.4e38
    rms = inspect.gradient_log_rms({"0.W": exploding, "1.W": np.array([1e20, -1e20, 0, 0], np.float32)})
    assert rms["0.W"] == pytest.approx(20.0)
    assert rms["1.W"] == pytest.approx(20.0 + np.log10(np.sqrt(0.5)))
