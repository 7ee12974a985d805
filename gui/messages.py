"""Messages to the user: errors with details to expand, and the diverged-run dialog.

Boxes are shown with ``open()`` (window-modal, non-blocking): a message from a
worker arrives while the event loop runs, and nothing waits on the user to
carry on. Each box deletes itself when closed.
"""
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox


def _box(parent, icon, title, text, informative="", details=""):
    box = QMessageBox(icon, title, text, QMessageBox.Close, parent)
    box.setAttribute(Qt.WA_DeleteOnClose)
    box.setTextFormat(Qt.PlainText)
    if informative:
        box.setInformativeText(informative)
    if details:
        box.setDetailedText(details)
    box.setObjectName("numpynetMessage")
    return box


def show_error(parent, title, text, details="", advice=""):
    """An error the user can read at once, with the technical details folded away."""
    box = _box(parent, QMessageBox.Critical, title, text, advice, details)
    box.open()
    return box


def show_diverged(parent, reason, lower_lr):
    """The loss became NaN/inf: say so, and offer to divide the learning rate by ten.

    ``lower_lr`` is called if the user accepts; the weights were already
    restored by ``fit`` to the last good batch, so nothing is lost.
    """
    box = _box(parent, QMessageBox.Warning, "Training diverged",
               "The loss stopped being a number, so training stopped.", reason)
    lower = box.addButton("Lower learning rate ÷10", QMessageBox.AcceptRole)
    lower.clicked.connect(lower_lr)
    box.setDefaultButton(lower)
    box.open()
    return box
