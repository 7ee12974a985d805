"""The layer contract in one place: what a layer type must and may define, and what follows from its class."""
import numpy as np
import pytest

from core import Sequential, docstrings, load_model
from core.layers import Dense, Flatten, Layer, Softmax, base, from_config, layer_types, register, to_entry
from core.layers.pooling import Pool2D
from layer_types import define_scale


def test_param_layer_lives_in_base_and_old_imports_still_work():
    from core.layers import ParamLayer
    from core.layers.dense import ParamLayer as from_dense
    assert ParamLayer is from_dense is base.ParamLayer
    assert ParamLayer.__module__ == "core.layers.base"


def test_layer_docstring_states_what_a_subclass_must_and_may_define():
    doc = docstrings.own_doc(Layer)
    must, may = doc.index("A subclass must define:"), doc.index("A subclass may define:")
    for name in ("forward(", "backward(", "Args:", "Input shape:", "Output shape:"):
        assert must < doc.index(name) < may, name
    for name in ("__init__(", "compute_output_shape(", "weight_shapes(", "build(", "get_config(", "category:",
                 "activation_name:"):
        assert name in doc[may:], name
    assert "@register" in doc


def test_a_new_layer_type_is_known_and_round_trips_from_its_class_alone(registry, tmp_path):
    Scale = define_scale()
    assert "Scale" in layer_types()
    layer = from_config({"type": "Scale", "config": {"factor": 3.0}})
    assert isinstance(layer, Scale) and to_entry(layer) == {"type": "Scale", "config": {"factor": 3.0}}
    model = Sequential([Flatten(), Scale(0.5), Dense(3), Softmax()], input_shape=(1, 2, 2), seed=0)
    again = Sequential.from_config(model.get_config())
    assert again.get_config() == model.get_config() and again.layers[1].factor == 0.5
    model.save(tmp_path / "m")
    x = np.random.default_rng(0).random((4, 1, 2, 2), dtype=np.float32)
    np.testing.assert_array_equal(load_model(tmp_path / "m").predict(x), model.predict(x))


def test_get_config_reads_the_arguments_a_subclass_stored_under_their_names(registry):
    @register
    class Kept(Layer):
        """Keeps two arguments under their own names."""

        def __init__(self, size=3, mode="a"):
            super().__init__()
            self.size, self.mode = size, mode

    @register
    class Renamed(Layer):
        """Stores its argument under another name and does not say how to write it back."""

        def __init__(self, size=3):
            super().__init__()
            self.width = size

    assert Kept(5, "b").get_config() == {"size": 5, "mode": "b"}
    assert Layer().get_config() == {}
    with pytest.raises(NotImplementedError, match="Renamed keeps no attribute 'size'.*define get_config"):
        Renamed().get_config()


def test_a_new_activation_joins_the_activation_shorthand_by_declaring_its_name(registry):
    @register
    class Cube(Layer):
        """x³."""
        activation_name = "cube"

        def forward(self, x, training=False):
            self._x = x
            return x ** 3

        def backward(self, grad):
            return grad * 3 * self._x ** 2

    @register
    class LoudCube(Cube):
        """A subclass does not take its base's activation name."""

    assert base.activations()["cube"] is Cube
    dense = Dense(2, activation="cube")
    dense.build((3,))
    x = np.ones((1, 3), np.float32)
    np.testing.assert_allclose(dense.forward(x), dense.linear_forward(x) ** 3)
    assert base.activation_after([LoudCube()]) is None and base.activation_after([Cube()]) == "cube"


def test_pooling_declares_its_hooks_and_a_pool_without_them_says_which_is_missing():
    class Half(Pool2D):
        """A pool that forgot its hooks."""

    for hook in ("reduce", "scatter"):
        assert docstrings.own_doc(getattr(Pool2D, hook)), hook
    layer = Half(2)
    layer.build((1, 4, 4))
    with pytest.raises(NotImplementedError, match="Half defines no combine"):   # the ufunc reduce folds with
        layer.forward(np.zeros((1, 1, 4, 4), np.float32))


def test_every_core_layer_keeps_its_category_and_its_config_round_trips():
    categories = {t: base.layer_class(t).category for t in layer_types()}
    assert all(isinstance(c, str) and c for c in categories.values())
    expected = {"Conv2D": "Convolution", "MaxPool2D": "Pooling", "AvgPool2D": "Pooling",
                "Dense": "Fully connected", "Flatten": "Fully connected", "Dropout": "Regularisation",
                "BatchNorm": "Regularisation", "ReLU": "Activation", "LeakyReLU": "Activation",
                "Sigmoid": "Activation", "Tanh": "Activation", "Softmax": "Activation"}
    assert {t: categories[t] for t in expected} == expected   # the palette's groups, as before
    for t, config in (("LeakyReLU", {"alpha": 0.2}), ("BatchNorm", {"momentum": 0.8, "epsilon": 1e-3})):
        assert to_entry(from_config({"type": t, "config": config})) == {"type": t, "config": config}


def test_docstring_summary_and_args_are_read_from_the_class_itself():
    class Base:
        """The base's summary.

        Args:
            size: how big; it may run
                over two lines.
            mode (str): which way. Defaults to "a".
            **kwargs: passed on.

        Returns:
            nothing (not an argument).
        """

    class Child(Base):
        pass

    assert docstrings.summary(Base) == "The base's summary."
    assert docstrings.arg_help(Base) == {"size": "how big; it may run over two lines.",
                                         "mode": 'which way. Defaults to "a".', "kwargs": "passed on."}
    assert docstrings.summary(Child) == "" and docstrings.arg_help(Child) == {}   # never the base's text
