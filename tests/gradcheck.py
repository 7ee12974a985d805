"""The one gradient check of the suite: central differences in float64.

``assert_gradients`` compares any analytic gradients with numerical ones;
``check_layer`` drives it for a layer: it builds the layer, moves its
parameters to float64 (perturbed, so a zero bias or a unit scale cannot hide
a missing term), and checks d/d input and d/d every parameter of the scalar
sum(R * layer(x)) for a fixed random R -- so backward(R) must be exact.
"""
import numpy as np
from numpy.testing import assert_allclose

EPS = 1e-6
RTOL = 1e-5
ATOL = 1e-8   # float64 round-off of (f(x+h) - f(x-h)) / 2h with h = 1e-6


def numerical_gradient(f, x, eps=EPS):
    """d f() / d x by central differences; ``x`` is perturbed in place and restored."""
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        old = x[idx]
        x[idx] = old + eps
        up = f()
        x[idx] = old - eps
        down = f()
        x[idx] = old
        grad[idx] = (up - down) / (2 * eps)
    return grad


def assert_gradients(f, arrays, analytic, rtol=RTOL, atol=ATOL, eps=EPS):
    """Assert ``analytic[name]`` equals the numerical d f() / d ``arrays[name]`` for each name.

    ``f`` takes no arguments and reads the arrays, which must be float64.
    """
    for name, x in arrays.items():
        assert x.dtype == np.float64, f"{name}: gradient checks need float64, got {x.dtype}"
        got = analytic.get(name)
        assert got is not None, f"no analytic gradient for {name}"
        assert got.shape == x.shape, f"{name}: gradient shape {got.shape}, parameter shape {x.shape}"
        assert_allclose(got, numerical_gradient(f, x, eps), rtol=rtol, atol=atol,
                        err_msg=f"analytic and numerical gradients of {name} differ")


def check_layer(layer, input_shape, batch=2, training=True, before_forward=None, seed=0, eps=EPS):
    """Check a layer's input and parameter gradients on random float64 data.

    ``before_forward`` runs before every forward pass (e.g. to reset a
    Dropout mask's random generator so each pass draws the same mask).
    A larger ``eps`` suits a layer that is linear in its input and
    parameters, where central differences are exact but for round-off,
    which a larger step divides less.
    """
    rng = np.random.default_rng(seed)
    layer.build(input_shape)
    layer.params = {k: v.astype(np.float64) + rng.normal(0, 0.3, v.shape) for k, v in layer.params.items()}
    x = rng.standard_normal((batch, *input_shape))
    r = rng.standard_normal((batch, *layer.output_shape))

    def loss():
        if before_forward is not None:
            before_forward()
        out = layer.forward(x, training)
        assert out.dtype == np.float64, f"{layer.name} turned float64 input into {out.dtype}"
        return float(np.sum(out * r))

    loss()
    dx = layer.backward(r)
    grads = {k: np.array(g) for k, g in layer.grads.items()}
    assert grads.keys() == layer.params.keys(), f"{layer.name}: grads {sorted(grads)}, params {sorted(layer.params)}"
    analytic = {"x": None if dx is None else np.array(dx), **grads}
    assert_gradients(loss, {"x": x, **layer.params}, analytic, eps=eps)
