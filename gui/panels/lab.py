"""Lab panel: stress the network, map what it learned, operate on it, let it say "I don't know".

The pages themselves live in ``gui.lab``; this panel only tabs them and
forwards a page's request to open a test image in Inside.
"""
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QTabWidget, QVBoxLayout, QWidget

from ..lab import pages


class LabPanel(QWidget):
    inspectRequested = Signal(int)   # a test image index to open in Inside

    def __init__(self, state, parent=None):
        super().__init__(parent)
        self.state = state
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.pages = {}
        for title, page in pages(state):
            self.tabs.addTab(page, title)
            self.pages[title] = page
            if hasattr(page, "inspectRequested"):
                page.inspectRequested.connect(self.inspectRequested)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.tabs)

    def show_page(self, title):
        self.tabs.setCurrentWidget(self.pages[title])
