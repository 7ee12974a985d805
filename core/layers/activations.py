"""Element-wise activations, and Softmax over the class axis.

Each keeps only what its derivative needs (the output for Sigmoid, Tanh and
Softmax; a mask for ReLU). Element-wise NumPy keeps the memory layout of its
input, so these never move channels-last data. Each names itself by
``activation_name``, the word ``activation=`` takes on Dense and Conv2D.
"""
import functools

import numpy as np

from .. import memory_order, parallel
from . import args
from .base import Layer, register


ZEROS = 1 << 16        # floats ``rectify`` compares at a time: 256 KB of float32, within a core's L2 cache
FEW = 1 << 13          # arrays of fewer floats compare with the scalar: looking for their runs costs more


@functools.cache
def _zeros(dtype):
    zeros = np.zeros(ZEROS, dtype)
    zeros.flags.writeable = False
    return zeros


def rectify(x, out):
    """``max(x, 0)`` into ``out`` (which may be ``x``), compared with a block of zeros rather than the scalar 0.

    NumPy 2.4's ``maximum`` takes its vector loop only between two arrays: a
    block of conv output (173K floats, in cache) took 84-89 us against the
    scalar 0 and 26-35 us against zeros; in place over a vgg_mini activation
    (3.2M floats) 1.63 -> 1.04 ms. The comparison runs along ``x``'s memory
    (``memory_order.flat``); a small array, or one not in one run (a block of
    a matrix's columns), is compared with the scalar in one call: looking at
    small ones, and comparing each row of a channel-major block on its own
    (more calls, which two threads take turns at the interpreter between),
    cost cnn_small 2.5-5% of a training step.

    Args:
        x: any float array.
        out: an array of ``x``'s shape, dtype and memory order, or ``x`` itself.
    """
    xs = memory_order.flat(x) if x.size >= FEW else None
    outs = xs if out is x or xs is None else memory_order.flat(out, like=x)
    if outs is None:
        np.maximum(x, 0, out=out)
        return
    zeros = _zeros(x.dtype)
    for start in range(0, xs.size, ZEROS):
        stop = min(start + ZEROS, xs.size)
        np.maximum(xs[start:stop], zeros[:stop - start], out=outs[start:stop])


def relu_gradient(kept, grad, out):
    """``grad`` where ``kept``, a ReLU's output, is positive and 0 elsewhere, written into ``out``.

    The mask is written as 0.0 and 1.0 straight into ``out`` (``kept > 0``),
    then multiplied by the gradient: no temporary array, twice as fast as
    ``sign(kept)``. ReLU's backward and BatchNorm's, for the ReLU after it, both run it.
    """
    np.greater(kept, 0, out=out)
    out *= grad
    return out


@register
class ReLU(Layer):
    """max(0, x): the usual activation between layers.

    Input shape:
        any shape (batch first).

    Output shape:
        the input's shape.
    """

    category = "Activation"
    activation_name = "relu"

    def forward(self, x, training=False):
        # One pass: the output is kept and backward finds the mask in it (out > 0 exactly where x > 0),
        # so a prediction, which never goes backward, never makes a mask.
        self._out = out = np.empty_like(x)   # in x's memory order
        parallel.run([lambda rows=rows: rectify(x[rows], out[rows]) for rows in parallel.row_parts(x)])
        return out

    def in_place(self, y):
        """Rectify ``y``, a piece of a fused layer's output, where it lies (``ParamLayer.forward``).

        The layer calls this on each piece as it makes it, while the piece is in
        cache: no second pass over the output, no second array.

        Args:
            y: the piece, overwritten.
        """
        rectify(y, y)

    def keep(self, out):
        """Take a fused layer's output, already rectified by ``in_place``, as ``forward``'s result.

        Args:
            out: the whole output; kept for ``backward``, which finds the mask in it, and returned.
        """
        self._out = out
        return out

    @property
    def rectified(self):
        """The output of the last forward pass, kept: the gradient passes where it is positive."""
        return self._out

    def backward(self, grad):
        # in the kept output's memory order, the layer's own: a convolution below takes it as it is
        out, kept = np.empty_like(self._out, dtype=grad.dtype), self._out

        parallel.run([lambda rows=rows: relu_gradient(kept[rows], grad[rows], out[rows])
                      for rows in parallel.row_parts(grad)])
        return out


@register
class LeakyReLU(Layer):
    """x for x > 0, α·x otherwise: a ReLU whose negative side still learns.

    A small slope below zero keeps units from dying (a ReLU unit whose inputs
    are all negative gets no gradient and stops learning).

    Args:
        alpha: slope for negative inputs, a number in [0, 1).

    Input shape:
        any shape (batch first).

    Output shape:
        the input's shape.

    Raises:
        ArgumentError: ``alpha`` outside [0, 1).
    """

    category = "Activation"
    activation_name = "leaky_relu"

    def __init__(self, alpha=0.01):
        super().__init__()
        self.alpha = args.fraction(self, "alpha", alpha)

    def forward(self, x, training=False):
        mask = self._mask = x > 0
        return np.where(mask, x, x * np.asarray(self.alpha, x.dtype))

    def backward(self, grad):
        return np.where(self._mask, grad, grad * np.asarray(self.alpha, grad.dtype))


@register
class Sigmoid(Layer):
    """1 / (1 + e^−x): squashes to (0, 1).

    Ending a model, it gives each output a value in (0, 1) of its own (the
    outputs need not sum to 1, unlike Softmax).

    Input shape:
        any shape (batch first).

    Output shape:
        the input's shape.
    """

    category = "Activation"
    activation_name = "sigmoid"

    def forward(self, x, training=False):
        # tanh form: no overflow warning for large negative x.
        y = self._y = 0.5 * (np.tanh(0.5 * x) + 1)
        return y

    def backward(self, grad):
        return grad * self._y * (1 - self._y)


@register
class Tanh(Layer):
    """tanh(x): squashes to (−1, 1), centred on zero.

    Input shape:
        any shape (batch first).

    Output shape:
        the input's shape.
    """

    category = "Activation"
    activation_name = "tanh"

    def forward(self, x, training=False):
        y = self._y = np.tanh(x)
        return y

    def backward(self, grad):
        return grad * (1 - self._y * self._y)


def softmax(z):
    """Row-wise softmax of (N, K) scores, stable for any magnitude."""
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


@register
class Softmax(Layer):
    """Turns scores into class probabilities that sum to 1; ends a classifier.

    Followed by CrossEntropy, the model skips this layer's backward and uses
    the fused, exact gradient p - y instead.

    Input shape:
        (batch, classes): put Flatten (and usually Dense) before it.

    Output shape:
        (batch, classes), each row non-negative and summing to 1.

    Raises:
        ShapeError: at build, an input that is not flat.
    """

    category = "Activation"
    activation_name = "softmax"

    def compute_output_shape(self, input_shape):
        self._require_rank(input_shape, (1,), "a flat (features,) input; add Flatten before it")
        return input_shape

    def forward(self, x, training=False):
        y = self._y = softmax(x)
        return y

    def backward(self, grad):
        y = self._y
        return y * (grad - (grad * y).sum(axis=1, keepdims=True))
