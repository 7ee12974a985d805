"""Inside panel: filters, feature maps, saliency and weights over time of the current model.

Inputs: ``state.model`` (through a ``ModelSource``: a private copy kept
current from ``state.weightsUpdated`` while training, so nothing here reads
the live model), ``state.dataset`` (test images to look at), and
``state.inputChosen`` (the draw pad's drawing). Other panels may call
``show_test_index(i)`` (e.g. a mistake clicked in Evaluation) and
``set_mistakes(indices)`` (what "Next mistake" steps through).
Every number drawn comes from ``core.inspect``.
"""
from PySide6.QtWidgets import QStackedWidget, QTabBar, QVBoxLayout, QWidget

from ..state import ModelSource
from ..views.feature_maps import FeatureMapsView
from ..views.filters import FiltersView
from ..views.histograms import WeightsView
from ..views.input_picker import InputPicker
from ..views.saliency import SaliencyView


class InsidePanel(QWidget):
    TABS = ("Filters", "Feature maps", "Saliency", "Weights over time")

    def __init__(self, state, parent=None):
        super().__init__(parent)
        self.state = state
        self.source = ModelSource(state, self)
        self.picker = InputPicker(state, self.source)
        self.filters = FiltersView(self.source)
        self.feature_maps = FeatureMapsView(self.source)
        self.saliency = SaliencyView(self.source)
        self.weights = WeightsView(self.source, state)
        self.tabs = QTabBar()
        self.stack = QStackedWidget()
        for name, view in zip(self.TABS, self.views()):
            self.tabs.addTab(name)
            self.stack.addWidget(view)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.tabs)
        layout.addWidget(self.picker)
        layout.addWidget(self.stack, 1)
        self.tabs.currentChanged.connect(self._show_tab)
        self.picker.inputChanged.connect(self._push_input)
        self._show_tab(0)
        self._push_input()

    def views(self):
        return [self.filters, self.feature_maps, self.saliency, self.weights]

    def set_tab(self, name):
        self.tabs.setCurrentIndex(self.TABS.index(name))

    def _show_tab(self, index):
        self.stack.setCurrentIndex(index)
        self.picker.setVisible(self.TABS[index] in ("Feature maps", "Saliency"))

    def _push_input(self):
        p = self.picker
        self.feature_maps.set_input(p.x, p.label, p.description)
        self.saliency.set_input(p.x, p.label, p.description)

    # ----- for other panels -------------------------------------------------------------------
    def show_test_index(self, i):
        """Look at test image ``i`` (e.g. a mistake clicked in Evaluation) in Feature maps."""
        self.picker.show_test_index(i)
        if self.TABS[self.tabs.currentIndex()] not in ("Feature maps", "Saliency"):
            self.set_tab("Feature maps")

    def set_mistakes(self, indices):
        """Test indices of mistakes, most confident first: what "Next mistake" steps through."""
        self.picker.set_mistakes(indices)
