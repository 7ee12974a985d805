"""Every layer type of numpynet; ``from_config`` is the one place names map to classes.

A layer type of your own: subclass ``Layer`` (or ``ParamLayer``), follow the contract in ``Layer``'s
docstring, and decorate the class with ``@register``.
"""
from .activations import LeakyReLU, ReLU, Sigmoid, Softmax, Tanh
from .base import Layer, ParamLayer, from_config, layer_class, layer_types, register, to_entry
from .conv import Conv2D
from .dense import Dense
from .pooling import AvgPool2D, MaxPool2D
from .regularization import BatchNorm, Dropout
from .reshape import Flatten

__all__ = ["Layer", "ParamLayer", "register", "Conv2D", "MaxPool2D", "AvgPool2D", "Dense", "Flatten", "Dropout",
           "BatchNorm", "ReLU", "LeakyReLU", "Sigmoid", "Tanh", "Softmax", "from_config", "to_entry", "layer_class",
           "layer_types"]
