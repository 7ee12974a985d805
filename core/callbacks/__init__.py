"""Keras-style callbacks: ``fit`` reports to them and knows nothing of who listens."""
from .base import Callback, CallbackList, History
from .progress import ProgressLine, format_eta

__all__ = ["Callback", "CallbackList", "History", "ProgressLine", "format_eta"]
