"""The window's own panels: Data and Training."""
from .data import DataPanel
from .training import TrainingPanel

__all__ = ["DataPanel", "TrainingPanel"]
