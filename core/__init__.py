"""numpynet core: NumPy-only neural networks. Never imports Qt."""
from . import datasets, runs, zoo
from .errors import (ArgumentError, DatasetError, ImageFileError, MismatchError, MissingPackageError, ModelFileError,
                     NumpynetError, RunError, ShapeError, TrainingError)
from .model import Sequential
from .serialization import load_model

__all__ = ["Sequential", "load_model", "datasets", "zoo", "NumpynetError", "ShapeError", "ArgumentError",
           "ModelFileError", "DatasetError", "ImageFileError", "TrainingError", "MismatchError",
           "MissingPackageError", "RunError", "runs"]
