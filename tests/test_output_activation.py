"""What the network ends in is answered once, by ``Sequential.output_activation``; training, predict and
``core.inspect`` all take their path to the class scores from it."""
import numpy as np
import pytest
from numpy.testing import assert_allclose

from core import Sequential, inspect
from core.layers import Conv2D, Dense, Dropout, Flatten, ReLU, Sigmoid, Softmax, Tanh
from core.layers.activations import softmax
from core.losses import MSE, CrossEntropy
from core.optimizers import SGD


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


# name: (fresh layers after Flatten, the activation type the network ends in, or None)
ENDINGS = {
    "softmax layer": (lambda: [Dense(4), Softmax()], Softmax),
    "softmax fused in Dense": (lambda: [Dense(4, activation="softmax")], Softmax),
    "sigmoid layer": (lambda: [Dense(4), Sigmoid()], Sigmoid),
    "sigmoid fused in Dense": (lambda: [Dense(4, activation="sigmoid")], Sigmoid),
    "plain Dense": (lambda: [Dense(4)], None),
    "ReLU layer": (lambda: [Dense(4), ReLU()], None),
    "tanh fused in Dense": (lambda: [Dense(4, activation="tanh")], None),
    "Tanh after a Softmax": (lambda: [Dense(4), Softmax(), Tanh()], None),
    "Dropout after a Softmax": (lambda: [Dense(4), Softmax(), Dropout(0.5)], None),
}


def _model(name):
    head, _ = ENDINGS[name]
    layers = [Conv2D(2, 3, activation="relu"), Flatten(), *head()]
    return Sequential(layers, input_shape=(1, 5, 5), seed=0)


@pytest.fixture
def x():
    return np.random.default_rng(0).random((3, 1, 5, 5), dtype=np.float32)


@pytest.mark.parametrize("name", ENDINGS)
def test_output_activation_names_the_final_softmax_or_sigmoid_wherever_it_sits(name):
    model = _model(name)
    expected = ENDINGS[name][1]
    act = model.output_activation
    if expected is None:
        assert act is None
    else:
        assert type(act) is expected
        last = model.layers[-1]
        assert act is last or act is last.act   # the very activation that runs, not a lookalike


@pytest.mark.parametrize("name", ENDINGS)
def test_scores_predict_and_inspect_agree_on_where_the_logits_are(name, x):
    model = _model(name)
    scores = model.scores(x)
    assert_allclose(inspect.class_scores(model, x), scores)
    outputs = model.forward(x)
    expected = ENDINGS[name][1]
    if expected is Softmax:
        assert_allclose(outputs, softmax(scores), rtol=1e-5, atol=1e-7)
        assert_allclose(model.predict(x), outputs, rtol=1e-6)
    elif expected is Sigmoid:
        assert_allclose(outputs, _sigmoid(scores), rtol=1e-5, atol=1e-7)
        assert_allclose(model.predict(x), outputs, rtol=1e-6)
    else:
        assert_allclose(scores, outputs)
        assert_allclose(model.predict(x), softmax(outputs), rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("name", ENDINGS)
@pytest.mark.parametrize("loss", [CrossEntropy(), MSE()], ids=["crossentropy", "mse"])
def test_the_loss_takes_logits_only_when_it_fuses_a_final_softmax(name, loss, x):
    model = _model(name)
    model.compile(SGD(lr=0.1), loss)
    fused = isinstance(loss, CrossEntropy) and ENDINGS[name][1] is Softmax
    expected = model.scores(x) if fused else model.forward(x)
    assert_allclose(model._forward_logits(x, training=False), expected)


@pytest.mark.parametrize("name", ENDINGS)
def test_backward_scores_is_the_gradient_of_the_scores(name, x):
    """d(sum of class 1's score)/d input, against a central difference in float64."""
    model = _model(name)
    for layer in model.layers:
        layer.params = {k: v.astype(np.float64) for k, v in layer.params.items()}
    x = x[:1].astype(np.float64)
    grad = np.zeros((1, 4))
    grad[0, 1] = 1.0
    with model.input_gradients():
        model.scores(x)
        analytic = model.backward_scores(grad)
    eps, numeric = 1e-6, np.zeros_like(x)
    for i in np.ndindex(x.shape):
        d = np.zeros_like(x)
        d[i] = eps
        numeric[i] = (model.scores(x + d)[0, 1] - model.scores(x - d)[0, 1]) / (2 * eps)
    assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-8)


def test_an_empty_model_ends_in_nothing():
    assert Sequential().output_activation is None
