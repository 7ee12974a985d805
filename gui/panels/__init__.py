"""The window's tabs, one panel per file; the widgets they are made of live in ``gui.views``
(and ``gui.editor`` for the architecture editor's parts)."""
from .architecture import ArchitecturePanel
from .data import DataPanel
from .draw import DrawPanel
from .evaluation import EvaluationPanel
from .inside import InsidePanel
from .lab import LabPanel
from .runs import RunsPanel
from .training import TrainingPanel

__all__ = ["ArchitecturePanel", "DataPanel", "DrawPanel", "EvaluationPanel", "InsidePanel", "LabPanel",
           "RunsPanel", "TrainingPanel"]
