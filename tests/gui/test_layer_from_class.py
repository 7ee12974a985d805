"""The editor's palette and form follow from a layer class: a type registered anywhere appears, documented."""
from PySide6.QtCore import Qt

from core import Sequential, docstrings
from core.layers import layer_class, layer_types
from gui.editor import fields
from gui.editor.palette import Palette
from gui.panels.architecture import ArchitecturePanel
from gui.state import AppState
from layer_types import define_scale


def test_a_layer_registered_in_a_test_is_in_the_palette_and_the_form_and_builds(qtbot, registry):
    define_scale()
    palette = Palette()
    qtbot.addWidget(palette)
    assert "Multiplies every input by a constant factor." in palette.button("Scale").toolTip()
    assert ("Other", ("Scale",)) in fields.palette_groups()

    state = AppState()
    panel = ArchitecturePanel(state)
    qtbot.addWidget(panel)
    for type_name in ("Flatten", "Scale"):
        qtbot.mouseClick(panel.palette.button(type_name), Qt.LeftButton)
    assert panel.form.about.text() == "Multiplies every input by a constant factor."
    factor = panel.form.editor("factor")
    assert factor.value() == 2.0
    assert factor.toolTip() == "The number every input is multiplied by; a positive number (a gain in front of " \
                               "the next layer)."
    factor.setValue(0.5)
    assert panel.doc.config()["layers"][1] == {"type": "Scale", "config": {"factor": 0.5}}
    assert state.model.layers[1].factor == 0.5
    assert Sequential.from_config(state.model.get_config()).get_config() == state.model.get_config()


def test_descriptions_and_tooltips_are_the_classes_docstrings():
    assert not hasattr(fields, "DESCRIPTIONS")
    for type_name in layer_types():
        cls = layer_class(type_name)
        assert fields.description(type_name) == docstrings.summary(cls) != "", type_name
        helps = docstrings.arg_help(cls)
        for spec in fields.fields_for(type_name):
            first_words = helps[spec.name].replace("``", "")[1:30]
            assert first_words in spec.tooltip, (type_name, spec.name)
    assert fields.description("MaxPool2D") != fields.description("AvgPool2D")
