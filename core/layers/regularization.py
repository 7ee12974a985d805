"""Dropout and BatchNorm: the layers that behave differently in training."""
import functools

import numpy as np

from .. import memory_order, parallel
from . import args
from .activations import relu_gradient
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
        # drawn in x's memory order (channels-last after a convolution), so that x * mask runs along
        # the same rows in both instead of crossing them
        axes = memory_order.axes(x)
        shape = tuple(x.shape[a] for a in axes)
        mask = (self.rng.random(shape, dtype=np.float32) < keep) * np.asarray(1 / keep, x.dtype)
        self._mask = mask.transpose(np.argsort(axes))
        return x * self._mask

    def backward(self, grad):
        return grad if self._mask is None else grad * self._mask

    def get_config(self):
        return {"rate": self.rate}


WIDE_ROW = 512          # floats, at least, in the inner loop of a per-channel pass (``_wide_blocks``)
BLOCK_FLOATS = 1 << 18  # floats of each array in a block of rows: 1 MB of float32, within a core's L2 cache


def _wide_blocks(rows, arrays, vectors):
    """Blocks of ``rows`` of (rows, C) ``arrays`` for per-channel passes, as wide rows, with ``vectors`` to match.

    NumPy runs ``x * scale`` of a (rows, C) array and a (C,) vector as an
    inner loop of C floats a row: with vgg_mini's 32 channels a pass took
    1.5x as long as over rows of 512 floats. So the rows go k at a time as
    one row of k*C floats (a free reshape of C-contiguous memory), against
    the vectors tiled k times; the last few rows, fewer than k, go as they
    are. A block of ``BLOCK_FLOATS`` stays in cache from one pass to the
    next. Smaller blocks (256 KB) made the passes slower on two threads, which
    took turns at the interpreter between the blocks' short NumPy calls.

    Args:
        rows: a slice of the arrays' rows (a thread's part).
        arrays: (rows, C) arrays to cut alike.
        vectors: (C,) vectors, one a channel.

    Yields:
        (the arrays' blocks, the vectors as wide as their rows).
    """
    c = arrays[0].shape[1]
    k = -(-WIDE_ROW // c) if all(a.flags.c_contiguous for a in arrays) else 1
    whole = rows.stop - (rows.stop - rows.start) % k
    step = k * max(1, BLOCK_FLOATS // (k * c))
    tiled = [np.tile(v, k) for v in vectors]
    for start in range(rows.start, whole, step):
        stop = min(start + step, whole)
        yield [a[start:stop].reshape(-1, k * c) for a in arrays], tiled
    if whole < rows.stop:
        yield [a[whole:rows.stop] for a in arrays], vectors


def _by_channel(sums, c):
    """Per-channel totals of sums over ``_wide_blocks``' wide rows (k*C floats)."""
    return sums.reshape(-1, c).sum(axis=0)


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

    def forward(self, x, training=False, then=None):
        """The normalised batch; ``then`` (a ReLU's ``in_place`` after it, ``core.model._forward_path``), if given,
        rewrites each block of rows of the output while it is in cache, on the thread that made it.

        Args:
            x: the batch, (N, C) or (N, C, H, W).
            training: normalise by the batch's statistics (and update the running ones), else the running ones.
            then: None, or a function to apply to each block of the output in place.
        """
        r = self._rows(x)
        parts = parallel.row_parts(r)
        # gamma * (x - mean) * inv_std + beta as one scale and one shift per channel: two passes
        if training and self.trainable:
            centred, inv_std = self._centre_batch(r, parts)
            source, scale, shift = centred, self.params["gamma"] * inv_std, self.params["beta"]
        else:
            centred, inv_std = None, self._running_inv_std(r.dtype)
            source, (scale, shift) = r, self.running_scale_shift(r.dtype)
        self._x, self._centred, self._inv_std, self._like = r, centred, inv_std, x
        out = np.empty_like(source)

        def normalise(rows):
            for (s, o), (sc, sh) in _wide_blocks(rows, (source, out), (scale, shift)):
                np.multiply(s, sc, out=o)
                o += sh
                if then is not None:
                    then(o)
        parallel.run([functools.partial(normalise, rows) for rows in parts])
        return self._unrows(out, x)

    def running_scale_shift(self, dtype=np.float32):
        """The per-channel ``(scale, shift)`` that inference applies, ``x * scale + shift``, from the running
        statistics: ``gamma / sqrt(var + epsilon)`` and ``beta - mean * scale``. ``core.inference`` folds them
        into the layer before.

        Args:
            dtype: the dtype epsilon is added in (the batch's).
        """
        scale = self.params["gamma"] * self._running_inv_std(dtype)
        return scale, self.params["beta"] - self.buffers["mean"] * scale

    def _running_inv_std(self, dtype):
        return 1.0 / np.sqrt(self.buffers["var"] + np.asarray(self.epsilon, dtype))

    def _centre_batch(self, r, parts):
        """(x - mean, 1 / std) from the batch's own statistics, updating the running ones: two passes over
        the batch (mean, centre) and one reading it (variance); normalising is left to the output's scale.
        Each pass runs a block of rows per thread (``parallel.row_parts``), their sums added after."""
        n = np.asarray(len(r), r.dtype)
        mean = sum(parallel.run([functools.partial(self.scratch.column_sums, r[rows]) for rows in parts])) / n
        centred = np.empty_like(r)

        def centre(rows):
            squares = 0
            for (block, c), (m,) in _wide_blocks(rows, (r, centred), (mean,)):
                np.subtract(block, m, out=c)
                squares = squares + _by_channel(np.einsum("ij,ij->j", c, c), len(mean))
            return squares
        var = sum(parallel.run([functools.partial(centre, rows) for rows in parts])) / n
        m = self.momentum
        for name, batch in (("mean", mean), ("var", var)):
            running = self.buffers[name]   # updated in place: others hold references to it
            running *= m
            running += (1 - m) * batch
        return centred, 1.0 / np.sqrt(var + np.asarray(self.epsilon, var.dtype))

    def backward(self, grad, rectified=None):
        """The input's gradient, and the parameters' in ``grads``.

        Args:
            grad: the output's gradient.
            rectified: None, or the output of a ReLU right after this layer (``ReLU.rectified``) when ``grad`` is
                that ReLU's output gradient: it is masked where the ReLU's output is not positive, as the ReLU's
                backward would, a block of rows at a time as the sums read it (``core.model._backward_path``).
        """
        # The two sums the parameters' gradients need are the same two the input's gradient needs, so each
        # is computed once. xhat = centred * inv_std is never made: the per-channel inv_std is folded into
        # the sums and factors, and the kept centred input is scaled in place as a temporary.
        g = self._rows(grad)
        parts = parallel.row_parts(g)
        batch_stats = self._centred is not None
        inv_std = self._inv_std
        centred = self._centred if batch_stats else self._x - self.buffers["mean"]
        scale = self.params["gamma"] * inv_std
        relu = None if rectified is None else (self._rows(rectified), np.empty_like(g))
        sums = parallel.run([functools.partial(self._gradient_sums, g, centred, rows, relu) for rows in parts])
        g = g if relu is None else relu[1]   # the ReLU's gradient, made by the sums' pass
        sum_g, sum_gx = sum(s[0] for s in sums), sum(s[1] for s in sums) * inv_std
        self.grads = {"gamma": sum_gx, "beta": sum_g}
        dx = np.empty_like(g)
        n = np.asarray(len(g), g.dtype)
        # the batch's statistics depend on x: dx = scale * (g - mean(g) - xhat * mean(g xhat))
        centred_factor, shift = scale * sum_gx * inv_std / n, scale * sum_g / n

        def input_grad(rows):
            for (gb, c, d), (sc, cf, sh) in _wide_blocks(rows, (g, centred, dx), (scale, centred_factor, shift)):
                np.multiply(gb, sc, out=d)
                if batch_stats:
                    c *= cf
                    d -= c
                    d -= sh
        parallel.run([functools.partial(input_grad, rows) for rows in parts])
        self._x = self._centred = None
        return self._unrows(dx, self._like)

    def _gradient_sums(self, g, centred, rows, relu=None):
        """sum(g) and sum(g * centred) over a part of the rows, per channel.

        With ``relu``, (the ReLU's kept output, where its gradient goes), g is
        first the ReLU's gradient (``relu_gradient``), each block made and
        written while it is in cache, just before the products read it.
        """
        arrays = (g, centred) if relu is None else (g, centred, *relu)
        products = 0
        for blocks, _ in _wide_blocks(rows, arrays, ()):
            gb = blocks[0] if relu is None else relu_gradient(blocks[2], blocks[0], blocks[3])
            products = products + _by_channel(np.einsum("ij,ij->j", gb, blocks[1]), g.shape[1])
        return self.scratch.column_sums((g if relu is None else relu[1])[rows]), products
