"""numpynet core: NumPy-only neural networks. Never imports Qt."""
from . import allocator, datasets, runs, zoo
from .errors import (ArgumentError, DatasetError, ImageFileError, MismatchError, MissingPackageError, ModelFileError,
                     NumpynetError, RunError, ShapeError, TrainingError)
from .model import Sequential
from .serialization import load_model

allocator.keep_freed_memory()   # before any dataset or batch is allocated (see core.allocator)

__all__ = ["Sequential", "load_model", "datasets", "zoo", "NumpynetError", "ShapeError", "ArgumentError",
           "ModelFileError", "DatasetError", "ImageFileError", "TrainingError", "MismatchError",
           "MissingPackageError", "RunError", "runs"]
