"""ONNX in and out: ``export_onnx(model, path)`` and ``import_onnx(path) -> Sequential``.

The ``onnx`` package is an optional extra (``pip install "numpynet-studio[onnx]"``), imported only
when one of these runs, so the core imports without it.
"""
from .export import export_onnx
from .importer import import_onnx

__all__ = ["export_onnx", "import_onnx"]
