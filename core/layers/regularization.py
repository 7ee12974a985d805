"""Dropout and BatchNorm: the layers that behave differently in training."""
import numpy as np

from . import args
from .base import Layer, register


@register
class Dropout(Layer):
    """Zeroes a random fraction of its inputs while training, against overfitting.

    Inverted dropout: kept units are scaled by 1 / (1 − rate) in training, so
    inference is the identity and needs no rescaling.

    Args:
        rate: fraction of inputs set to zero at random while training, a number in [0, 1).
        seed: seeds this layer's masks alone; None draws them from the model's seed. Not saved with
            the model.

    Input shape:
        any shape (batch first).

    Output shape:
        the input's shape.

    Raises:
        ArgumentError: ``rate`` outside [0, 1), or a negative seed.
    """

    category = "Regularisation"

    def __init__(self, rate=0.5, seed=None):
        super().__init__()
        self.rate = args.fraction(self, "rate", rate)
        self.seed = args.seed(self, seed)
        self.rng = np.random.default_rng(seed)

    def forward(self, x, training=False):
        if not training or self.rate == 0:
            self._mask = None
            return x
        keep = 1.0 - self.rate
        self._mask = (self.rng.random(x.shape, dtype=np.float32) < keep) * np.asarray(1 / keep, x.dtype)
        return x * self._mask

    def backward(self, grad):
        return grad if self._mask is None else grad * self._mask

    def get_config(self):
        return {"rate": self.rate}


@register
class BatchNorm(Layer):
    """Normalises each channel or feature over the batch; trains faster and steadier.

    Each feature (after Dense) or channel (after Conv2D) becomes
    ``gamma * (x - mean) / sqrt(var + epsilon) + beta``, with ``gamma`` and
    ``beta`` of shape (C,) learned. Training uses the batch's statistics and
    updates running ones; inference uses the running ones (buffers ``mean``
    and ``var``, saved with the model), and so does a frozen layer
    (``trainable = False``) in training, as in Keras: fine-tuning must not
    shift statistics it keeps fixed.

    Args:
        momentum: how slowly the running mean and variance used at inference follow each batch:
            running = momentum × running + (1 − momentum) × batch. A number in [0, 1).
        epsilon: added to the variance before the square root, so a constant feature does not divide
            by zero. A positive number.

    Input shape:
        (batch, features) or (batch, channels, height, width).

    Output shape:
        the input's shape.

    Raises:
        ArgumentError: ``momentum`` outside [0, 1), or ``epsilon`` not positive.
        ShapeError: at build, an input of another rank.
    """

    category = "Regularisation"

    def __init__(self, momentum=0.9, epsilon=1e-5):
        super().__init__()
        self.momentum = args.fraction(self, "momentum", momentum)
        self.epsilon = args.positive_number(self, "epsilon", epsilon)

    def compute_output_shape(self, input_shape):
        self._require_rank(input_shape, (1, 3), "a (features,) or (channels, height, width) input")
        return input_shape

    def weight_shapes(self, input_shape):
        return dict.fromkeys(("gamma", "beta", "mean", "var"), (input_shape[0],))

    def build(self, input_shape):
        out = super().build(input_shape)
        shape = self.weight_shapes(input_shape)["gamma"]
        if "gamma" not in self.params or self.params["gamma"].shape != shape:
            self.params = {"gamma": np.ones(shape, np.float32), "beta": np.zeros(shape, np.float32)}
            self.buffers = {"mean": np.zeros(shape, np.float32), "var": np.ones(shape, np.float32)}
        return out

    @staticmethod
    def _rows(x):
        """(rows, C) view: channels-last memory makes this free for conv outputs."""
        return x.transpose(0, 2, 3, 1).reshape(-1, x.shape[1]) if x.ndim == 4 else x

    @staticmethod
    def _unrows(rows, like):
        if like.ndim == 2:
            return rows
        n, c, h, w = like.shape
        return rows.reshape(n, h, w, c).transpose(0, 3, 1, 2)

    def forward(self, x, training=False):
        r = self._rows(x)
        training = training and self.trainable
        if training:
            xhat, inv_std = self._normalise_batch(r)
        else:
            inv_std = 1.0 / np.sqrt(self.buffers["var"] + np.asarray(self.epsilon, r.dtype))
            xhat = (r - self.buffers["mean"]) * inv_std
        self._xhat, self._inv_std, self._like, self._training = xhat, inv_std, x, training
        out = np.multiply(xhat, self.params["gamma"])
        out += self.params["beta"]
        return self._unrows(out, x)

    def _normalise_batch(self, r):
        """(xhat, 1 / std) from the batch's own statistics, updating the running ones: three passes over
        the batch (mean, centre, variance) and one in place (scale), no other temporaries."""
        n = len(r)
        mean = self.scratch.column_sums(r) / np.asarray(n, r.dtype)
        xhat = r - mean
        var = np.einsum("ij,ij->j", xhat, xhat) / np.asarray(n, r.dtype)
        m = self.momentum
        for name, batch in (("mean", mean), ("var", var)):
            running = self.buffers[name]   # updated in place: others hold references to it
            running *= m
            running += (1 - m) * batch
        inv_std = 1.0 / np.sqrt(var + np.asarray(self.epsilon, var.dtype))
        xhat *= inv_std
        return xhat, inv_std

    def backward(self, grad):
        # The two sums the parameters' gradients need are the same two the input's gradient needs, so each
        # is computed once; the kept xhat is scaled in place as a temporary (one backward per forward).
        g = self._rows(grad)
        xhat, scale = self._xhat, self.params["gamma"] * self._inv_std
        sum_g, sum_gx = self.scratch.column_sums(g), np.einsum("ij,ij->j", g, xhat)
        self.grads = {"gamma": sum_gx, "beta": sum_g}
        dx = np.multiply(g, scale)
        if self._training:   # the batch's statistics depend on x: dx = scale * (g - mean(g) - xhat * mean(g xhat))
            n = np.asarray(len(g), g.dtype)
            xhat *= scale * sum_gx / n
            dx -= xhat
            dx -= scale * sum_g / n
        self._xhat = None
        return self._unrows(dx, self._like)
