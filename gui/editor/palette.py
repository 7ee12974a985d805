"""The palette: one button per layer type the core has, grouped, coloured as in the drawing."""
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import QLabel, QPushButton, QVBoxLayout, QWidget

from ..format import esc
from . import fields
from .diagram import layer_color


def chip_icon(type_name, size=12):
    pixmap = QPixmap(size, size)
    pixmap.fill(layer_color(type_name))
    return QIcon(pixmap)


class Palette(QWidget):
    """Clicking a type emits ``chosen(type)``; the panel inserts it below the selected layer."""
    chosen = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.buttons = {}
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        for group, types in fields.palette_groups():
            header = QLabel(group.upper())
            header.setStyleSheet("color:#5f6368; font-size:10px; font-weight:600; padding-top:5px;")
            layout.addWidget(header)
            for type_name in types:
                button = QPushButton(chip_icon(type_name), type_name)
                button.setStyleSheet("text-align:left; padding:3px 8px;")
                button.setToolTip(f"<b>{esc(type_name)}</b><br>{esc(fields.description(type_name))}<br>"
                                  f"<i>Click to insert below the selected layer.</i>")
                button.setCursor(Qt.PointingHandCursor)
                button.clicked.connect(lambda _=False, t=type_name: self.chosen.emit(t))
                layout.addWidget(button)
                self.buttons[type_name] = button
        layout.addStretch(1)

    def button(self, type_name):
        return self.buttons[type_name]
