"""A custom loss is a ``core.losses.Loss`` subclass with forward and backward; saving a model with an
unregistered custom loss or layer is an error that says how to register it, and a registered one round-trips."""
import numpy as np
import pytest
from numpy.testing import assert_allclose

from core import ModelFileError, Sequential, load_model
from core import losses
from core.layers import Dense, Flatten, Softmax, base, register
from core.losses import Loss, register_loss
from core.optimizers import SGD


class MAE(Loss):
    """The docstring's example: mean absolute error."""

    def forward(self, out, y):
        return float(np.abs(out - y.reshape(out.shape)).mean())

    def backward(self, out, y):
        return np.sign(out - y.reshape(out.shape)) / out.size


class Huber(Loss):
    def __init__(self, delta=1.0):
        self.delta = delta

    def forward(self, out, y):
        d = np.abs(out - y.reshape(out.shape))
        return float(np.where(d < self.delta, 0.5 * d * d, self.delta * (d - 0.5 * self.delta)).mean())

    def backward(self, out, y):
        d = out - y.reshape(out.shape)
        return np.clip(d, -self.delta, self.delta) / out.size

    def get_config(self):
        return {**super().get_config(), "delta": self.delta}


class Scale(Dense):   # a layer type of the user's own
    pass


@pytest.fixture
def registries(monkeypatch):
    """Registrations made by a test stay in it."""
    monkeypatch.setattr(losses, "LOSSES", dict(losses.LOSSES))
    monkeypatch.setattr(base, "_REGISTRY", dict(base._REGISTRY))


def line(loss):
    model = Sequential([Dense(1)], input_shape=(1,), seed=0)
    model.compile(SGD(lr=0.05), loss)
    return model


@pytest.mark.parametrize("loss", [MAE(), Huber(0.5)], ids=["mae", "huber"])
def test_fit_trains_with_a_custom_loss(rng, loss):
    x = rng.uniform(-1, 1, (200, 1)).astype(np.float32)
    y = 3 * x[:, 0] - 1
    model = line(loss)
    history = model.fit(x, y, epochs=150, batch_size=20, seed=0)
    assert history.history["loss"][-1] < 0.05 * history.history["loss"][0]
    assert_allclose(model.predict(x)[:, 0], y, atol=0.1)


def test_a_loss_without_forward_and_backward_says_what_to_define(rng):
    model = line(type("Nothing", (Loss,), {})())
    with pytest.raises(NotImplementedError, match=r"Nothing must define forward\(out, y\)"):
        model.fit(rng.random((4, 1), dtype=np.float32), np.zeros(4))


def test_compile_refuses_a_loss_that_is_not_a_loss():
    with pytest.raises(ValueError, match=r"loss must be a name or a core.losses.Loss"):
        line(object())


def test_saving_with_an_unregistered_loss_says_how_to_register_it(tmp_path):
    with pytest.raises(ModelFileError, match=r"the loss is a MAE, not a registered loss.*"
                                             r"decorate MAE with @core.losses.register_loss"):
        line(MAE()).save(tmp_path / "m")
    assert not (tmp_path / "m").exists()


def test_saving_with_an_unregistered_layer_says_how_to_register_it(tmp_path):
    model = Sequential([Flatten(), Scale(2), Softmax()], input_shape=(1, 3, 3), seed=0)
    with pytest.raises(ModelFileError, match=r"layer 2 is a Scale, not a registered layer type.*"
                                             r"decorate Scale with @core.layers.register"):
        model.save(tmp_path / "m")


def test_a_registered_custom_loss_and_layer_save_and_load(registries, tmp_path, rng):
    register_loss(Huber)
    register(Scale)
    model = Sequential([Flatten(), Scale(2), Softmax()], input_shape=(1, 3, 3), seed=0)
    model.compile(SGD(lr=0.1), Huber(0.25))
    loaded = load_model(model.save(tmp_path / "m"))
    assert type(loaded.loss) is Huber and loaded.loss.delta == 0.25
    assert type(loaded.layers[1]) is Scale
    x = rng.random((3, 1, 3, 3), dtype=np.float32)
    assert_allclose(loaded.predict(x), model.predict(x))


def test_register_loss_takes_only_loss_subclasses(registries):
    with pytest.raises(TypeError, match="register_loss takes a Loss subclass"):
        register_loss(dict)


def test_loading_a_model_of_an_unregistered_loss_or_layer_says_how_to_register_it(registries, tmp_path):
    register_loss(Huber)
    register(Scale)
    model = Sequential([Flatten(), Scale(2), Softmax()], input_shape=(1, 3, 3), seed=0)
    model.compile(SGD(lr=0.1), Huber())
    path = model.save(tmp_path / "m")
    del losses.LOSSES["Huber"]   # a later session that did not register it
    with pytest.raises(ModelFileError, match=r"'loss' .*Huber.*decorated with @core.losses.register_loss"):
        load_model(path)
    register_loss(Huber)
    del base._REGISTRY["Scale"]
    with pytest.raises(ModelFileError, match=r"layer 2: unknown layer type 'Scale'.*@core.layers.register"):
        load_model(path)
