"""2-D convolution: W (out_channels, in_channels, kh, kw), b (out_channels,).

Forward is im2col (into columns reused from batch to batch) and a GEMM, a
few images at a time so that each chunk's columns are still in cache for
their product; backward reuses the forward's columns for dW. Inference
keeps no columns: each thread writes its chunks' into one array of its own,
which stays in its core's cache (``_chunk_cols``), and a padded layer makes
no product with the padding where that saves enough (``core.conv_regions``).
For dx, each kernel offset's small GEMM is added straight onto its strided
slice of the input gradient: no columns-sized buffer is written and read
back, which halves the cost of a col2im. Those nine adds run a few images at
a time, so that each chunk's gradient stays in cache between them (30%
faster for vgg_mini's 32-channel layer). A padded strided layer, where some
of those products would land on the padding, makes dx a phase of pixels at a
time instead (``conv_ops.input_grad_phases``). A first layer skips dx.

A 3x3 stride-1 layer with 8 or more channels on each side (VGG's kind) takes
Winograd's F(4x4, 3x3) or F(2x2, 3x3) instead (``core.winograd``): 4x or 2.25x
fewer multiplies.
"""
import functools
import math
import threading

import numpy as np

from .. import conv_ops, conv_regions, initializers, parallel, winograd
from ..keras_names import keras_names
from . import args
from .base import ParamLayer, fmt_shape, register

_forwards = threading.local()   # ``inference``: this thread is inside a Conv2D's inference ``forward``


@register
@keras_names(stride="strides")
class Conv2D(ParamLayer):
    """2-D convolution: slides learned kernels over the image, one output channel per filter.

    Each output channel is the cross-correlation of the input with one kernel
    of shape (in_channels, kh, kw), plus a bias: ``W`` has shape
    (filters, in_channels, kh, kw) and ``b`` (filters,), PyTorch's layout.
    Output size per axis: ``(size + padding on both sides - k) // stride + 1``.

    Args:
        filters: number of kernels, that is output channels. Each kernel has kh × kw × input-channels
            weights and one bias.
        kernel_size: height and width of each kernel, one int for a square. A k × k kernel without
            padding shrinks the map by k − 1.
        stride: step between kernel positions (rows, columns), one int for both. Stride s divides the
            output size by about s; 1 visits every position.
        padding: "valid" (none: the map shrinks), "same" (Keras's: output ceil(input / stride), any odd
            extra row or column at the bottom/right), or an int of zero rows and columns on every side.
        activation: applied to the output, as if that activation layer followed: "relu", "leaky_relu",
            "sigmoid", "tanh", "softmax", or None (or "linear") for none.
        init: how the weights start, a name from ``core.initializers.NAMES``. None (automatic) takes
            he_uniform when the output meets a ReLU (here or in a later activation layer),
            glorot_uniform before tanh or sigmoid, lecun_uniform otherwise. The bias starts at zero.
        seed: seeds this layer's weights alone; None draws them from the model's seed.

    Input shape:
        (batch, channels, height, width), float32.

    Output shape:
        (batch, filters, new_height, new_width).

    Raises:
        ArgumentError: a size that is not a positive int (or pair), an unknown padding, activation or
            initialiser.
        ShapeError: at build, an input that is not an image, or a kernel larger than its padded input.

    Example:
        >>> Conv2D(20, 5).build((1, 28, 28))
        (20, 24, 24)
    """

    category = "Convolution"

    def __init__(self, filters, kernel_size, stride=1, padding="valid", activation=None, init=None, seed=None):
        super().__init__(activation, init, seed)
        self.filters = args.positive_int(self, "filters", filters)
        self.kernel = args.pair(self, "kernel_size", kernel_size)
        self.stride = args.pair(self, "stride", stride)
        self.padding = args.conv_padding(self, padding)

    def compute_output_shape(self, input_shape):
        self._require_rank(input_shape, (3,), "an image input (channels, height, width)")
        c, h, w = input_shape
        self.pads = conv_ops.resolve_padding(self.padding, (h, w), self.kernel, self.stride)
        hp, wp = h + sum(self.pads[0]), w + sum(self.pads[1])
        kh, kw = self.kernel
        if kh > hp or kw > wp:
            raise self.shape_error(f"kernel {fmt_shape((kh, kw), 'x')} is larger than its {fmt_shape((hp, wp), 'x')} "
                                   f"{'padded ' if (hp, wp) != (h, w) else ''}input")
        oh = conv_ops.output_size(h, kh, self.stride[0], sum(self.pads[0]))
        ow = conv_ops.output_size(w, kw, self.stride[1], sum(self.pads[1]))
        self.winograd = winograd.choose(self.kernel, self.stride, c, self.filters, (oh, ow))
        return (self.filters, oh, ow)

    def weight_shapes(self, input_shape):
        return {"W": (self.filters, input_shape[0], *self.kernel), "b": (self.filters,)}

    def build(self, input_shape):
        out = super().build(input_shape)
        shapes = self.weight_shapes(input_shape)
        if "W" not in self.params or self.params["W"].shape != shapes["W"]:
            self.params = {"W": initializers.initialize(self.init, shapes["W"], self.rng),
                           "b": np.zeros(shapes["b"], np.float32)}
        return out

    def _w_matrix(self):
        """W as (kh*kw*C, F): the row order of the channels-last columns."""
        return self.params["W"].transpose(2, 3, 1, 0).reshape(-1, self.filters)

    @property
    def _inference(self):
        """Whether this thread is inside an inference ``forward``: nothing is kept for a backward then.

        Only an inference forward is known to have no backward after it: ``linear_forward`` called alone
        (a loss path's last layer, in training) keeps its columns or tiles. Per thread, not per layer:
        ``predict`` runs pieces of a batch through the same layer on two threads at once, and one piece's
        forward ending must not turn the other's into a training forward.
        """
        return getattr(_forwards, "inference", False)

    def forward(self, x, training=False):
        _forwards.inference = not training
        try:
            return super().forward(x, training)
        finally:
            _forwards.inference = False

    def linear_forward(self, x, then=None):
        if self.winograd:
            return self._winograd_forward(x, then)
        if self.input_shape[0] == 1:
            return self._single_channel_forward(x, then)
        n, (_, oh, ow) = x.shape[0], self.output_shape
        rows, width = oh * ow, self.kernel[0] * self.kernel[1] * self.input_shape[0]
        kept = None if self._inference else self.scratch.get("cols", (n * rows, width), x.dtype)
        self._cols, self._x = kept, x if kept is None else None   # x: for ``_columns`` to make them again
        regions = kept is None and self._regions(2.0 * n * rows * width * self.filters)
        if regions:
            return self._region_forward(x, regions, then)
        out = np.empty((n * rows, self.filters), x.dtype)
        w = self._w_matrix()

        def chunk(xp, a, b):   # columns, product, bias and ``then`` of images a to b, while they are in cache
            cols = self._chunk_cols(kept, a, b, rows, width, x.dtype)
            conv_ops.im2col(xp, self.kernel, self.stride, (oh, ow), cols)
            np.matmul(cols, w, out=out[a * rows:b * rows])
            self._finish(out[a * rows:b * rows], then)
        self._in_chunks(x, rows * (width + self.filters), chunk)
        return conv_ops.to_nchw(out.reshape(n, oh, ow, self.filters))

    def _regions(self, work):
        """The ``Region``s an inference forward of ``work`` flops by padded columns takes instead, or None:
        a call under ``conv_regions.MIN_FLOPS`` does better with the one product of the padded columns."""
        if work < conv_regions.MIN_FLOPS:
            return None
        return conv_regions.edge_regions(tuple(self.input_shape[1:]), self.kernel, self.stride, self.pads,
                                         tuple(self.output_shape[1:]))

    def _region_forward(self, x, regions, then):
        """The output in inference, by ``regions`` of it (``core.conv_regions``): no product with the padding.

        A few images at a time, each region's columns are copied from the
        unpadded input and multiplied by its kernel offsets' weights, into
        one block after another of the thread's own array; one ``take`` puts
        the rows in channels-last order. alexnet_mini's second and third
        layers, 128 images on one thread as ``predict`` gives each: 3.25 ->
        2.85 ms and 3.66 -> 2.80 ms (medians of 95, four runs alike).
        Predicting 2,000 images: 0.93 and 0.95 of the time (medians of eight
        in-process alternations, two runs).

        A chunk holds as many images as the widest region's columns for
        ``CHUNK_BYTES``: sized as the padded columns' chunks are (with the
        output and the input), the chunks were half as large, and the calls
        a region makes per chunk left the layers level with the padded way.
        """
        x = conv_ops.to_nhwc(x)
        n, (f, oh, ow) = len(x), self.output_shape
        by_offset = self._w_matrix().reshape(*self.kernel, -1, f)   # (kh, kw, C, F)
        mats = [by_offset[slice(*r.taps_y), slice(*r.taps_x)].reshape(-1, f) for r in regions]
        out = np.empty((n * oh * ow, f), x.dtype)
        widest = max(r.size() * len(mat) for r, mat in zip(regions, mats))   # floats an image

        def chunk(a, b):
            products = self.scratch.get("region products", ((b - a) * oh * ow, f), x.dtype)
            cols = self.scratch.get("region cols", ((b - a) * widest,), x.dtype)
            start = 0
            for region, mat in zip(regions, mats):
                view = conv_regions.windows(x[a:b], region, self.stride, self.pads)
                stop = start + (b - a) * region.size()
                block = cols[:(stop - start) * len(mat)].reshape(stop - start, len(mat))
                np.copyto(block.reshape(view.shape), view)
                np.matmul(block, mat, out=products[start:stop])
                start = stop
            block = out[a * oh * ow:b * oh * ow]
            np.take(products, conv_regions.order(regions, b - a, (oh, ow)), axis=0, out=block, mode="clip")
            self._finish(block, then)
        per_image = widest * x.itemsize
        flops = 2.0 * f * sum(r.size() * len(mat) for r, mat in zip(regions, mats)) * n
        parallel.run([functools.partial(chunk, a, b) for a, b in conv_ops.batch_chunks(n, per_image, flops)])
        return conv_ops.to_nchw(out.reshape(n, oh, ow, f))

    def _columns(self):
        """The last forward's columns. An inference forward kept none, and a backward after one (a saliency
        map's, rare) runs the forward again keeping them: every prediction would pay for keeping them."""
        if self._cols is None:
            self.linear_forward(self._x)   # outside ``forward``: a training forward, which keeps them
        return self._cols

    def _chunk_cols(self, kept, a, b, rows, width, dtype):
        """Where images a to b's columns go: their rows of the batch's ``kept`` columns, which backward reads,
        or in inference (``kept`` None) one array of the thread's own that each of its chunks reuses.

        Reused, the columns stay in the core's cache for the product that reads them, where a batch's worth
        are a fresh stretch of memory for every chunk: predicting 2,000 images in batches of 256 took 0.96 of
        the time for alexnet_mini and LeNet-5 (medians of eight in-process alternations).
        """
        if kept is not None:
            return kept[a * rows:b * rows]
        return self.scratch.get("chunk cols", ((b - a) * rows, width), dtype)

    def _finish(self, block, then, by_channel=False):
        """Add the bias to a block of the output, then ``then`` (a fused ReLU's ``in_place``), if any: each
        forward path that adds its bias by a pass calls this on every chunk it makes, while the chunk is in
        cache. A single channel laid out channels-last adds it in its product and calls ``then`` alone.

        Args:
            block: rows of the output (N*OH*OW, F), or columns (F, N*OH*OW) with ``by_channel``; rewritten.
            then: None, or a function to apply to the block in place.
            by_channel: the block is laid out channel by channel (``channel_major``).
        """
        block += self.params["b"][:, None] if by_channel else self.params["b"]
        if then is not None:
            then(block)

    def _in_chunks(self, x, floats_per_image, chunk):
        """Pad ``x`` and call ``chunk(padded images, a, b)`` for a few images a to b at a time, on numpynet's threads.

        Each chunk pads its own images and goes on while they are in cache: on
        alexnet_mini's second layer at batch 256 the columns took 1.4 ms and the
        bias 0.3 ms as passes over the whole batch, and on one thread. The
        padded images go into an array of the thread's own, reused by each of
        its chunks, not into the batch's: nothing reads them after the chunk
        (predicting 2,000 images with alexnet_mini, 0.97 of the time again).

        Args:
            x: the input batch, logical NCHW.
            floats_per_image: what ``chunk`` writes per image besides its padded input (columns, output).
            chunk: the work on images a to b of the padded input, given as that slice and a, b.
        """
        x = conv_ops.to_nhwc(x)
        n, image = len(x), self._padded_shape(1)[1:]
        flops = 2.0 * n * np.prod(self.output_shape) * np.prod(self.params["W"].shape[1:])

        def padded(a, b):
            xp = x[a:b]
            if image != x.shape[1:]:   # into the thread's own padded images, whose border stays zero
                xp = self.scratch.get("padded chunk", (b - a, *image), x.dtype, fill=0)
                conv_ops.pad_into(xp, x[a:b], self.pads)
            chunk(xp, a, b)
        chunks = conv_ops.batch_chunks(n, (floats_per_image + math.prod(image)) * x.itemsize, flops)
        parallel.run([functools.partial(padded, a, b) for a, b in chunks])

    def _padded_shape(self, n):
        """The shape of ``n`` images padded, channels-last: (N, H + top + bottom, W + left + right, C)."""
        c, h, w = self.input_shape
        (top, bottom), (left, right) = self.pads
        return (n, h + top + bottom, w + left + right, c)

    def linear_backward(self, grad):
        if self.winograd:
            return self._winograd_backward(grad)
        if self.input_shape[0] == 1:
            return self._single_channel_backward(grad)
        n, f, oh, ow = grad.shape
        g = np.ascontiguousarray(conv_ops.to_nhwc(grad)).reshape(-1, f)
        kh, kw = self.kernel
        c = self.input_shape[0]
        dw = parallel.matmul(self._columns().T, g).reshape(kh, kw, c, f).transpose(3, 2, 0, 1)
        self.grads = {"W": np.ascontiguousarray(dw), "b": self.scratch.column_sums(g)}
        self._cols = self._x = None
        if not self.need_input_grad:
            return None
        phases = conv_ops.input_grad_phases(tuple(self.input_shape[1:]), self.kernel, self.stride, self.pads, (oh, ow))
        if phases is not None:
            return self._input_grad_by_phase(g.reshape(n, oh, ow, f), phases)
        dxp = np.empty(self._padded_shape(n), g.dtype)
        per_kernel_offset = self._weights_by_offset().reshape(kh * kw, f, c)
        rows = oh * ow
        per_sample = (rows * f + dxp[0].size) * g.itemsize
        chunks = conv_ops.batch_chunks(n, per_sample, 2.0 * n * rows * f * c * kh * kw)
        parallel.run([functools.partial(self._chunk_input_grad, g[start * rows:stop * rows], dxp[start:stop],
                                        per_kernel_offset) for start, stop in chunks])
        return conv_ops.to_nchw(conv_ops.unpad_nhwc(dxp, self.pads))

    def _weights_by_offset(self):
        """W as (kh, kw, F, C), contiguous: each kernel offset's (F, C) matrix a block of its own.

        The input gradient's products take whole blocks; picking a phase's
        taps out of W's own layout gathered single floats instead (0.32 ->
        0.09 ms a step for alexnet_mini's third layer, on the caller's thread).
        """
        return np.ascontiguousarray(self.params["W"].transpose(2, 3, 0, 1))

    def _chunk_input_grad(self, g_chunk, dxp_chunk, per_kernel_offset):
        """Zero a chunk of images' padded input gradient, then add their output gradient ``g_chunk`` (rows, F)
        into it: zeroed here, on the chunk's thread and while in cache, not by one thread for the whole batch."""
        dxp_chunk[...] = 0
        m, _, _, c = dxp_chunk.shape
        out_hw = self.output_shape[1:]
        for k, sl in conv_ops.offsets(self.kernel, self.stride, out_hw):
            dxp_chunk[sl] += (g_chunk @ per_kernel_offset[k]).reshape(m, *out_hw, c)

    def _input_grad_by_phase(self, g, phases):
        """The input gradient (logical NCHW) of output gradient ``g`` (N, OH, OW, F), a phase of pixels at a time
        (``conv_ops.input_grad_phases``), a few images at a time on numpynet's threads."""
        n, oh, ow, f = g.shape
        c, h, w = self.input_shape
        by_offset = self._weights_by_offset()
        mats = [by_offset[list(py.taps)][:, list(px.taps)].reshape(-1, c) if py.taps and px.taps else None
                for py, px in phases]
        dx = np.empty((n, h, w, c), g.dtype)
        chunks = conv_ops.batch_chunks(n, (oh * ow * f + h * w * c) * g.itemsize,
                                       2.0 * n * f * c * conv_ops.phase_products(phases))
        parallel.run([functools.partial(self._chunk_input_grad_by_phase, g[a:b], dx[a:b], phases, mats)
                      for a, b in chunks])
        return conv_ops.to_nchw(dx)

    def _chunk_input_grad_by_phase(self, g, dx, phases, mats):
        """Write a chunk of images' input gradient ``dx`` (M, H, W, C), phase by phase, from ``g`` (M, OH, OW, F):
        each phase's pixels are one product of ``g``'s windows and the phase's ``mats`` (None: zero)."""
        for (py, px), mat in zip(phases, mats):
            pixels = dx[:, py.positions(self.stride[0]), px.positions(self.stride[1])]
            if mat is None:
                pixels[...] = 0
                continue
            gp = conv_ops.pad_nhwc(g, ((py.before, py.after), (px.before, px.after)))
            cols = conv_ops.im2col(gp[:, py.first:, px.first:], (len(py.taps), len(px.taps)), (1, 1),
                                   (py.count, px.count))
            pixels[...] = (cols @ mat).reshape(pixels.shape)

    @property
    def channel_major(self):
        """Whether the output is laid out channel by channel (C, N, H, W) in memory rather than channels-last.

        Channels-last with a few channels makes every later elementwise pass,
        pooling window and Flatten run NumPy inner loops of a few floats;
        channel by channel they run along rows of pixels. A first layer of
        fewer than 8 filters (cnn_small's 5) is where that pays.
        """
        return self.input_shape[0] == 1 and self.filters < 8

    def _single_channel_forward(self, x, then):
        """One input channel: columns as (kh*kw, N*OH*OW), one contiguous shifted image per kernel offset.

        A window row of a single channel is only kw floats, too short for a fast copy; a kernel offset's
        slice of the batch copies in runs of a whole output row, every offset in one copy
        (``conv_ops.tap_columns``). The columns end in a row of ones, and
        the product's matrix in the bias: the product adds the bias (as backward's gives its gradient),
        where a pass of its own took a fifth of alexnet_mini's first layer (0.77 -> 0.60 ms forward at
        batch 128, one thread). Laid out channel by channel, the bias is added by rows as before.
        In inference each thread's chunks reuse one array of columns, as ``_chunk_cols`` says: predicting
        2,000 images in batches of 256, 0.90 of the time for cnn_small and 0.94 for LeNet-5 (medians of
        eight in-process alternations), where its columns outweigh the products.
        """
        n, (_, oh, ow) = x.shape[0], self.output_shape
        taps, rows = self.kernel[0] * self.kernel[1], oh * ow
        kept = None if self._inference else self.scratch.get("cols", (taps + 1, n * rows), x.dtype, fill=1)
        self._cols, self._x = kept, x if kept is None else None   # x: for ``_columns`` to make them again
        by_offset = None if kept is None else kept[:taps].reshape(taps, n, oh, ow)   # ones stay in the last row
        w = self.params["W"].reshape(self.filters, -1) if self.channel_major else self._single_channel_matrix()
        out = np.empty((self.filters, n * rows) if self.channel_major else (n * rows, self.filters), x.dtype)

        def chunk(xp, a, b):
            if kept is None:   # inference: the thread's own columns, as ``_chunk_cols``
                cols = self.scratch.get("chunk cols", ((taps + 1) * (b - a) * rows,), x.dtype).reshape(taps + 1, -1)
                cols[taps] = 1
                offsets = cols[:taps].reshape(taps, b - a, oh, ow)
            else:
                cols, offsets = kept[:, a * rows:b * rows], by_offset[:, a:b]
            conv_ops.tap_columns(xp, self.kernel, self.stride, (oh, ow), offsets)
            if self.channel_major:   # F rows: OpenBLAS ran cnn_small's (5, 10) @ (10, N) 2.4x slower than (5, 9)
                np.matmul(w, cols[:taps], out=out[:, a * rows:b * rows])
                self._finish(out[:, a * rows:b * rows], then, by_channel=True)
            else:   # the bias comes with the product
                np.matmul(cols.T, w.T, out=out[a * rows:b * rows])
                if then is not None:
                    then(out[a * rows:b * rows])
        self._in_chunks(x, rows * (taps + 1 + self.filters), chunk)
        if self.channel_major:
            return out.reshape(self.filters, n, oh, ow).transpose(1, 0, 2, 3)
        return conv_ops.to_nchw(out.reshape(n, oh, ow, self.filters))

    def _single_channel_matrix(self):
        """W as (F, kh*kw) with the bias as one more column: the single-channel product's matrix."""
        return np.concatenate([self.params["W"].reshape(self.filters, -1), self.params["b"][:, None]], axis=1)

    def _single_channel_backward(self, grad):
        n, f, oh, ow = grad.shape
        if self.channel_major:
            g_t = np.ascontiguousarray(grad.transpose(1, 0, 2, 3)).reshape(f, -1)
            dw = parallel.matmul(g_t, self._columns().T)
        else:
            g = np.ascontiguousarray(conv_ops.to_nhwc(grad)).reshape(-1, f)
            g_t = g.T
            dw = parallel.matmul(self._columns(), g).T
        # the columns' row of ones gives the bias's gradient as the product's last column
        self.grads = {"W": np.ascontiguousarray(dw[:, :-1]).reshape(self.params["W"].shape),
                      "b": np.ascontiguousarray(dw[:, -1])}
        self._cols = self._x = None
        if not self.need_input_grad:
            return None
        d_cols = (self.params["W"].reshape(f, -1).T @ g_t).reshape(-1, n, oh, ow)
        dxp = np.zeros(self._padded_shape(n), grad.dtype)
        for k, sl in conv_ops.offsets(self.kernel, self.stride, (oh, ow)):
            dxp[sl][..., 0] += d_cols[k]
        return conv_ops.to_nchw(conv_ops.unpad_nhwc(dxp, self.pads))

    def _winograd_forward(self, x, then):
        out_hw = self.output_shape[1:]
        tiling = self.winograd
        x, pads = conv_ops.to_nhwc(x), tiling.tiled_pads(self.pads, out_hw)
        xp = self._xp = conv_ops.pad_nhwc(x, pads, scratch=self.scratch, fill=False)   # each chunk fills its own
        out, tiles = winograd.conv(xp, winograd.kernel_tiles(self.params["W"], tiling), out_hw, tiling,
                                   finish=functools.partial(self._finish, then=then),
                                   interior=None if xp is x else (x, pads))
        self._tiles = None if self._inference else tiles   # backward's, which inference never runs
        return conv_ops.to_nchw(out)

    def _winograd_backward(self, grad):
        c, h, w = self.input_shape
        g = conv_ops.to_nhwc(grad)
        gp = conv_ops.pad_nhwc(g, self.winograd.grad_pads, scratch=self.scratch, name="grad padded", fill=False)
        in_window = (self.pads[0][0], self.pads[1][0], h, w) if self.need_input_grad else None
        dw, dx = winograd.backward(self._xp, gp, self.params["W"], self.output_shape[1:], self.winograd, in_window,
                                   self._tiles, grad=g)
        rows = np.ascontiguousarray(g).reshape(-1, self.filters)
        self.grads = {"W": dw, "b": self.scratch.column_sums(rows)}
        self._xp = self._tiles = None
        return None if dx is None else conv_ops.to_nchw(dx)

    def get_config(self):
        return {"filters": self.filters, "kernel_size": list(self.kernel), "stride": list(self.stride),
                "padding": self.padding, **self.base_config()}
