"""Inference with each BatchNorm folded into the convolution or Dense layer before it.

In inference a BatchNorm is a fixed scale ``s = gamma / sqrt(var + epsilon)``
and shift ``t = beta - mean * s`` per channel. After a layer with no
activation of its own, ``(x W + b) s + t`` is one layer with the weights
``W s`` and the bias ``b s + t`` (each output channel scaled): the
normalisation's pass over the activations goes, and a ReLU after it runs
inside the layer, on each piece of its output while in cache
(``ParamLayer.forward``), instead of as another pass. PyTorch's
``fuse_conv_bn_eval`` and ``fuse_linear_bn_eval`` fold the same way.
Training never folds: there BatchNorm normalises by each batch's own
statistics, which change with every batch.

``predict``, ``evaluate`` (and so ``fit``'s validation) and the Evaluation
view's ``inspect.evaluate_predictions`` run the folded layers; ``forward``,
``scores`` and the Inside view's layer-by-layer pass run the layers as they
are, each BatchNorm's own output there to see.
"""
import copy

import numpy as np

from .layers import BatchNorm, Conv2D, Dense, ReLU


def folded(layers, samples):
    """``layers`` as an inference pass runs them: each BatchNorm folded into a Conv2D or Dense before it.

    A fold needs the layer before the BatchNorm to be a Conv2D or Dense of
    numpynet's own with no activation (an activation between them is not
    linear). A ReLU right after the BatchNorm joins the folded layer. Every
    other layer is left as it is, the same object. The outputs are those of
    the layers one by one, up to float32 rounding (about 1e-7 of their size).

    Folding rewrites the layer's weights, once a call: a pair is folded only
    when the call's ``samples`` give the BatchNorm more values to normalise
    than the layer has weights. The draw pad predicts one image at a time:
    folding every pair of vgg_mini, its Dense(256)'s 800K weights for 256
    values an image among them, took that prediction from 3.0 to 3.9 ms
    (medians of 30 alternations); folded this way it stays at 3.0 ms.

    Args:
        layers: a model's layers in order, or the body of its logits path (``Sequential.logits_path``).
        samples: how many images (or rows) the call runs through them.

    Returns:
        A new list: the layers not folded, and a new layer for each folded pair (or triple).
    """
    out, i = [], 0
    while i < len(layers):
        layer, norm = layers[i], (layers[i + 1] if i + 1 < len(layers) else None)
        if not _foldable(layer, norm) or samples * np.prod(norm.output_shape) < layer.params["W"].size:
            out.append(layer)
            i += 1
            continue
        relu = i + 2 < len(layers) and type(layers[i + 2]) is ReLU
        out.append(_fold(layer, norm, relu))
        i += 3 if relu else 2
    return out


def _foldable(layer, norm):
    return type(layer) in (Conv2D, Dense) and layer.act is None and type(norm) is BatchNorm


def _fold(layer, norm, relu):
    """A copy of ``layer`` with ``norm``'s scale and shift in its weights and bias, and a ReLU fused when
    ``relu``. The copy shares everything else with the layer, its reused buffers too (``core.scratch``)."""
    w = layer.params["W"]
    scale, shift = norm.running_scale_shift(w.dtype)
    by_output = scale.reshape(-1, 1, 1, 1) if isinstance(layer, Conv2D) else scale   # W's output axis: 0, or 1
    twin = copy.copy(layer)
    twin.params = {"W": (w * by_output).astype(w.dtype), "b": (layer.params["b"] * scale + shift).astype(w.dtype)}
    twin.act = ReLU() if relu else None
    return twin
