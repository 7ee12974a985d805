"""The Inside panel on a LeNet-5 briefly trained on real MNIST: every view draws, reads back and refreshes."""
import numpy as np
import pytest
from numpy.testing import assert_allclose
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage

from core import Sequential, inspect, zoo
from core.datasets import Dataset
from core.layers import Dense, Flatten, Sigmoid, Softmax
from gui.panels.inside import InsidePanel
from gui.state import AppState
from gui.views.export import save_png

SIZE = (1300, 850)


@pytest.fixture(scope="module")
def small_mnist(mnist):
    return Dataset("mnist", mnist.x_train[:100], mnist.y_train[:100], mnist.x_test[:200], mnist.y_test[:200],
                   [str(i) for i in range(10)], "MNIST subset for tests")


@pytest.fixture
def state(lenet, small_mnist):
    state = AppState()
    state.set_dataset(small_mnist)
    state.set_model(lenet)
    return state


@pytest.fixture
def panel(qtbot, state):
    panel = InsidePanel(state)
    qtbot.addWidget(panel)
    panel.resize(*SIZE)
    panel.show()
    qtbot.waitExposed(panel)
    return panel


def pixels(widget):
    """The widget as drawn, an (H, W, 3) uint8 array."""
    image = widget.grab().toImage().convertToFormat(QImage.Format_RGB888)
    rows = np.frombuffer(image.constBits(), np.uint8, count=image.sizeInBytes()).reshape(image.height(), -1)
    return rows[:, :image.width() * 3].reshape(image.height(), image.width(), 3)


def assert_drawn(widget, min_variance=150.0):
    a = pixels(widget).astype(np.float64)
    assert a.size and a.var() > min_variance, f"{type(widget).__name__} looks blank (variance {a.var():.1f})"


@pytest.mark.parametrize("tab", InsidePanel.TABS)
def test_every_tab_draws_lenet5(qtbot, panel, tab):
    panel.set_tab(tab)
    qtbot.wait(50)
    assert_drawn(panel)
    view = panel.stack.currentWidget()
    assert view is panel.views()[InsidePanel.TABS.index(tab)]
    assert_drawn(view)


def test_filters_show_every_conv_layer_and_its_input_channels(qtbot, panel, lenet):
    panel.set_tab("Filters")
    conv1, conv2 = panel.filters.sections
    assert [s.layer.name for s in (conv1, conv2)] == ["Conv2D #1", "Conv2D #3"]
    assert len(conv2.grid.tiles()) == 50 and len(conv2.grid.tiles()[0].parts) == 20
    assert_drawn(conv2.grid)
    W = lenet.layers[2].params["W"]
    assert conv2.colorbar.value_range == pytest.approx((-np.abs(W).max(), np.abs(W).max()))
    conv2.channel.setCurrentIndex(1 + 7)   # input channel 7
    tile = conv2.grid.tiles()[4]
    assert len(tile.parts) == 1
    assert_allclose(tile.values[0], W[4, 7])
    assert "filter 4" in conv2.grid.hover_text(conv2.grid.click_point(4))


def test_filters_can_use_each_filters_own_scale(qtbot, panel, lenet):
    panel.set_tab("Filters")
    conv1 = panel.filters.sections[0]
    W = lenet.layers[0].params["W"]
    weakest = int(np.abs(W).max(axis=(1, 2, 3)).argmin())
    r, c = np.unravel_index(np.abs(W[weakest, 0]).argmax(), W.shape[2:])
    saturated = {(178, 24, 43), (33, 102, 172)}   # the ends of the diverging map
    def colour():
        pixel = conv1.grid.tiles()[weakest].parts[0].pixelColor(int(c), int(r))
        return pixel.red(), pixel.green(), pixel.blue()
    assert colour() not in saturated
    panel.filters.own_scale.setChecked(True)
    assert colour() in saturated
    assert conv1.colorbar.value_range == (-1.0, 1.0)


def test_filters_show_a_first_dense_layer_as_images(qtbot, state):
    state.set_model(zoo.build("mlp", seed=0))
    panel = InsidePanel(state)
    qtbot.addWidget(panel)
    panel.resize(*SIZE)
    panel.show()
    [section] = panel.filters.sections
    assert section.layer.name == "Dense #2"
    tiles = section.grid.tiles()
    assert len(tiles) == 64 and tiles[0].values[0].shape == (28, 28)
    qtbot.mouseClick(section.next, Qt.LeftButton)
    assert len(section.grid.tiles()) == 36 and section.page.text() == "units 64–99 of 100"
    assert not section.next.isEnabled()
    assert_allclose(section.grid.tiles()[0].values[0], state.model.layers[1].params["W"][:, 64].reshape(28, 28))


def test_feature_maps_show_every_layer_in_order_with_values_on_hover(qtbot, panel, state, lenet):
    panel.set_tab("Feature maps")
    panel.show_test_index(3)
    view = panel.feature_maps
    x = state.dataset.x_test[3:4]
    assert_allclose(view.x, x)
    acts = inspect.activations(lenet.copy(), x)
    assert [s.layer.name for s in view.sections] == [layer.name for layer, _ in acts]
    conv2 = view.sections[2]
    assert "50 × 8 × 8" in conv2.title.text()
    grid = conv2.grid
    rect = grid.tile_rect(5)
    scale = rect.width() // 8
    point = rect.topLeft() + type(rect.topLeft())(3 * scale + 1, 2 * scale + 1)   # pixel (row 2, col 3)
    text = grid.hover_text(point)
    assert text.startswith("map 5 (2, 3) = ")
    assert float(text.split("= ")[1]) == pytest.approx(acts[2][1][5, 2, 3], rel=1e-3, abs=1e-4)
    probs = view.sections[-1].bars.probabilities
    assert_allclose(probs, lenet.predict(x)[0], atol=1e-5)


@pytest.mark.parametrize("head, bars", [
    (lambda: [Dense(10, activation="softmax")], True),
    (lambda: [Dense(10), Softmax()], True),
    (lambda: [Dense(10), Sigmoid()], False),
    (lambda: [Dense(10), Softmax(), Dense(10)], False),
], ids=["fused softmax", "softmax layer", "sigmoid", "softmax inside"])
def test_feature_maps_draw_bars_for_the_softmax_the_model_ends_in(qtbot, state, head, bars):
    state.set_model(Sequential([Flatten(), Dense(16, activation="relu"), *head()], input_shape=(1, 28, 28), seed=0))
    panel = InsidePanel(state)
    qtbot.addWidget(panel)
    panel.resize(*SIZE)
    panel.show()
    qtbot.waitExposed(panel)
    panel.show_test_index(0)
    view = panel.feature_maps
    assert [s.bars is not None for s in view.sections] == [False] * (len(view.sections) - 1) + [bars]
    if bars:
        assert_allclose(view.sections[-1].bars.probabilities, state.model.predict(view.x)[0], atol=1e-5)


def test_clicking_a_feature_map_enlarges_it(qtbot, panel):
    panel.set_tab("Feature maps")
    view = panel.feature_maps
    grid = view.sections[0].grid
    qtbot.mouseClick(grid, Qt.LeftButton, pos=grid.click_point(7))
    assert view.selected == (0, 7)
    assert "map 7" in view.big_title.text()
    assert_allclose(view.big.tiles()[0].values[0], view.sections[0].maps.maps[7])
    assert_drawn(view.big)


def test_saliency_follows_the_chosen_class(qtbot, panel, state, lenet):
    panel.set_tab("Saliency")
    panel.show_test_index(0)
    view = panel.saliency
    x = state.dataset.x_test[:1]
    assert view.klass.currentIndex() == int(lenet.predict(x)[0].argmax())  # starts on the prediction
    view.set_class(3)
    expected = inspect.saliency(lenet.copy(), x, 3)
    assert_allclose(view.big.tiles()[0].values[0], expected, rtol=1e-5, atol=1e-8)
    assert view.all.selected == 3 and len(view.all.tiles()) == 10
    qtbot.mouseClick(view.all, Qt.LeftButton, pos=view.all.click_point(8))
    assert view.klass.currentIndex() == 8
    assert_drawn(view.big)


def test_a_drawing_and_mistakes_become_the_input(qtbot, panel, state):
    panel.set_tab("Feature maps")
    drawing = np.zeros((1, 1, 28, 28), np.float32)
    drawing[0, 0, 5:23, 13:15] = 1
    state.inputChosen.emit(drawing)
    assert panel.picker.kind.currentText() == "Drawing"
    assert_allclose(panel.feature_maps.x, drawing)
    panel.set_mistakes([17, 4])
    assert panel.picker.mistake.isEnabled()
    qtbot.mouseClick(panel.picker.mistake, Qt.LeftButton)
    qtbot.mouseClick(panel.picker.mistake, Qt.LeftButton)
    assert panel.picker.kind.currentText() == "Test image" and panel.picker.index.value() == 4
    assert_allclose(panel.saliency.x, state.dataset.x_test[4:5])


class LiveModelGuard:
    """Stands in for the model while it trains: any use of it fails the test."""

    def __getattr__(self, name):
        raise AssertionError(f"a view touched state.model.{name} during training")


def test_views_redraw_from_training_snapshots_without_touching_the_live_model(qtbot, panel, state, lenet):
    panel.set_tab("Filters")
    weights = {k: v.copy() for k, v in lenet.get_weights().items()}
    weights["0.W"] = -weights["0.W"]
    grads = {k: np.full_like(v, 1e-3) for k, v in weights.items() if not k.endswith(("mean", "var"))}
    state._model = LiveModelGuard()   # behind the state's back, as the worker holds it: no signal, no view may read it
    state.set_training(True)
    state.weightsUpdated.emit(weights, grads)
    conv1 = panel.filters.sections[0]
    qtbot.waitUntil(lambda: np.allclose(conv1.grid.tiles()[2].values[0], weights["0.W"][2, 0]), timeout=2000)
    panel.set_tab("Weights over time")
    qtbot.waitUntil(lambda: panel.weights.trend_widget.isVisible(), timeout=2000)
    row = panel.weights.rows[0]
    xs, ys = row.g_now.getData()
    assert ys.sum() == pytest.approx(1.0)
    assert xs[np.argmax(ys)] <= -3 < xs[np.argmax(ys) + 1]   # every |gradient| is 1e-3
    panel.set_tab("Feature maps")
    qtbot.wait(50)   # the view refreshes when shown; let the layout place it
    assert_drawn(panel.feature_maps.sections[0].grid)


def test_the_trained_model_handed_back_keeps_the_views(qtbot, small_mnist):
    """A fresh model learns its class names from the dataset when training ends; the names shown
    were already the dataset's, so the views take the new weights instead of rebuilding (a
    rebuild froze the window for a quarter of a second at the end of every first run)."""
    state = AppState()
    state.set_dataset(small_mnist)
    model = zoo.build("lenet5", seed=0)
    state.set_model(model)
    panel = InsidePanel(state)
    qtbot.addWidget(panel)
    replaced, changed = [], []
    panel.source.modelReplaced.connect(lambda: replaced.append(1))
    panel.source.weightsChanged.connect(lambda: changed.append(1))
    state.set_training(True)
    model.set_weights({k: v + 1 for k, v in model.get_weights().items()})
    model.meta["class_names"] = list(small_mnist.class_names)
    state.set_training(False)
    state.set_model(model)
    assert replaced == [] and changed
    assert np.array_equal(panel.source.model.get_weights()["0.W"], model.get_weights()["0.W"])
    model.meta["class_names"] = list("abcdefghij")   # names the views show do change: rebuild
    state.set_model(model)
    assert replaced == [1] and panel.source.class_names() == list("abcdefghij")


def test_weights_view_shows_test_batch_gradients_when_not_training(qtbot, panel):
    panel.set_tab("Weights over time")
    rows = panel.weights.rows
    assert [r.key for r in rows] == ["0.W", "2.W", "5.W", "6.W"]
    for row in rows:
        xs, ys = row.g_now.getData()
        assert ys is not None and ys.sum() > 0.9
    assert "test images" in panel.weights.info.text()
    assert not panel.weights.trend_widget.isVisible()


def test_each_view_exports_a_png(qtbot, panel, tmp_path):
    for tab in InsidePanel.TABS:
        panel.set_tab(tab)
        path = save_png(panel.stack.currentWidget(), tmp_path / tab.replace(" ", "_"))
        assert path.suffix == ".png"
        image = QImage(str(path))
        assert not image.isNull() and image.width() > 600
