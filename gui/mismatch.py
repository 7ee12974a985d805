"""The question asked before evaluating or training a model on data it does not fit.

``core.transfer.check`` says what differs; this dialog says it in the
window and offers only the choices that make sense for it: a new output
layer (other classes, same images), a new model (anything), or going on
anyway when only the class names differ and the user knows they are the
same classes, or means to fine-tune.
"""
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

TRAIN, EVALUATE = "train", "evaluate"
NEW_OUTPUT, NEW_MODEL, CONTINUE, CANCEL = "new output layer", "new model", "continue", "cancel"


def choices(mismatch, purpose):
    """[(choice, button text, tooltip)] that make sense for ``mismatch`` before ``purpose``, Cancel last."""
    ds = mismatch.dataset
    offered = []
    if purpose == TRAIN and not mismatch.input:
        offered.append((NEW_OUTPUT, "New output layer",
                        f"Replace the last Dense layer by one for {ds}'s {mismatch.data_classes} classes; the "
                        "other layers keep what they learned (transfer learning)"))
    if purpose == TRAIN:
        offered.append((NEW_MODEL, "New model", f"Start over with an untrained preset sized for {ds}"))
    if mismatch.only_names:
        verb = "Train" if purpose == TRAIN else "Evaluate"
        tip = ("Keep the output layer and fine-tune it; the model takes the dataset's class names"
               if purpose == TRAIN else "They are the same classes under other names")
        offered.append((CONTINUE, f"{verb} anyway", tip))
    offered.append((CANCEL, "Cancel", "Do nothing"))
    return offered


class MismatchDialog(QMessageBox):
    """What differs between the model and the dataset, and a button per sensible choice."""

    def __init__(self, parent, mismatch, purpose):
        super().__init__(parent)
        self.setIcon(QMessageBox.Warning)
        self.setWindowTitle("The model does not fit this data")
        self.setTextFormat(Qt.PlainText)   # class and folder names may hold '<'
        self.setText(f"The model does not fit {mismatch.dataset}.\n\n{mismatch.describe()}")
        self._choices = {}
        roles = {CANCEL: QMessageBox.RejectRole, CONTINUE: QMessageBox.AcceptRole}
        for choice, text, tip in choices(mismatch, purpose):
            button = self.addButton(text, roles.get(choice, QMessageBox.ActionRole))
            button.setToolTip(tip)
            self._choices[choice] = button
        self.setDefaultButton(self._choices[CANCEL])
        self.setEscapeButton(self._choices[CANCEL])

    def button_for(self, choice):
        return self._choices.get(choice)

    def choice(self):
        """The choice whose button was clicked (Cancel if none was)."""
        clicked = self.clickedButton()
        return next((c for c, button in self._choices.items() if button is clicked), CANCEL)


def ask_about_mismatch(parent, mismatch, purpose):
    """Show the dialog and wait; returns NEW_OUTPUT, NEW_MODEL, CONTINUE or CANCEL."""
    dialog = MismatchDialog(parent, mismatch, purpose)
    dialog.exec()
    return dialog.choice()
