"""Every control of the whole window explains itself (issue #19): a tooltip, and the same words in the status
bar, on every tab and every Lab page, with a model and a dataset loaded (the state in which learners use it)."""
from PySide6.QtWidgets import QAbstractButton, QLineEdit, QPushButton, QSpinBox, QWidget

from core import zoo
from gui.hover_help import add_status_tips, controls, silent_controls
from gui.main_window import PANEL_ORDER
from tests.gui.test_main_window import make_window, no_pretrained, settings_path, tiny_dataset  # noqa: F401


def describe(widget):
    """Enough to find a silent control in the code: its class and text, and its parents'."""
    chain = []
    while widget is not None and len(chain) < 4:
        text = widget.text() if isinstance(widget, (QAbstractButton, QLineEdit)) else ""
        chain.append(f"{type(widget).__name__}[{text}]")
        widget = widget.parentWidget()
    return " < ".join(chain)


def test_every_control_of_every_tab_and_lab_page_has_a_tooltip_and_a_status_tip(qtbot, settings_path, no_pretrained):  # noqa: F811
    window = make_window(qtbot, settings_path)
    window.state.set_model(zoo.build("lenet5", seed=0))
    window.state.set_dataset(tiny_dataset())
    window.show()
    for title in PANEL_ORDER:
        window.show_panel(title)
        qtbot.wait(10)
    lab = window.docks["Lab"].widget()
    for page in lab.pages:
        lab.show_page(page)
        qtbot.wait(10)
    architecture = window.docks["Architecture"].widget()
    architecture.select_layer(0)   # the form's editors of a selected layer are built then
    assert architecture.form.editors
    assert len(controls(window)) > 100
    silent = [describe(w) for w in silent_controls(window)]
    assert silent == [], "\n".join(silent)


def test_qt_own_parts_of_a_control_are_not_controls_of_their_own(qtbot):
    spin = QSpinBox()
    qtbot.addWidget(spin)
    assert controls(spin) == [] and spin.findChildren(QLineEdit)


def test_a_status_tip_follows_its_tooltip_when_the_tooltip_changes(qtbot):
    box = QWidget()
    button = QPushButton("Start", box)
    qtbot.addWidget(box)
    button.setToolTip("Start <b>training</b>")
    add_status_tips(box)
    assert button.statusTip() == "Start training"
    button.setToolTip("Greyed out: load a dataset first")
    assert button.statusTip() == "Greyed out: load a dataset first"


def test_a_hover_tip_gives_back_the_message_it_covered(qtbot, settings_path, no_pretrained):  # noqa: F811
    from PySide6.QtGui import QStatusTipEvent
    from PySide6.QtWidgets import QApplication
    window = make_window(qtbot, settings_path)
    bar, button = window.statusBar(), window.training_panel.batch_size
    bar.showMessage("MNIST is not on this computer")
    QApplication.sendEvent(button, QStatusTipEvent(button.statusTip()))
    assert bar.currentMessage() == button.statusTip() != ""
    QApplication.sendEvent(button, QStatusTipEvent(""))
    assert bar.currentMessage() == "MNIST is not on this computer"
    QApplication.sendEvent(button, QStatusTipEvent(button.statusTip()))
    bar.showMessage("Loaded MNIST")                        # news while the pointer rests on a control
    QApplication.sendEvent(button, QStatusTipEvent(""))
    assert bar.currentMessage() == "Loaded MNIST"
