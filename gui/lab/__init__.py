"""The Lab tab's pages: each stresses, maps, operates on or questions the current model.

A page is a QWidget built from the ``AppState`` alone. It reads the model
through its own ``ModelSource`` (never the live model), computes on a worker,
and edits only copies. ``pages(state)`` lists them in the order the tabs show.
A page that wants a test image opened in Inside emits ``inspectRequested(int)``;
the Lab panel forwards it.
"""
from .confidence import ConfidencePage
from .point_map import PointMapPage
from .robustness import RobustnessPage
from .surgery import SurgeryPage


def pages(state):
    """[(title, widget)] for the Lab tab, in order."""
    return [("Robustness", RobustnessPage(state)),
            ("Map", PointMapPage(state)),
            ("Surgery", SurgeryPage(state)),
            ("Confidence", ConfidencePage(state)),
            ]
