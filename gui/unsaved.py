"""The one question asked before the user's unsaved model would be replaced or closed away.

Opening another model, building a preset and closing the window all replace
the model in the window. When it holds training or edits that no file has
(``AppState.unsaved_work``), the user chooses: save it first, discard it, or
cancel. A run that is training is never asked about: its run record keeps it.
"""
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from .format import esc

SAVE, DISCARD, CANCEL = "save", "discard", "cancel"


def ask(parent, doing, can_save=True):
    """Save, discard or cancel (the Escape key): the user's answer before ``doing`` replaces the model."""
    buttons = QMessageBox.Discard | QMessageBox.Cancel | (QMessageBox.Save if can_save else QMessageBox.NoButton)
    box = QMessageBox(QMessageBox.Warning, "Unsaved model", "", buttons, parent)
    box.setTextFormat(Qt.RichText)   # always rich: an escaped name must not show its entities as text
    box.setText(f"<b>The model has changes that no file holds.</b><br>{esc(doing)} would lose them. "
                "Save the model first?")
    box.setDefaultButton(QMessageBox.Save if can_save else QMessageBox.Cancel)
    box.setEscapeButton(QMessageBox.Cancel)
    box.setObjectName("unsavedModel")
    answer = box.exec()
    return {QMessageBox.Save: SAVE, QMessageBox.Discard: DISCARD}.get(QMessageBox.StandardButton(answer), CANCEL)


def may_replace(window, state, doing):
    """True when the model may go: it holds nothing unsaved, or the user saved it or chose to discard it.

    ``window`` saves through its ``save_model`` (Save, or Save as for a model no folder of the user's
    holds); a Save as the user cancels keeps the model, as Cancel does.
    """
    if state.training or not state.unsaved_work:
        return True
    can_save = callable(getattr(window, "save_model", None))
    answer = ask(window, doing, can_save)
    if answer == SAVE:
        return bool(window.save_model())
    return answer == DISCARD
