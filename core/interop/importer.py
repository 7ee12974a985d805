"""Reading an ONNX chain of supported operators into a Sequential with its weights.

The graph is followed from its one image input: each tensor must feed exactly one node (a second
consumer is a branch, which a Sequential cannot hold). Weights come from initializers or Constant
nodes. Each node becomes the layer that computes the same thing, or a ModelFileError names the node,
its operator and what is supported. PyTorch's layouts need no reordering: its Flatten is C, H, W
like ours, and Gemm's ``transB=1`` weight (out, in) is transposed to our Dense (in, out).
"""
import json
from pathlib import Path

import numpy as np

from .. import conv_ops
from ..errors import ArgumentError, ModelFileError, ShapeError
from ..layers import AvgPool2D, BatchNorm, Conv2D, Dense, Dropout, Flatten, LeakyReLU, MaxPool2D, Softmax
from ..layers.base import fmt_shape
from ..model import Sequential
from ..preprocess import MODES
from . import ops, shape_ops

_ACTIVATIONS = {op: cls for cls, op in ops.ACTIVATION_OPS.items()}
_SKIPPED = ("Identity",)
_FLOAT_TYPES = (1, 10, 11, 16)   # TensorProto FLOAT, FLOAT16, DOUBLE, BFLOAT16


class _Refused(Exception):
    """A node that cannot become a layer; the message is completed with the node's name and operator."""


class _Graph:
    """The graph's tensors: constants by name, and which nodes read each computed tensor."""

    def __init__(self, onnx, graph):
        self.onnx = onnx
        self.constants = {t.name: onnx.numpy_helper.to_array(t) for t in graph.initializer}
        self.nodes = []
        for node in graph.node:
            if node.op_type == "Constant":
                self.constants[node.output[0]] = _constant_value(onnx, node)
            else:
                self.nodes.append(node)
        self.readers = {}
        for node in self.nodes:
            for name in dict.fromkeys(node.input):   # a node reading a tensor twice is one reader
                if name and name not in self.constants:
                    self.readers.setdefault(name, []).append(node)

    def constant(self, node, index, what, default=None):
        """Input ``index`` of ``node`` as an array: it must be a weight, not a computed tensor."""
        if index >= len(node.input) or not node.input[index]:
            if default is None:
                raise _Refused(f"has no {what}")
            return default
        name = node.input[index]
        if name not in self.constants:
            raise _Refused(f"takes its {what} from the computed tensor {name!r}; only weights stored in the "
                           f"file (initializers or Constant nodes) are supported")
        return self.constants[name]


def _constant_value(onnx, node):
    """The array a Constant node holds: a tensor, or one of the scalar and list forms."""
    (name, value), = _attrs(onnx, node).items()
    if name == "value":
        return onnx.numpy_helper.to_array(value)
    if name in ("value_float", "value_floats", "value_int", "value_ints"):
        return np.asarray(value)
    raise ModelFileError(f"{_describe(node)} holds a {name}; only numeric constants are supported")


def _attrs(onnx, node):
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def _text(value):
    return value.decode() if isinstance(value, bytes) else value


# ----- padding -------------------------------------------------------------------------------

def _pads(attrs, in_hw, kernel, stride):
    """((top, bottom), (left, right)) from ``pads`` or ``auto_pad``."""
    auto = _text(attrs.get("auto_pad", "NOTSET"))
    if auto == "VALID":
        return (0, 0), (0, 0)
    if auto in ("SAME_UPPER", "SAME_LOWER"):
        pairs = [conv_ops.same_padding(n, k, s) for n, k, s in zip(in_hw, kernel, stride)]
        return tuple(p if auto == "SAME_UPPER" else p[::-1] for p in pairs)
    if auto != "NOTSET":
        raise _Refused(f"has auto_pad {auto!r}; supported: NOTSET, VALID, SAME_UPPER, SAME_LOWER")
    pads = list(attrs.get("pads", [0, 0, 0, 0]))
    if len(pads) != 4:
        raise _Refused(f"has pads {pads}; a 2-D window takes four")
    return ops.from_onnx_pads(pads)


def _conv_padding(pads, in_hw, kernel, stride):
    """Conv2D's padding for ``pads``: 'valid', one int on every side, or Keras 'same' (extra bottom/right)."""
    flat = [p for pair in pads for p in pair]
    if not any(flat):
        return "valid"
    if len(set(flat)) == 1:
        return flat[0]
    if pads == tuple(conv_ops.same_padding(n, k, s) for n, k, s in zip(in_hw, kernel, stride)):
        return "same"
    raise _Refused(f"pads {ops.to_onnx_pads(pads)} are uneven in a way Conv2D cannot hold (it takes equal padding "
                   f"on every side, or 'same' with any extra row and column at the bottom and right)")


def _window(node, attrs, shape, kernel):
    """(stride, pads) of a Conv or pool node, after refusing dilations."""
    if any(d != 1 for d in attrs.get("dilations", [1, 1])):
        raise _Refused(f"has dilations {list(attrs['dilations'])}; only 1 is supported")
    if len(shape) != 3:
        raise _Refused(f"needs an image input (channels, height, width), got {_fmt(shape)}")
    stride = tuple(int(s) for s in attrs.get("strides", [1, 1]))
    return stride, _pads(attrs, shape[1:], kernel, stride)


def _fmt(shape):
    return fmt_shape(("N", *shape))


# ----- one node -> layer (and its weights) ---------------------------------------------------

def _conv(graph, node, attrs, shape):
    w = graph.constant(node, 1, "weight")
    if w.ndim != 4:
        raise _Refused(f"has a {w.ndim}-D weight; Conv2D takes (out, in, kh, kw)")
    if attrs.get("group", 1) != 1:
        raise _Refused(f"is a grouped convolution (group={attrs['group']}); only group=1 is supported")
    b = graph.constant(node, 2, "bias", np.zeros(w.shape[0], np.float32))
    kernel = w.shape[2:]
    stride, pads = _window(node, attrs, shape, kernel)
    layer = Conv2D(w.shape[0], kernel, stride=stride, padding=_conv_padding(pads, shape[1:], kernel, stride))
    return layer, {"W": w, "b": b}


def _pool(graph, node, attrs, shape):
    kernel = tuple(int(k) for k in attrs.get("kernel_shape", ()))
    if len(kernel) != 2:
        raise _Refused(f"has kernel_shape {list(kernel)}; a 2-D pool takes two sizes")
    stride, pads = _window(node, attrs, shape, kernel)
    flat = {p for pair in pads for p in pair}
    if len(flat) != 1:
        raise _Refused(f"has pads {ops.to_onnx_pads(pads)}; pooling layers take one padding for every side")
    padding = flat.pop()
    if attrs.get("ceil_mode", 0) and _ceil_changes_size(shape[1:], kernel, stride, padding):
        raise _Refused("has ceil_mode=1, which adds a partial window here; pooling layers round the size down")
    if node.op_type == "AveragePool":
        if padding and not attrs.get("count_include_pad", 0):
            raise _Refused("averages without the padded zeros (count_include_pad=0); AvgPool2D counts them, "
                           "as PyTorch's default does")
        return AvgPool2D(kernel, stride, padding), {}
    if attrs.get("storage_order", 0):
        raise _Refused("has storage_order=1 (column-major indices); only 0 is supported")
    return MaxPool2D(kernel, stride, padding), {}


def _ceil_changes_size(in_hw, kernel, stride, padding):
    return any((n + 2 * padding - k) % s for n, k, s in zip(in_hw, kernel, stride))


def _gemm(graph, node, attrs, shape):
    if attrs.get("transA", 0):
        raise _Refused("has transA=1; the input must be the (N, features) left operand")
    w = graph.constant(node, 1, "weight")
    if w.ndim != 2:
        raise _Refused(f"has a {w.ndim}-D weight; Dense takes a matrix")
    w = w.T if attrs.get("transB", 0) else w
    w = w * np.float32(attrs.get("alpha", 1.0))
    b = graph.constant(node, 2, "bias", np.zeros(w.shape[1], np.float32)) * np.float32(attrs.get("beta", 1.0))
    return Dense(w.shape[1]), {"W": w, "b": _bias(b, w.shape[1])}


def _matmul(graph, node, attrs, shape):
    """MatMul by a weight; the Add of a bias that follows it is folded in by ``_fold_add``."""
    w = graph.constant(node, 1, "weight")
    if w.ndim != 2:
        raise _Refused(f"multiplies by a {w.ndim}-D tensor; only a weight matrix (features, units) is supported")
    return Dense(w.shape[1]), {"W": w, "b": np.zeros(w.shape[1], np.float32)}


def _bias(b, units):
    if b.size not in (1, units):
        raise _Refused(f"has a bias of shape {fmt_shape(b.shape)} for {units} units")
    return np.broadcast_to(b.reshape(-1), (units,))


def _batchnorm(graph, node, attrs, shape):
    if attrs.get("training_mode", 0):
        raise _Refused("is in training mode; export the network in inference (eval) mode")
    arrays = {key: graph.constant(node, i + 1, key) for i, key in enumerate(("gamma", "beta", "mean", "var"))}
    layer = BatchNorm(momentum=float(attrs.get("momentum", 0.9)), epsilon=float(attrs.get("epsilon", 1e-5)))
    return layer, arrays


def _dropout(graph, node, attrs, shape):
    ratio = graph.constant(node, 1, "ratio", np.float32(attrs.get("ratio", 0.5)))
    return Dropout(float(np.asarray(ratio).reshape(-1)[0])), {}


def _flatten(graph, node, attrs, shape):
    if attrs.get("axis", 1) != 1:
        raise _Refused(f"flattens from axis {attrs['axis']}; only axis=1 (keeping the batch axis) is supported")
    return Flatten(), {}


def _reshape(graph, node, attrs, shape):
    target = [int(d) for d in graph.constant(node, 1, "shape").reshape(-1)]
    size = int(np.prod(shape))
    batch = (-1, shape_ops.BATCH) if attrs.get("allowzero", 0) else (0, -1, shape_ops.BATCH)  # 0: copy that size
    flat = len(target) == 2 and (target[1] == size or (target[1] == -1 and target[0] in batch))
    if not flat:
        target = ["N" if d == shape_ops.BATCH else d for d in target]
        raise _Refused(f"reshapes to {target}; only a reshape to (N, -1), flattening each sample, is supported")
    return Flatten(), {}


def _activation(graph, node, attrs, shape):
    cls = _ACTIVATIONS[node.op_type]
    if cls is LeakyReLU:
        return LeakyReLU(float(attrs.get("alpha", 0.01))), {}
    if cls is Softmax and (len(shape) != 1 or attrs.get("axis", -1) not in (1, -1)):
        raise _Refused(f"takes a softmax over axis {attrs.get('axis', -1)} of {_fmt(shape)}; only over the "
                       f"classes of a (N, classes) input is supported")
    return cls(), {}


_READERS = {"Conv": _conv, "MaxPool": _pool, "AveragePool": _pool, "Gemm": _gemm, "MatMul": _matmul,
            "BatchNormalization": _batchnorm, "Dropout": _dropout, "Flatten": _flatten, "Reshape": _reshape,
            **dict.fromkeys(_ACTIVATIONS, _activation)}
SUPPORTED = [*sorted([*_READERS, "Add (after MatMul)", *_SKIPPED]),
             "and Shape, Gather, Unsqueeze, Squeeze, Concat, Cast computing a Reshape's (N, -1)"]


# ----- the chain -----------------------------------------------------------------------------

def _describe(node):
    return f"node {node.name or node.output[0]!r} ({node.op_type})"


def _input(graph_proto, graph):
    """The name and (C, H, W) or (features,) shape of the one input that is not a weight."""
    inputs = [i for i in graph_proto.input if i.name not in graph.constants]
    if len(inputs) != 1:
        raise _Refused(f"the graph has {len(inputs)} data inputs ({', '.join(i.name for i in inputs)}); "
                       f"a Sequential takes one")
    if inputs[0].type.tensor_type.elem_type not in _FLOAT_TYPES:
        raise _Refused(f"the input {inputs[0].name!r} is not a float tensor; images come in as floats in [0, 1]")
    dims = inputs[0].type.tensor_type.shape.dim
    shape = tuple(d.dim_value for d in dims[1:])
    if len(dims) not in (2, 4) or not all(shape):
        sizes = ", ".join(str(d.dim_value or d.dim_param or "?") for d in dims)
        raise _Refused(f"the input {inputs[0].name!r} has shape ({sizes}); expected (N, channels, height, width) "
                       f"or (N, features) with every size but the batch fixed")
    return inputs[0].name, shape


def _next_node(graph, tensor, outputs):
    """The one node that reads ``tensor`` (its Shape readers aside: ``shape_ops`` folds them)."""
    readers = [node for node in graph.readers.get(tensor, []) if node.op_type != "Shape"]
    if len(readers) > 1:
        raise _Refused(f"the graph branches: tensor {tensor!r} feeds {len(readers)} nodes "
                       f"({', '.join(_describe(n) for n in readers)}); only a chain of layers is supported")
    if not readers and tensor not in outputs:
        raise _Refused(f"tensor {tensor!r} leads nowhere: the chain never reaches the graph's output")
    return readers[0] if readers else None


def _fold_add(graph, node, arrays, outputs):
    """The Add that follows a MatMul, its bias merged into ``arrays``; None when no Add follows."""
    add = _next_node(graph, node.output[0], outputs)
    if add is None or add.op_type != "Add":
        return None
    bias_at = [i for i, name in enumerate(add.input) if name != node.output[0]]
    try:
        if len(bias_at) != 1:
            raise _Refused("adds the MatMul's output to itself; only a bias weight is supported")
        arrays["b"] = _bias(graph.constant(add, bias_at[0], "bias"), arrays["W"].shape[1])
    except _Refused as e:
        raise ModelFileError(f"{_describe(add)} {e}") from None
    return add


def _fold_shape(graph, shape_node, shape):
    try:
        return shape_ops.fold(graph, shape_node, shape, lambda n: _attrs(graph.onnx, n))
    except (IndexError, ValueError, TypeError) as e:
        raise _Refused(f"the shape computed from {_describe(shape_node)} cannot be followed ({e})") from None


def _layers(graph, tensor, shape, outputs):
    """[(layer, weights, node)] along the chain from ``tensor`` to the graph's output."""
    found, visited = [], set()
    while True:
        for reader in graph.readers.get(tensor, []):
            if reader.op_type == "Shape":
                visited.update(id(n) for n in _fold_shape(graph, reader, shape))
        node = _next_node(graph, tensor, outputs)
        if node is None:
            break
        if id(node) in visited:
            raise _Refused(f"the graph has a cycle through {_describe(node)}")
        visited.add(id(node))
        extra = [o for o in node.output[1:] if o and graph.readers.get(o)]
        if extra:
            raise _Refused(f"the graph branches: {_describe(node)} has a second output {extra[0]!r} that is used")
        tensor = node.output[0]
        if node.op_type in _SKIPPED:
            continue
        if node.op_type not in _READERS:
            raise ModelFileError(f"{_describe(node)}: the operator {node.op_type} is not supported; "
                                 f"supported: {', '.join(SUPPORTED)}")
        try:
            layer, arrays = _READERS[node.op_type](graph, node, _attrs(graph.onnx, node), shape)
            shape = layer.build(shape)
        except _Refused as e:
            raise ModelFileError(f"{_describe(node)} {e}") from None
        except (ArgumentError, ShapeError) as e:
            raise ModelFileError(f"{_describe(node)}: {e}") from None
        add = _fold_add(graph, node, arrays, outputs) if node.op_type == "MatMul" else None
        if add is not None:
            visited.add(id(add))
            tensor = add.output[0]
        found.append((layer, arrays, node))
    stray = [n for n in graph.nodes if id(n) not in visited]
    if stray:
        raise _Refused(f"the graph branches: {_describe(stray[0])} is off the chain from input to output")
    return found


def _meta(model_proto, path, added_softmax, classes):
    """What numpynet reads from metadata_props, each kept only when it is what the app expects."""
    props = {p.key: p.value for p in model_proto.metadata_props}
    meta = {"imported_from": Path(path).name, "producer": model_proto.producer_name or "unknown"}
    names = _json(props.get("class_names"))
    if isinstance(names, list) and len(names) == classes and all(isinstance(n, str) for n in names):
        meta["class_names"] = names
    if props.get("preprocessing") in MODES:
        meta["preprocessing"] = props["preprocessing"]
    for key in ("dataset", "name"):
        if props.get(key):
            meta[key] = props[key]
    if added_softmax:
        meta["softmax_added"] = True
    return meta


def _json(text):
    try:
        return json.loads(text) if text else None
    except ValueError:
        return None


def _read(path):
    onnx = ops.require()
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"{path}: no such ONNX file")
    try:
        return onnx, onnx.load(str(path))
    except Exception as e:   # noqa: BLE001 - protobuf's decode errors share no base class worth naming
        raise ModelFileError(f"{path}: not an ONNX model ({e})") from None


def import_onnx(path):
    """Read an ONNX file holding a chain of supported operators into a Sequential with its weights.

    Supported: Conv, MaxPool, AveragePool, Gemm, MatMul + Add, Relu, LeakyRelu, Sigmoid, Tanh,
    Softmax, Flatten, Reshape to (N, -1) (also by the batch size read with Shape), BatchNormalization,
    Dropout and Identity; channels-first input, weights as initializers or Constant nodes, padding
    as ``pads`` or ``auto_pad``. A network that ends in logits gets a Softmax layer, so ``predict``
    gives probabilities and training fuses it with CrossEntropy; ``meta['softmax_added']`` records
    it and ``summary`` says so. Class names and preprocessing come from the metadata when they fit.
    The model is returned uncompiled.

    Args:
        path: the .onnx file to read.

    Returns:
        A built ``Sequential`` holding the file's weights.

    Raises:
        MissingPackageError: the ``onnx`` package is not installed (``pip install "numpynet-studio[onnx]"``).
        ModelFileError: the file is missing or not ONNX, the graph branches, or a node cannot become a
            layer; the message names the file, the node, its operator and what is supported.

    Example:
        >>> from core.interop import import_onnx
        >>> model = import_onnx("lenet_torch.onnx")   # doctest: +SKIP
        >>> model.predict(x_test[:5]).argmax(axis=1)   # doctest: +SKIP
    """
    onnx, proto = _read(path)
    outputs = {o.name for o in proto.graph.output}
    try:
        graph = _Graph(onnx, proto.graph)
        if len(outputs) != 1:
            raise _Refused(f"the graph has {len(outputs)} outputs; a Sequential has one")
        tensor, shape = _input(proto.graph, graph)
        found = _layers(graph, tensor, shape, outputs)
    except _Refused as e:
        raise ModelFileError(f"{path}: {e}") from None
    except ModelFileError as e:
        raise ModelFileError(f"{path}: {e}") from None
    if not found:
        raise ModelFileError(f"{path}: the graph holds no layers")
    layers = [layer for layer, _, _ in found]
    model = Sequential(layers, input_shape=shape)
    added_softmax = model.output_activation is None and len(model.output_shape) == 1
    if added_softmax:
        model.add(Softmax())
    for layer, arrays, node in found:
        _set_weights(layer, arrays, f"{path}: {_describe(node)}")
    model.meta = _meta(proto, path, added_softmax, model.output_shape[-1])
    return model


def _set_weights(layer, arrays, where):
    for key, value in arrays.items():
        target = layer.params.get(key, layer.buffers.get(key))
        value = np.asarray(value)
        if value.shape != target.shape:
            raise ModelFileError(f"{where}: its {key} has shape {fmt_shape(value.shape)}, "
                                 f"the layer needs {fmt_shape(target.shape)}")
        if not np.all(np.isfinite(value)):
            raise ModelFileError(f"{where}: its {key} holds NaN or infinite values")
        np.copyto(target, value, casting="unsafe")
