"""Saving what a view shows as a PNG: ``save_png`` for code and tests, a button for people.

The picture is ``widget.grab()``: exactly the pixels on screen, labels and
colour bars included, so an exported figure needs no re-plotting.
"""
from pathlib import Path

from PySide6.QtCore import QStandardPaths
from PySide6.QtWidgets import QFileDialog, QPushButton, QVBoxLayout

from ..messages import show_error


def save_png(widget, path):
    """Write ``widget``'s current pixels to ``path`` (a .png is appended if missing); returns the path."""
    path = Path(path)
    if path.suffix.lower() != ".png":
        path = path.with_name(path.name + ".png")
    if not widget.grab().save(str(path), "PNG"):
        raise OSError(f"could not write {path}: check that the folder exists and is writable, "
                      f"and that the disk is not full")
    return path


def view_column(view, top, target, file_name):
    """The frame of a view: its control row ``top``, ending in an Export button for ``target``.

    Returns the column under that row, for the caller to add the view's body to.
    """
    top.addWidget(ExportButton(target, file_name))
    column = QVBoxLayout(view)
    column.setContentsMargins(8, 8, 8, 0)
    column.addLayout(top)
    return column


def ask_and_save(widget, default_name, parent=None):
    """Ask where to save (a file dialog), then save; returns the path, or None if cancelled or failed."""
    parent = parent or widget
    folder = QStandardPaths.writableLocation(QStandardPaths.PicturesLocation) or str(Path.home())
    path, _ = QFileDialog.getSaveFileName(parent, "Export as PNG", str(Path(folder) / default_name),
                                          "PNG images (*.png)")
    if not path:
        return None
    try:
        return save_png(widget, path)
    except OSError as exc:
        show_error(parent, "Export failed", str(exc))
        return None


class ExportButton(QPushButton):
    """"Export PNG…": saves ``target`` (a widget) under a name the user picks."""

    def __init__(self, target, default_name, parent=None):
        super().__init__("Export PNG…", parent)
        self.target, self.default_name = target, default_name
        self.setToolTip("Save this view as a PNG image")
        self.clicked.connect(lambda: ask_and_save(self.target, self.default_name, self))
