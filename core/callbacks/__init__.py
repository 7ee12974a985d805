"""Keras-style callbacks: ``fit`` reports to them and knows nothing of who listens.

Keras's standard callbacks are here under Keras's names, with its meanings and defaults.
"""
from .base import Callback, CallbackList, History
from .checkpoint import ModelCheckpoint
from .csv_logger import CSVLogger
from .early_stopping import EarlyStopping
from .learning_rate import LearningRateScheduler, ReduceLROnPlateau
from .progress import ProgressLine, format_eta

__all__ = ["Callback", "CallbackList", "History", "ProgressLine", "format_eta", "EarlyStopping",
           "ModelCheckpoint", "ReduceLROnPlateau", "CSVLogger", "LearningRateScheduler"]
