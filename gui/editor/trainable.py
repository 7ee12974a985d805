"""The "Trainable" check box of the selected layer: unticked, the layer is frozen (``layer.trainable = False``).

Its own widget beside the parameter form, since ``trainable`` is no argument of
a layer's constructor but the base class's flag (see ``core.layers.base``).
Shown only for a layer with parameters: freezing any other changes nothing.
"""
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox

TOOLTIP = ("Untick to freeze this layer: training leaves its weights as they are (a frozen BatchNorm also keeps "
           "its running statistics). Used to fine-tune a trained network, e.g. with only a new output layer.")


class TrainableBox(QCheckBox):
    toggled_for = Signal(int, bool)   # uid, trainable

    def __init__(self, parent=None):
        super().__init__("Trainable", parent)
        self.setToolTip(TOOLTIP)
        self._uid = None
        self.clicked.connect(lambda checked: self.toggled_for.emit(self._uid, checked))
        self.hide()

    def show_item(self, item, row):
        """Show ``item``'s flag; hidden with no layer, or one without parameters (``row.params``)."""
        self._uid = None if item is None else item.uid
        has_params = row is not None and bool(row.params)
        self.setVisible(item is not None and (has_params or not item.trainable))
        if item is not None:
            self.setChecked(item.trainable)
