"""The draw pad: strokes become predictions, keys clear and undo, files open the same way."""
import numpy as np
import pytest
from PIL import Image, ImageDraw
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QAction, QDropEvent, QImage, QKeySequence
from PySide6.QtWidgets import QWidget

from core import zoo
from core.images import read_image
from core.optimizers import SGD
from core.preprocess import prepare, prepare_for
from core.strokes import render_strokes
from gui.panels.draw import DEFAULT_BRUSH, PREVIEW_SIZE, DrawPanel
from gui.state import AppState, ModelSource

# Digits as strokes of corner points in canvas coordinates (the canvas is 336 pixels square).
SEVEN = [[(95, 70), (245, 70), (150, 280)], [(140, 175), (225, 175)]]
ONE = [[(175, 50), (165, 290)]]
ZERO = [[(round(168 + 70 * np.sin(a)), round(168 - 110 * np.cos(a))) for a in np.linspace(0, 2 * np.pi, 40)]]


def polyline(corners, step=12):
    """The points a mouse passes through along ``corners``, about ``step`` pixels apart."""
    points = [corners[0]]
    for a, b in zip(corners, corners[1:]):
        n = max(1, int(np.hypot(b[0] - a[0], b[1] - a[1]) // step))
        points += [(round(a[0] + (b[0] - a[0]) * t), round(a[1] + (b[1] - a[1]) * t))
                   for t in np.linspace(0, 1, n + 1)[1:]]
    return points


def stroke(qtbot, canvas, corners, release=True):
    points = polyline(corners)
    qtbot.mousePress(canvas, Qt.LeftButton, pos=QPoint(*points[0]))
    for p in points[1:]:
        qtbot.mouseMove(canvas, QPoint(*p))
    if release:
        qtbot.mouseRelease(canvas, Qt.LeftButton, pos=QPoint(*points[-1]))


def draw(qtbot, panel, strokes=SEVEN):
    for corners in strokes:
        stroke(qtbot, panel.canvas, corners)


@pytest.fixture(scope="module")
def untrained():
    model = zoo.build("lenet5", seed=0)
    model.meta.update(class_names=[str(i) for i in range(10)], preprocessing="mnist")
    return model


@pytest.fixture(scope="module")
def mnist_cnn(mnist):
    """A small CNN after 150 steps on real MNIST (about a second): good enough to read clear digits."""
    model = zoo.build("cnn_small", seed=0)
    model.compile(SGD(lr=0.05, momentum=0.9), "crossentropy")
    model.fit(mnist.x_train[:9600], mnist.y_train[:9600], epochs=1, batch_size=64, seed=0)
    model.meta.update(class_names=[str(i) for i in range(10)], preprocessing="mnist")
    return model


@pytest.fixture
def panel(qtbot, untrained):
    state = AppState()
    state.set_model(untrained)
    widget = DrawPanel(state)
    qtbot.addWidget(widget)
    widget.resize(900, 470)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def shown_preview(panel):
    """The preview label's pixels, one per input pixel (the preview is scaled up by whole pixels)."""
    image = panel.preview.pixmap().toImage().convertToFormat(QImage.Format_Grayscale8)
    rows = np.frombuffer(image.constBits(), np.uint8, count=image.bytesPerLine() * image.height())
    pixels = rows.reshape(image.height(), image.bytesPerLine())[:, :image.width()]
    scale = PREVIEW_SIZE // 28
    return pixels[scale // 2::scale, scale // 2::scale].copy()   # a copy: the QImage is about to go


def test_a_stroke_shows_a_prediction_and_the_input_the_model_sees(qtbot, panel):
    assert panel.chart.probabilities is None and "Draw a digit" in panel.answer.text()
    chosen = []
    panel.state.inputChosen.connect(chosen.append)
    draw(qtbot, panel)
    probs = panel.chart.probabilities
    assert probs is not None and probs.sum() == pytest.approx(1.0, abs=1e-4)
    best = str(int(probs.argmax()))
    assert f">{best}<" in panel.answer.text() and "sure" in panel.confidence.text()
    drawn = panel.canvas.strokes()                        # the strokes as drawn, at the pen's width
    assert [len(s.points) for s in drawn] == [len(polyline(c)) for c in SEVEN]
    assert {s.width for s in drawn} == {DEFAULT_BRUSH} and not any(s.erasing for s in drawn)
    shown = panel.canvas.pixels()                         # the pad shows them as drawn
    assert shown[70 + DEFAULT_BRUSH // 2 - 2, 170] == 0 and shown[70 + DEFAULT_BRUSH // 2 + 2, 170] == 255
    expected = prepare(render_strokes(drawn), (1, 28, 28), "mnist")   # the model, at MNIST's pen width
    np.testing.assert_array_equal(panel.input, expected)
    assert len(chosen) == len(SEVEN)                      # once per finished stroke
    np.testing.assert_array_equal(chosen[-1], expected)
    np.testing.assert_allclose(shown_preview(panel), np.round(expected[0, 0] * 255), atol=1)
    np.testing.assert_allclose(probs, panel.model.predict(expected)[0], rtol=1e-5)


def test_it_predicts_while_the_pen_is_still_down(qtbot, panel):
    stroke(qtbot, panel.canvas, SEVEN[0], release=False)
    qtbot.waitUntil(lambda: panel.chart.probabilities is not None, timeout=2000)
    qtbot.mouseRelease(panel.canvas, Qt.LeftButton, pos=QPoint(150, 280))


def test_what_the_network_reads_is_what_the_pad_shows_when_the_mouse_leaves_it(qtbot, panel):
    draw(qtbot, panel, ONE + [[(200, 200), (704, 200)]])             # dragged far past the right edge
    assert panel.canvas.strokes()[-1].points[:, 0].max() > 600
    past_the_edge = panel.input.copy()
    panel.clear()
    draw(qtbot, panel, ONE + [[(200, 200), (332, 200)]])             # the same, stopped at the edge
    np.testing.assert_array_equal(past_the_edge, panel.input)


def test_escape_clears_and_ctrl_z_undoes_the_last_stroke(qtbot, panel):
    stroke(qtbot, panel.canvas, SEVEN[0])
    one_stroke = panel.input.copy()
    stroke(qtbot, panel.canvas, SEVEN[1])
    assert not np.array_equal(panel.input, one_stroke)
    panel.canvas.setFocus()
    qtbot.keyClick(panel.canvas, Qt.Key_Z, Qt.ControlModifier)
    assert panel.canvas.stroke_count == 1
    np.testing.assert_array_equal(panel.input, one_stroke)
    qtbot.keyClick(panel.canvas, Qt.Key_Escape)
    assert panel.canvas.is_blank() and panel.input is None
    assert panel.chart.probabilities is None and "Draw a digit" in panel.answer.text()
    assert not shown_preview(panel).any()


def test_the_pad_keeps_ctrl_z_from_a_window_wide_undo(qtbot, untrained):
    window = QWidget()
    qtbot.addWidget(window)
    undone = []
    action = QAction("Undo edit", window, shortcut=QKeySequence.Undo)
    action.triggered.connect(lambda: undone.append(True))
    window.addAction(action)
    state = AppState()
    state.set_model(untrained)
    panel = DrawPanel(state, window)
    with qtbot.waitActive(window):
        window.show()
        window.activateWindow()
    stroke(qtbot, panel.canvas, SEVEN[0])
    panel.canvas.setFocus()
    qtbot.keyClick(panel.canvas, Qt.Key_Z, Qt.ControlModifier)
    assert panel.canvas.stroke_count == 0 and not undone


def test_buttons_brush_and_eraser(qtbot, panel):
    panel.brush.setValue(40)
    assert panel.canvas.brush_width == 40 and "40" in panel.brush_label.text()
    stroke(qtbot, panel.canvas, SEVEN[0])
    assert panel.chart.probabilities is not None
    qtbot.mouseClick(panel.eraser_button, Qt.LeftButton)
    panel.brush.setValue(60)
    stroke(qtbot, panel.canvas, SEVEN[0])           # erase the same line, wider
    assert panel.canvas.pixels().min() == 255
    assert panel.chart.probabilities is None and "Draw a digit" in panel.answer.text()
    qtbot.mouseClick(panel.undo_button, Qt.LeftButton)
    assert panel.chart.probabilities is not None
    qtbot.mouseClick(panel.clear_button, Qt.LeftButton)
    assert panel.canvas.is_blank() and panel.chart.probabilities is None


@pytest.mark.parametrize("brush", [4, DEFAULT_BRUSH, 60])
@pytest.mark.parametrize("corners", [[(168, 168)], [(168, 150), (171, 158)], [(100, 100), (112, 104)]],
                         ids=["click", "tick", "dash"])
def test_a_speck_is_not_read_as_a_digit(qtbot, panel, corners, brush):
    """A click or a tick a few pixels long would be blown up to a whole digit's size and read with
    certainty (a click was a "0" at 99.8%); the pad asks for something larger and tells Inside nothing."""
    chosen = []
    panel.state.inputChosen.connect(chosen.append)
    panel.brush.setValue(brush)
    stroke(qtbot, panel.canvas, corners)
    assert panel.chart.probabilities is None and panel.input is None and not chosen
    assert "too small" in panel.answer.text().lower()
    stroke(qtbot, panel.canvas, ONE[0])              # a real stroke beside it is read as usual
    assert panel.chart.probabilities is not None and len(chosen) == 1


def seven_png(path, ink=255, paper=0):
    img = Image.new("L", (120, 150), paper)
    ImageDraw.Draw(img).line([(20, 20), (100, 20), (45, 130)], fill=ink, width=10, joint="curve")
    img.save(path)
    return path


def test_an_opened_image_goes_through_prepare_and_shows_on_the_pad(qtbot, panel, tmp_path):
    path = seven_png(tmp_path / "seven.png")
    with qtbot.waitSignal(panel.state.inputChosen):
        panel.open_image(str(path))
    np.testing.assert_array_equal(panel.input, prepare_for(panel.model, read_image(path)))
    assert panel.chart.probabilities is not None
    shown = panel.canvas.pixels()
    assert shown[0, 0] == 0 and shown.max() == 255           # white ink on black paper, as in the file
    stroke(qtbot, panel.canvas, [(20, 300), (300, 300)])     # drawing on it: the canvas is what counts
    np.testing.assert_array_equal(panel.input, prepare(panel.canvas.pixels()))
    assert panel.canvas.pixels()[300, 150] == 255             # the pen writes white on dark paper


def test_a_dropped_file_opens_and_a_bad_one_is_a_message(qtbot, panel, tmp_path):
    path = seven_png(tmp_path / "dropped.png", ink=0, paper=255)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    drop = QDropEvent(QPointF(50, 50), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    panel.dropEvent(drop)
    np.testing.assert_array_equal(panel.input, prepare(read_image(path)))
    shown = panel.input.copy()
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG not really")
    panel.open_image(str(bad))
    assert "broken.png" in panel.status.text()
    np.testing.assert_array_equal(panel.input, shown)          # the pad keeps what it had
    assert panel.chart.probabilities is not None


def test_a_new_model_is_copied_and_training_weights_are_followed(qtbot, panel, untrained):
    assert panel.model is not untrained
    assert isinstance(panel.source, ModelSource) and panel.model is panel.source.model   # the views' one copy
    stroke(qtbot, panel.canvas, SEVEN[0])
    before = panel.chart.probabilities
    other = zoo.build("lenet5", seed=1)
    panel.state.weightsUpdated.emit(other.get_weights(), {})
    qtbot.waitUntil(lambda: not np.allclose(panel.chart.probabilities, before), timeout=2000)
    pristine = zoo.build("lenet5", seed=0).get_weights()["0.W"]
    np.testing.assert_array_equal(untrained.get_weights()["0.W"], pristine)   # the state's model is untouched
    panel.state.set_model(None)
    assert panel.chart.probabilities is None and "No model" in panel.answer.text()
    assert panel.input is not None                                   # no model: the input still shows
    fashion = zoo.build("mlp", seed=0)
    fashion.meta.update(class_names=["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal",
                                     "Shirt", "Sneaker", "Bag", "Ankle boot"], preprocessing="fit")
    panel.state.set_model(fashion)
    assert panel.chart.class_names[-1] == "Ankle boot" and "fit" in panel.status.text()
    assert panel.chart.probabilities is not None


def test_drawn_digits_are_read_by_a_network_trained_on_mnist(qtbot, mnist_cnn):
    state = AppState()
    state.set_model(mnist_cnn)
    panel = DrawPanel(state)
    qtbot.addWidget(panel)
    panel.show()
    for digit, strokes in ((7, SEVEN), (1, ONE), (0, ZERO)):
        panel.clear()
        draw(qtbot, panel, strokes)
        assert panel.chart.probabilities.argmax() == digit
