"""Finite-difference checks of every layer's backward, every loss's gradient and a whole model's."""
import numpy as np
import pytest

from core import Sequential, conv_ops, parallel, winograd
from core.layers import (AvgPool2D, BatchNorm, Conv2D, Dense, Dropout, Flatten, LeakyReLU, MaxPool2D, ReLU,
                         Sigmoid, Softmax, Tanh)
from core.losses import MSE, CrossEntropy, one_hot
from core.optimizers import SGD
import gradcheck
from gradcheck import assert_gradients, check_layer


@pytest.fixture(autouse=True, params=[1, 2], ids=["1 thread", "2 threads"])
def threads(request, monkeypatch):
    """Every check runs on one thread and on two (core/parallel.py): on two, the chunks of a batch (one image
    each) and the blocks of every product (however small) go to the pool, and must stay exact."""
    if request.param > 1:
        monkeypatch.setattr(parallel, "MIN_SPLIT_FLOPS", 0)
        monkeypatch.setattr(parallel, "MIN_SPLIT_ELEMENTS", 0)
        monkeypatch.setattr(conv_ops, "CHUNK_BYTES", 1)
    with parallel.using(request.param):
        yield

# ----- the checks can fail -------------------------------------------------


def test_helper_catches_one_wrong_element():
    x = np.random.default_rng(0).standard_normal((3, 4))
    analytic = 2 * x
    analytic[1, 2] *= 1.001

    with pytest.raises(AssertionError, match="gradients of x differ"):
        assert_gradients(lambda: float(np.sum(x * x)), {"x": x}, {"x": analytic})


def test_helper_passes_a_right_gradient():
    x = np.random.default_rng(0).standard_normal((3, 4))
    assert_gradients(lambda: float(np.sum(np.sin(x))), {"x": x}, {"x": np.cos(x)})


def test_helper_refuses_float32():
    x = np.ones(3, np.float32)
    with pytest.raises(AssertionError, match="float64"):
        assert_gradients(lambda: float(x.sum()), {"x": x}, {"x": np.ones(3)})


class _ReLUWithoutMask(ReLU):
    def backward(self, grad):
        return grad


class _DenseWithScaledWeightGrad(Dense):
    def linear_backward(self, grad):
        dx = super().linear_backward(grad)
        self.grads["W"] = self.grads["W"] * 1.01
        return dx


class _DenseWithoutBiasGrad(Dense):
    def linear_backward(self, grad):
        dx = super().linear_backward(grad)
        del self.grads["b"]
        return dx


@pytest.mark.parametrize("broken", [_ReLUWithoutMask(), _DenseWithScaledWeightGrad(3), _DenseWithoutBiasGrad(3)],
                         ids=["input-grad", "param-grad", "missing-grad"])
def test_check_layer_catches_a_broken_backward(broken):
    with pytest.raises(AssertionError):
        check_layer(broken, (4,))


# ----- layers ----------------------------------------------------------------

CONV_CASES = {
    "3x3": (dict(filters=2, kernel_size=3), (1, 5, 5)),
    "stride2": (dict(filters=2, kernel_size=3, stride=2), (1, 7, 7)),
    "stride2-uneven": (dict(filters=2, kernel_size=3, stride=2), (1, 6, 6)),
    "same": (dict(filters=2, kernel_size=3, padding="same"), (1, 5, 5)),
    "same-stride2": (dict(filters=2, kernel_size=3, stride=2, padding="same"), (1, 6, 6)),
    "same-even-kernel": (dict(filters=2, kernel_size=4, padding="same"), (1, 5, 5)),
    "int-padding": (dict(filters=2, kernel_size=3, padding=1), (1, 4, 4)),
    "int-padding-stride2": (dict(filters=2, kernel_size=3, stride=2, padding=2), (1, 5, 5)),
    "3-channels": (dict(filters=4, kernel_size=3), (3, 5, 5)),
    "non-square": (dict(filters=2, kernel_size=(2, 3), stride=(2, 1)), (2, 5, 6)),
    "1x1": (dict(filters=3, kernel_size=1), (2, 3, 3)),
    "relu": (dict(filters=3, kernel_size=3, activation="relu"), (2, 5, 5)),
    "tanh-same": (dict(filters=2, kernel_size=3, padding="same", activation="tanh"), (3, 4, 4)),
    "stride-larger-than-kernel": (dict(filters=2, kernel_size=2, stride=3), (1, 8, 8)),
    "gaps-one-axis": (dict(filters=2, kernel_size=(2, 3), stride=(3, 2)), (1, 8, 7)),
    "gaps-padding": (dict(filters=2, kernel_size=2, stride=3, padding=1), (1, 7, 7)),
    "wide-stride2-padded": (dict(filters=2, kernel_size=(2, 3), stride=2, padding=1), (1, 5, 13)),
    # more than one input channel, strided and padded: the input gradient a phase of pixels at a time
    # (conv_ops.input_grad_phases), one phase with no kernel offset reaching it in the gaps case
    "phases-stride2-padding1": (dict(filters=3, kernel_size=3, stride=2, padding=1), (2, 7, 7)),
    "phases-gaps-padding": (dict(filters=3, kernel_size=2, stride=3, padding=1), (2, 7, 7)),
    "phases-non-square": (dict(filters=3, kernel_size=(3, 2), stride=(2, 3), padding=1, activation="relu"),
                          (2, 7, 8)),
    # one input channel: columns by kernel offset; under 8 filters the output is channel-major in memory
    "1-channel-8-filters": (dict(filters=8, kernel_size=3, stride=(1, 2), padding=1), (1, 4, 5)),
    # 3x3, stride 1, 8+ channels each side: Winograd (core/winograd.py), odd and even outputs; F(2x2, 3x3) for a
    # 5x5 output, F(4x4, 3x3) for the others, its tiles hanging over an edge by one to three rows and columns
    "winograd-same-odd": (dict(filters=8, kernel_size=3, padding="same", activation="relu"), (8, 5, 5)),
    "winograd-valid": (dict(filters=9, kernel_size=3), (8, 6, 7)),
    "winograd-padding-3": (dict(filters=8, kernel_size=3, padding=3), (8, 3, 4)),
    "winograd-F4-same": (dict(filters=8, kernel_size=3, padding="same"), (8, 7, 9)),
}


@pytest.mark.parametrize("kwargs, shape", CONV_CASES.values(), ids=CONV_CASES.keys())
def test_conv2d(kwargs, shape):
    _check_conv(Conv2D(**kwargs), shape)


def _check_conv(layer, shape, **kwargs):
    """F4's forward rounds about 1e-13 of the loss in float64, ten times im2col's: over the default step of
    1e-6 that is 5e-8 of noise in a numerical gradient. Its layers here have no activation, so the loss is
    linear in each array and a step of 1e-4 differentiates it as exactly, with a hundredth of the noise."""
    layer.build(shape)
    linear = layer.winograd is winograd.F4
    assert not (linear and layer.activation), "an F4 case with an activation would need the small step"
    check_layer(layer, shape, eps=1e-4 if linear else gradcheck.EPS, **kwargs)


@pytest.mark.parametrize("kwargs, shape", [CONV_CASES["same"], CONV_CASES["gaps-padding"],
                                           CONV_CASES["wide-stride2-padded"], CONV_CASES["winograd-same-odd"],
                                           CONV_CASES["winograd-F4-same"], CONV_CASES["phases-stride2-padding1"],
                                           CONV_CASES["phases-gaps-padding"]],
                         ids=["same", "gaps", "wide", "winograd", "winograd-F4", "phases", "phases-gaps"])
def test_conv2d_input_gradient_one_image_at_a_time(kwargs, shape, monkeypatch):
    """Backward works chunk by chunk of the batch; with one image a chunk, still exact."""
    monkeypatch.setattr(conv_ops, "CHUNK_BYTES", 1)
    assert len(conv_ops.batch_chunks(3, 100)) == 3
    _check_conv(Conv2D(**kwargs), shape, batch=3)


POOL_CASES = {
    "2x2": (dict(pool_size=2), (2, 4, 4)),
    "odd-input": (dict(pool_size=2), (2, 5, 5)),
    "overlap": (dict(pool_size=3, stride=1), (2, 5, 5)),
    "overlap-stride2": (dict(pool_size=3, stride=2), (1, 7, 7)),
    "padding": (dict(pool_size=2, padding=1), (2, 5, 5)),
    "padding-overlap": (dict(pool_size=3, stride=2, padding=1), (1, 6, 6)),
    "stride-larger": (dict(pool_size=2, stride=3), (2, 7, 7)),
    "non-square": (dict(pool_size=(2, 3), stride=(1, 2)), (1, 5, 7)),
    # windows with gaps between them: the pixels no window sees get exactly zero gradient
    "gaps": (dict(pool_size=2, stride=3), (2, 8, 8)),
    "gaps-rows-overlap-cols": (dict(pool_size=(2, 3), stride=(3, 2)), (1, 8, 7)),
    "overlap-rows-gaps-cols": (dict(pool_size=(3, 2), stride=(2, 3)), (1, 7, 8)),
    "gaps-rows-tiled-cols": (dict(pool_size=2, stride=(3, 2)), (1, 8, 6)),
    "gaps-padding": (dict(pool_size=2, stride=3, padding=1), (2, 8, 8)),
    "gaps-padding-non-square": (dict(pool_size=(2, 3), stride=(4, 5), padding=1), (1, 9, 11)),
}


@pytest.mark.parametrize("kind", [MaxPool2D, AvgPool2D])
@pytest.mark.parametrize("kwargs, shape", POOL_CASES.values(), ids=POOL_CASES.keys())
def test_pooling(kind, kwargs, shape):
    check_layer(kind(**kwargs), shape)


@pytest.mark.parametrize("kind", [MaxPool2D, AvgPool2D])
@pytest.mark.parametrize("case", ["2x2", "overlap", "gaps-padding"])
def test_pooling_one_image_at_a_time(kind, case, monkeypatch):
    """Backward spreads the gradient chunk by chunk of the batch; with one image a chunk, still exact."""
    monkeypatch.setattr(conv_ops, "CHUNK_BYTES", 1)
    kwargs, shape = POOL_CASES[case]
    check_layer(kind(**kwargs), shape, batch=3)


@pytest.mark.parametrize("activation", [None, "relu", "leaky_relu", "sigmoid", "tanh", "softmax"])
def test_dense(activation):
    check_layer(Dense(4, activation=activation), (6,), batch=3)


def test_flatten():
    check_layer(Flatten(), (2, 3, 4))


@pytest.mark.parametrize("training", [True, False])
def test_dropout_with_a_fixed_mask(training):
    layer = Dropout(0.4)

    def same_mask():
        layer.rng = np.random.default_rng(7)

    check_layer(layer, (3, 4, 4), batch=3, training=training, before_forward=same_mask)


@pytest.mark.parametrize("shape, batch", [((5,), 6), ((3, 4, 4), 3)], ids=["after-dense", "after-conv"])
def test_batchnorm_training(shape, batch):
    check_layer(BatchNorm(), shape, batch=batch, training=True)


@pytest.mark.parametrize("shape", [(5,), (3, 4, 4)], ids=["after-dense", "after-conv"])
def test_batchnorm_inference(shape):
    """At inference the statistics are constants, so backward is gamma / sqrt(var + eps) * grad
    (what a saliency map of a BatchNorm model needs)."""
    layer = BatchNorm()
    layer.build(shape)
    rng = np.random.default_rng(3)
    layer.buffers = {"mean": rng.normal(0, 1, shape[0]).astype(np.float32),
                     "var": rng.uniform(0.5, 2, shape[0]).astype(np.float32)}
    check_layer(layer, shape, batch=3, training=False)


@pytest.mark.parametrize("layer", [ReLU(), LeakyReLU(0.1), Sigmoid(), Tanh()], ids=lambda layer: type(layer).__name__)
@pytest.mark.parametrize("shape", [(7,), (2, 3, 3)], ids=["flat", "image"])
def test_elementwise_activation(layer, shape):
    check_layer(layer, shape, batch=3)


def test_softmax():
    check_layer(Softmax(), (6,), batch=4)


# ----- losses -------------------------------------------------------------------

def _labels(kind, n, k, rng):
    y = rng.integers(0, k, n)
    if kind == "onehot":
        return one_hot(y, k, np.float64)
    if kind == "soft":
        t = rng.random((n, k))
        return t / t.sum(axis=1, keepdims=True)
    return y


@pytest.mark.parametrize("loss", [CrossEntropy(), MSE()], ids=["crossentropy", "mse"])
@pytest.mark.parametrize("kind", ["index", "onehot", "soft"])
def test_loss(loss, kind):
    rng = np.random.default_rng(1)
    z = rng.normal(0, 2, (5, 4))
    y = _labels(kind, 5, 4, rng)
    value, grad = loss.value_and_grad(z, y)
    assert value == pytest.approx(loss.value(z, y))
    assert_gradients(lambda: loss.value(z, y), {"z": z}, {"z": grad})


# ----- whole models ------------------------------------------------------------

def _float64_model(layers, input_shape, loss=None):
    model = Sequential(layers, input_shape=input_shape, seed=0)
    rng = np.random.default_rng(5)
    for layer in model.layers:
        layer.params = {k: v.astype(np.float64) + rng.normal(0, 0.2, v.shape) for k, v in layer.params.items()}
    model.compile(SGD(lr=0.1), loss or CrossEntropy())
    return model


def _small_cnn(last="softmax-layer"):
    head = [Dense(4), Softmax()] if last == "softmax-layer" else [Dense(4, activation="softmax")]
    return [Conv2D(3, 3, activation="relu"), BatchNorm(), MaxPool2D(2), Conv2D(2, 2, padding="same"),
            Flatten(), Dense(5, activation="tanh"), *head]


def _param_arrays(model):
    return {f"{i}.{k}": v for i, layer in enumerate(model.layers) for k, v in layer.params.items()}


def _check_training_path(model, x, y):
    """The parameters' gradients of the training path (logits, loss, backward) against finite differences."""
    def loss_value():
        return model.loss.value(model._forward_logits(x, training=True), y)

    _, grad = model.loss.value_and_grad(model._forward_logits(x, training=True), y)
    model._backward_logits(grad)
    analytic = {f"{i}.{k}": layer.grads[k] for i, layer in enumerate(model.layers) for k in layer.params}
    assert_gradients(loss_value, _param_arrays(model), analytic)


@pytest.mark.parametrize("last, loss", [("softmax-layer", CrossEntropy()), ("dense-activation", CrossEntropy()),
                                        ("softmax-layer", MSE())],
                         ids=["crossentropy-softmax-layer", "crossentropy-dense-activation", "mse-through-softmax"])
def test_model_training_path(last, loss):
    """The training path: logits (a fused softmax skipped for CrossEntropy, so (p - y) / N flows
    back; MSE backpropagates through the Softmax), loss, backward through every layer."""
    model = _float64_model(_small_cnn(last), (2, 7, 7), loss=loss)
    rng = np.random.default_rng(2)
    x, y = rng.random((3, 2, 7, 7)), rng.integers(0, 4, 3)
    _check_training_path(model, x, y)


def test_model_training_path_through_a_batchnorm_and_the_relu_fused_into_it():
    """A ReLU after a BatchNorm rectifies the normalised output as BatchNorm makes it (``_forward_path``): the
    same numbers as the two layers one by one, and the true gradient through both."""
    layers = [Conv2D(4, 3), BatchNorm(), ReLU(), MaxPool2D(2), Flatten(), Dense(6), BatchNorm(), ReLU(), Dense(4),
              Softmax()]
    model = _float64_model(layers, (2, 7, 7))
    rng = np.random.default_rng(3)
    x, y = rng.random((5, 2, 7, 7)), rng.integers(0, 4, 5)
    one_by_one = x
    for layer in model.layers[:-1]:
        one_by_one = layer.forward(one_by_one, training=True)
    np.testing.assert_array_equal(model._forward_logits(x, training=True), one_by_one)
    _check_training_path(model, x, y)


@pytest.mark.parametrize("channels", [2, 1], ids=["channels-last", "channel-major first output"])
def test_model_forward_backward_input_gradient(channels):
    """model.backward returns d/d input through every layer, the final Softmax included, whichever memory
    order the first convolution hands on (a single channel into 3 filters: channel by channel)."""
    model = _float64_model(_small_cnn(), (channels, 7, 7))
    assert model.layers[0].channel_major == (channels == 1)
    model.layers[0].need_input_grad = True
    rng = np.random.default_rng(4)
    x, r = rng.random((3, channels, 7, 7)), rng.standard_normal((3, 4))

    def loss():
        return float(np.sum(model.forward(x, training=True) * r))

    loss()
    dx = model.backward(r)
    analytic = {"x": dx, **{f"{i}.{k}": layer.grads[k] for i, layer in enumerate(model.layers) for k in layer.params}}
    assert_gradients(loss, {"x": x, **_param_arrays(model)}, analytic)


def test_train_step_moves_weights_along_the_true_gradient():
    """With plain SGD, train_step changes every parameter by exactly -lr * d loss / d parameter."""
    model = _float64_model(_small_cnn(), (2, 7, 7))
    rng = np.random.default_rng(6)
    x, y = rng.random((4, 2, 7, 7)), rng.integers(0, 4, 4)
    params = _param_arrays(model)
    before = {k: v.copy() for k, v in params.items()}
    model.train_step(x, y)
    implied = {k: (before[k] - params[k]) / model.optimizer.lr for k in params}
    for k, v in params.items():
        np.copyto(v, before[k])
    assert_gradients(lambda: model.loss.value(model._forward_logits(x, training=True), y), params, implied, rtol=1e-4)
