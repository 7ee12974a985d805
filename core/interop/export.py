"""Writing a Sequential as an ONNX graph: one chain of nodes, channels-first, with a dynamic batch axis.

Each layer becomes the ONNX operator that computes exactly what its ``forward(training=False)`` does:
Conv with the layer's resolved pads (Keras 'same' puts an odd extra row bottom/right, as ONNX's pads
can say), pools with ``ceil_mode=0`` and, for AvgPool2D, ``count_include_pad=1`` (ours averages over
padded zeros; MaxPool2D's -inf padding never wins, as ONNX ignores pads). Dropout is kept as ONNX
Dropout, an identity at inference that carries the rate back on import. A network whose last layer
is not an output activation gets a Softmax, so the file's output is what ``predict`` returns.
"""
import json
import os
import tempfile
from pathlib import Path

import numpy as np

from ..errors import ModelFileError
from ..layers import AvgPool2D, BatchNorm, Conv2D, Dense, Dropout, Flatten, LeakyReLU, MaxPool2D
from . import ops

INPUT, OUTPUT = "input", "probabilities"


class _Chain:
    """The nodes and initializers of a chain being written; each ``add`` feeds on the previous output."""

    def __init__(self, onnx):
        self.onnx, self.nodes, self.initializers = onnx, [], []
        self.last = INPUT

    def constant(self, name, array):
        self.initializers.append(self.onnx.numpy_helper.from_array(np.asarray(array), name))
        return name

    def weights(self, name, arrays):
        """Initializers ``name.key`` for each array, in the order of ``arrays``; their names."""
        return [self.constant(f"{name}.{key}", a) for key, a in arrays.items()]

    def add(self, op, name, params=(), **attrs):
        out = f"{name}/out"
        self.nodes.append(self.onnx.helper.make_node(op, [self.last, *params], [out], name=name, **attrs))
        self.last = out


def _conv(chain, layer, name):
    chain.add("Conv", name, chain.weights(name, layer.params), kernel_shape=list(layer.kernel),
              strides=list(layer.stride), pads=ops.to_onnx_pads(layer.pads))


def _pool(chain, layer, name):
    attrs = {"kernel_shape": list(layer.pool), "strides": list(layer.stride), "pads": ops.to_onnx_pads(layer.pads)}
    if isinstance(layer, AvgPool2D):
        chain.add("AveragePool", name, count_include_pad=1, **attrs)
    else:
        chain.add("MaxPool", name, **attrs)


def _dense(chain, layer, name):
    chain.add("Gemm", name, chain.weights(name, layer.params))


def _batchnorm(chain, layer, name):
    arrays = {key: {**layer.params, **layer.buffers}[key] for key in ("gamma", "beta", "mean", "var")}
    chain.add("BatchNormalization", name, chain.weights(name, arrays), epsilon=layer.epsilon, momentum=layer.momentum)


def _dropout(chain, layer, name):
    chain.add("Dropout", name, [chain.constant(f"{name}.ratio", np.float32(layer.rate))])


def _activation(chain, layer, name):
    op = ops.ACTIVATION_OPS[type(layer)]
    attrs = {"alpha": layer.alpha} if isinstance(layer, LeakyReLU) else {}
    chain.add(op, name, **attrs)


_WRITERS = {Conv2D: _conv, MaxPool2D: _pool, AvgPool2D: _pool, Dense: _dense, BatchNorm: _batchnorm,
            Dropout: _dropout, Flatten: lambda chain, layer, name: chain.add("Flatten", name, axis=1),
            **dict.fromkeys(ops.ACTIVATION_OPS, _activation)}


def _write_layer(chain, layer):
    writer = _WRITERS.get(type(layer))
    if writer is None:
        raise ModelFileError(f"{layer.name}: ONNX export does not know this layer type; it writes "
                             f"{', '.join(sorted(cls.__name__ for cls in _WRITERS))}")
    writer(chain, layer, layer.name.replace(" #", "_"))
    if getattr(layer, "act", None) is not None:   # activation='relu' and friends, fused into the layer
        _activation(chain, layer.act, f"{layer.name.replace(' #', '_')}_{type(layer.act).__name__}")


def _metadata(model, added_softmax):
    meta = {"input_shape": list(model.input_shape), **{k: model.meta[k] for k in ops.META_KEYS if model.meta.get(k)}}
    if added_softmax:
        meta["softmax_added"] = True
    return {k: v if isinstance(v, str) else json.dumps(v) for k, v in meta.items()}


def to_proto(model):
    """The ONNX ModelProto of a built ``model``, checked by ``onnx.checker``."""
    onnx = ops.require()
    if model.input_shape is None or not model.layers:
        raise ModelFileError("the model has no layers or is not built: give it layers and an input_shape "
                             "before exporting it")
    chain = _Chain(onnx)
    for layer in model.layers:
        _write_layer(chain, layer)
    added_softmax = model.output_activation is None and len(model.output_shape) == 1   # predict's own rule
    if added_softmax:
        chain.add("Softmax", "output_Softmax", axis=-1)
    chain.nodes[-1].output[0] = OUTPUT
    f32 = onnx.TensorProto.FLOAT
    graph = onnx.helper.make_graph(
        chain.nodes, "numpynet", [onnx.helper.make_tensor_value_info(INPUT, f32, ["N", *model.input_shape])],
        [onnx.helper.make_tensor_value_info(OUTPUT, f32, ["N", *model.output_shape])], chain.initializers)
    proto = onnx.helper.make_model(graph, producer_name=ops.PRODUCER, ir_version=ops.IR_VERSION,
                                   opset_imports=[onnx.helper.make_opsetid("", ops.OPSET)])
    onnx.helper.set_model_props(proto, _metadata(model, added_softmax))
    onnx.checker.check_model(proto)
    return proto


def export_onnx(model, path):
    """Write a built model as an ONNX file that onnxruntime, OpenCV's dnn or Netron reads.

    Opset 13, channels-first input ``(N, C, H, W)`` named "input" with a dynamic batch axis,
    output "probabilities" (what ``predict`` returns). Class names, preprocessing mode, input
    shape, dataset and name go in ``metadata_props``. The file appears whole or not at all
    (written beside it, then renamed), and replaces a file already at ``path``: callers that
    must not overwrite (the app's dialog, the CLI) ask first.

    Args:
        model: a built ``Sequential`` of any of numpynet's layers.
        path: the .onnx file to write (its folder must exist).

    Returns:
        ``path``, as a ``pathlib.Path``.

    Raises:
        MissingPackageError: the ``onnx`` package is not installed (``pip install "numpynet-studio[onnx]"``).
        ModelFileError: the model has no layers or no input shape, or ``path`` cannot be written.

    Example:
        >>> from core import zoo
        >>> from core.interop import export_onnx
        >>> export_onnx(zoo.build("lenet5", seed=0), "lenet5.onnx")   # doctest: +SKIP
    """
    path = Path(path)
    data = to_proto(model).SerializeToString()
    if path.is_dir():
        raise ModelFileError(f"{path}: is a folder; give the path of the .onnx file to write")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    except OSError as e:
        raise ModelFileError(f"{path}: cannot write there ({e.strerror or e})") from None
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)   # mkstemp's 0600 would hide the file from everyone else
        os.replace(tmp, path)
    except OSError as e:
        Path(tmp).unlink(missing_ok=True)
        raise ModelFileError(f"{path}: cannot write it ({e.strerror or e})") from None
    return path
