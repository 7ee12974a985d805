"""One test image big, with what the model said of it: ``SampleDetails.show_sample(...)``.

Output: ``lookInside(test index)``, to open the image in the Inside panel.
"""
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QPushButton, QVBoxLayout, QWidget

from ..format import esc
from .grid import TileGrid, image_tile
from .probabilities import ProbabilityBars

DETAIL_PX = 140


class SampleDetails(QWidget):
    """One test image big, what it is and what the model said, and a way to look inside it."""
    lookInside = Signal(int)

    def __init__(self):
        super().__init__()
        self.index = None
        self.image = TileGrid()
        self.caption = QLabel("Click an image to see the model's probabilities.")
        self.caption.setWordWrap(True)
        self.caption.setTextFormat(Qt.RichText)
        self.bars = ProbabilityBars()
        self.bars.setMinimumSize(240, 150)
        self.bars.setMaximumHeight(280)
        self.inside = QPushButton("Look inside ▸")
        self.inside.setToolTip("Show this image's feature maps and saliency in the Inside panel")
        self.inside.setEnabled(False)
        self.inside.clicked.connect(lambda: self.lookInside.emit(self.index))
        column = QVBoxLayout(self)
        column.setContentsMargins(6, 0, 0, 0)
        column.addWidget(self.image, 0, Qt.AlignHCenter)
        column.addWidget(self.caption)
        column.addWidget(self.bars, 1)
        column.addWidget(self.inside)
        column.addStretch(0)
        self.setFixedWidth(280)

    def show_sample(self, index, image, true_name, pred_name, probs, names):
        self.index = int(index)
        scale = max(1, DETAIL_PX // max(image.shape[1:]))
        self.image.set_tiles([image_tile(image, f"test image #{index}")], scale=scale)
        verdict = "right" if true_name == pred_name else "<span style='color:#c2410c'>wrong</span>"
        self.caption.setText(f"<b>Test image #{esc(index)}</b><br>true <b>{esc(true_name)}</b>, predicted "
                             f"<b>{esc(pred_name)}</b> ({verdict})")
        self.bars.set_probabilities(probs, names)
        self.inside.setEnabled(True)
