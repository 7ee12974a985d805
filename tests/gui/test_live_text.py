"""gui.live_text: a progress line that changes without laying out the window, and grows when its text needs it."""
import pytest
from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QDockWidget, QLabel, QMainWindow, QVBoxLayout, QWidget

from gui.live_text import LiveText

TRAINING = "Epoch 1/3  ·  batch {}/938  ·  loss 0.4{}1  ·  accuracy 88.{}%  ·  5,1{}0 samples/s  ·  ETA 0:4{}"


class _LayoutRequests(QObject):
    """Counts the LayoutRequest events a window receives: each one lays out every dock again."""

    def __init__(self):
        super().__init__()
        self.count = 0

    def eventFilter(self, obj, event):
        self.count += event.type() == QEvent.LayoutRequest
        return False


def _window_with(line, qtbot):
    """A main window with a dock whose panel holds ``line`` above another widget, shown and laid out."""
    window = QMainWindow()
    qtbot.addWidget(window)
    panel = QWidget()
    panel.setMinimumWidth(500)
    column = QVBoxLayout(panel)
    column.addWidget(line)
    column.addWidget(QLabel("a plot"), 1)
    dock = QDockWidget("Training")
    dock.setWidget(panel)
    window.addDockWidget(Qt.LeftDockWidgetArea, dock)
    window.setCentralWidget(QLabel("centre"))
    window.resize(800, 300)
    window.show()
    qtbot.waitExposed(window)
    requests = _LayoutRequests()
    window.installEventFilter(requests)
    qtbot.wait(50)
    requests.count = 0
    return window, requests


@pytest.mark.parametrize("line, relayouts", [(lambda: QLabel("Ready"), True), (lambda: LiveText("Ready"), False)],
                         ids=["a QLabel lays the window out", "LiveText does not"])
def test_new_text_of_the_same_lines_does_not_lay_out_the_window(qtbot, line, relayouts):
    label = line()
    label.setText(TRAINING.format(100, 9, 9, 9, 9))
    _window, requests = _window_with(label, qtbot)
    for i in range(5):
        label.setText(TRAINING.format(100 + i, i, i, i, i))
        qtbot.wait(20)
    assert (requests.count > 0) == relayouts
    assert label.text() == TRAINING.format(104, 4, 4, 4, 4)


def test_a_text_that_needs_more_lines_makes_the_line_taller_and_a_shorter_one_gives_them_back(qtbot):
    line = LiveText("Ready")
    _window, _requests = _window_with(line, qtbot)
    one = line.height()
    line.setText("Training failed: " + "a long reason that goes on " * 20)
    qtbot.waitUntil(lambda: line.height() >= 3 * line.fontMetrics().lineSpacing(), timeout=2000)
    line.setText("Ready")
    qtbot.waitUntil(lambda: line.height() == one, timeout=2000)


def test_lines_kept_for_a_longer_text_stay_when_the_text_is_shorter(qtbot):
    line = LiveText("Ready", min_lines=2)
    _window, requests = _window_with(line, qtbot)
    assert line.height() >= 2 * line.fontMetrics().lineSpacing()
    line.setText("Epoch 1/3  ·  batch 1/938")
    line.setText("Finished 3 epochs")
    qtbot.wait(50)
    assert requests.count == 0


def test_the_text_is_painted_in_the_colour_the_style_sheet_gives(qtbot):
    line = LiveText("Ready")
    line.setObjectName("progressLabel")
    line.setStyleSheet("#progressLabel { color: #ff0000; }")
    _window, _requests = _window_with(line, qtbot)
    image = line.grab().toImage()
    reds = sum(image.pixelColor(x, y).red() > 200 and image.pixelColor(x, y).green() < 80
               for x in range(image.width()) for y in range(image.height()))
    assert reds > 10


def test_a_larger_font_makes_the_line_taller_and_a_screen_reader_reads_the_text(qtbot):
    line = LiveText("Ready")
    _window, _requests = _window_with(line, qtbot)
    before = line.height()
    font = line.font()
    font.setPointSizeF(font.pointSizeF() * 2)
    line.setFont(font)
    qtbot.waitUntil(lambda: line.height() > 1.5 * before, timeout=2000)
    line.setText("Epoch 1/3  ·  batch 7/938")
    assert line.accessibleName() == "Epoch 1/3  ·  batch 7/938"
