"""Float32 end to end: no layer, loss or optimizer may silently upcast to float64
(a Python or NumPy float64 scalar in the wrong place doubles memory traffic)."""
import numpy as np
import pytest

from core import zoo
from core.optimizers import SGD, AdaDelta, AdaGrad, Adam, RMSprop


@pytest.mark.parametrize("name", ["lenet5", "vgg_mini", "alexnet_mini", "mlp"])
def test_every_activation_and_gradient_stays_float32(name):
    model = zoo.build(name, seed=0)
    model.compile(SGD(0.01, momentum=0.9), "crossentropy")
    x = np.random.default_rng(0).random((4, 1, 28, 28), dtype=np.float32)
    out = x
    for layer in model.layers:
        out = layer.forward(out, training=True)
        assert out.dtype == np.float32, f"{layer.name} forward gives {out.dtype}"
    model.train_step(x, np.arange(4))
    for layer in model.layers:
        for key, g in layer.grads.items():
            assert g.dtype == np.float32, f"{layer.name} grad {key} is {g.dtype}"
        for key, p in {**layer.params, **layer.buffers}.items():
            assert p.dtype == np.float32, f"{layer.name} {key} became {p.dtype}"


@pytest.mark.parametrize("opt", [SGD(0.1, momentum=0.9, nesterov=True, weight_decay=1e-4), Adam(), AdaGrad(),
                                 AdaDelta(), RMSprop(weight_decay=1e-3)], ids=lambda o: type(o).__name__)
def test_optimizers_keep_parameters_float32(opt):
    model = zoo.build("cnn_small", seed=0)
    model.compile(opt, "crossentropy")
    x = np.random.default_rng(0).random((8, 1, 28, 28), dtype=np.float32)
    for _ in range(2):
        model.train_step(x, np.arange(8) % 10)
    assert all(p.dtype == np.float32 for p in model.get_weights().values())
    assert all(s.dtype == np.float32 for state in opt.state.values() for s in state.values())


def test_predict_returns_float32():
    assert zoo.build("lenet5").predict(np.zeros((2, 28, 28), np.float32)).dtype == np.float32
