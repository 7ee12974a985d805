"""The point-and-click architecture editor (issue 6): ``ArchitecturePanel(state)``.

Imported lazily so the Qt-free parts (``document``, ``fields``) load without Qt.
"""
__all__ = ["ArchitecturePanel"]


def __getattr__(name):
    if name == "ArchitecturePanel":
        from .panel import ArchitecturePanel
        return ArchitecturePanel
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
