"""Element-wise activations, and Softmax over the class axis.

Each keeps only what its derivative needs (the output for Sigmoid, Tanh and
Softmax; a mask for ReLU). Element-wise NumPy keeps the memory layout of its
input, so these never move channels-last data.
"""
import numpy as np

from . import args
from .base import Layer, register


@register
class ReLU(Layer):
    def forward(self, x, training=False):
        self._mask = x > 0
        return np.maximum(x, 0)

    def backward(self, grad):
        return grad * self._mask


@register
class LeakyReLU(Layer):
    """max(x, alpha * x): a small slope below zero keeps units from dying."""

    def __init__(self, alpha=0.01):
        super().__init__()
        self.alpha = args.fraction(self, "alpha", alpha)

    def forward(self, x, training=False):
        self._mask = x > 0
        return np.where(self._mask, x, x * np.asarray(self.alpha, x.dtype))

    def backward(self, grad):
        return np.where(self._mask, grad, grad * np.asarray(self.alpha, grad.dtype))

    def get_config(self):
        return {"alpha": self.alpha}


@register
class Sigmoid(Layer):
    def forward(self, x, training=False):
        # tanh form: no overflow warning for large negative x.
        self._y = 0.5 * (np.tanh(0.5 * x) + 1)
        return self._y

    def backward(self, grad):
        return grad * self._y * (1 - self._y)


@register
class Tanh(Layer):
    def forward(self, x, training=False):
        self._y = np.tanh(x)
        return self._y

    def backward(self, grad):
        return grad * (1 - self._y * self._y)


def softmax(z):
    """Row-wise softmax of (N, K) scores, stable for any magnitude."""
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


@register
class Softmax(Layer):
    """Probabilities over the last axis of a (N, K) input.

    Followed by CrossEntropy, the model skips this layer's backward and uses
    the fused, exact gradient p - y instead.
    """

    def compute_output_shape(self, input_shape):
        self._require_rank(input_shape, (1,), "a flat (features,) input; add Flatten before it")
        return input_shape

    def forward(self, x, training=False):
        self._y = softmax(x)
        return self._y

    def backward(self, grad):
        y = self._y
        return y * (grad - (grad * y).sum(axis=1, keepdims=True))


ACTIVATIONS = {"relu": ReLU, "leaky_relu": LeakyReLU, "sigmoid": Sigmoid, "tanh": Tanh, "softmax": Softmax}


def make_activation(name):
    """The layer for an ``activation=`` shorthand, or None (the caller has checked the name)."""
    return None if name is None else ACTIVATIONS[name]()
