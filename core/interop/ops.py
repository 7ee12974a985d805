"""The facts export and import share: the opset, activation ops, metadata keys, and the lazy ``onnx`` import.

Padding conversions live here too, so both directions agree on ONNX's ``pads``
order (``[top, left, bottom, right]`` for 2-D) by construction.
"""
import importlib

from ..errors import MissingPackageError
from ..layers import LeakyReLU, ReLU, Sigmoid, Softmax, Tanh

OPSET = 13          # onnxruntime, OpenCV's dnn and browser runtimes all read it; Softmax takes axis=-1 from here on
IR_VERSION = 8      # the IR that opsets 13-16 shipped with: readers older than the newest onnx still open the file
PRODUCER = "numpynet-studio"
INSTALL_HINT = 'pip install "numpynet-studio[onnx]"'

# numpynet activation layer <-> ONNX operator (LeakyReLU also carries alpha).
ACTIVATION_OPS = {ReLU: "Relu", LeakyReLU: "LeakyRelu", Sigmoid: "Sigmoid", Tanh: "Tanh", Softmax: "Softmax"}

# metadata_props keys; list values are JSON text.
META_KEYS = ("class_names", "preprocessing", "input_shape", "dataset", "name")


def require(module="onnx"):
    """Import ``module`` (onnx by default) now, or say how to install the extra that brings it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingPackageError(f"ONNX export and import need the '{module.split('.')[0]}' package, which is not "
                               f"installed; add it with: {INSTALL_HINT}") from None


def to_onnx_pads(pads):
    """((top, bottom), (left, right)) -> ONNX's [top, left, bottom, right]."""
    (t, b), (left, r) = pads
    return [t, left, b, r]


def from_onnx_pads(pads):
    """ONNX's [top, left, bottom, right] -> ((top, bottom), (left, right))."""
    t, left, b, r = (int(p) for p in pads)
    return (t, b), (left, r)
