"""Lab > Map: a point map of a layer's responses to the test set, hover, click, missing extras, stale maps."""
import sys
import types

import numpy as np
import pytest
from PySide6.QtCore import Qt

from core import Sequential, zoo
from core.datasets import Dataset
from core.layers import Dense, Flatten
from core.datasets.subset import sample_indices as sample
from gui.lab.point_map import PointMapPage, default_layer
from gui.panels.lab import LabPanel
from gui.state import AppState
from gui.views.grid import image_qimage
from gui.views.point_map import mistake_lines

SIZE = (1340, 640)
N_EACH = 60
SWAPPED = 5          # images of each class drawn like the other class: the model's mistakes


def halves(n_each, swapped, seed=0):
    """(x, y) 1x4x4 images: class 0 ("top") has its top half bright, class 1 ("bottom") its bottom half;
    the last ``swapped`` of each class are drawn like the other class."""
    rng = np.random.default_rng(seed)
    y = np.repeat([0, 1], n_each)
    looks = y.copy()
    looks[n_each - swapped:n_each] = 1
    looks[2 * n_each - swapped:] = 0
    x = rng.random((2 * n_each, 1, 4, 4)).astype(np.float32) * 0.2
    x[looks == 0, 0, :2] += 0.8
    x[looks == 1, 0, 2:] += 0.8
    return x, y


def halves_model():
    """Flatten, then Dense(2) whose outputs are the mean of the top half and of the bottom half."""
    model = Sequential([Flatten(), Dense(2)], input_shape=(1, 4, 4), seed=0)
    w = np.zeros((16, 2), np.float32)
    w[:8, 0] = w[8:, 1] = 1 / 8
    model.layers[1].params["W"][...] = w
    model.layers[1].params["b"][...] = 0
    model.meta["class_names"] = ["top", "bottom"]
    return model


@pytest.fixture
def state():
    x, y = halves(N_EACH, SWAPPED)
    state = AppState()
    state.set_dataset(Dataset("halves", x, y, x, y, ["top", "bottom"], "made by the test"))
    state.set_model(halves_model())
    return state


def make_page(qtbot, state):
    page = PointMapPage(state)
    qtbot.addWidget(page)
    page.resize(*SIZE)
    return page


@pytest.fixture
def page(qtbot, state):
    page = make_page(qtbot, state)
    yield page
    assert page.job.stop_and_wait(5000)


def said(page):
    """What the page says now: on its status line, or in place of the map when there is none."""
    return page.status.text() or page.placeholder.text()


def drawn(qtbot, page, layer=1):
    """Show the page on ``layer`` (PCA draws by itself when seen) and wait for the map."""
    page.layer.setCurrentIndex(layer)
    page.show()
    qtbot.waitUntil(lambda: page.current, timeout=20000)
    qtbot.waitUntil(lambda: not page.job.running, timeout=5000)
    settled(qtbot, page.view)
    return page.view


def settled(qtbot, view):
    """Wait until the dots stop moving on screen: the legend beside the map takes its width once the map is set,
    and the view is laid out again after that."""
    last = []

    def still():
        last.append(view.widget_pos(0))
        return len(last) > 1 and last[-1] == last[-2]
    qtbot.waitUntil(still, timeout=5000)


def test_a_map_of_two_well_separated_classes_puts_them_apart_and_rings_the_mistakes(qtbot, page, state):
    assert page.layer.currentText().startswith("Flatten #1")     # the last layer before the final Dense
    view = drawn(qtbot, page)
    assert page.layer.currentText().startswith("Dense #2")
    first = view.points[view.labels == 0, 0]
    second = view.points[view.labels == 1, 0]
    looks_top = view.predictions == 0
    # along the first principal axis, what the layer sees as "top" and as "bottom" do not overlap
    assert view.points[looks_top, 0].max() < view.points[~looks_top, 0].min() or \
        view.points[~looks_top, 0].max() < view.points[looks_top, 0].min()
    assert abs(np.median(first) - np.median(second)) > 0.5
    assert (view.predictions != view.labels).sum() == 2 * SWAPPED
    np.testing.assert_array_equal(view.rings.data["x"], view.points[view.labels != view.predictions, 0])
    assert len(view.lines) == 2                     # one line set per class taken for, in that class's colour
    assert "10 mistakes" in said(page)
    legend = view.legend.text()
    assert legend.index("top") < legend.index("bottom") < legend.index("a mistake")


def test_a_mistakes_line_points_toward_the_centroid_of_the_class_it_was_taken_for():
    points = np.array([[0, 0], [2, 0], [10, 0], [10, 2], [1, 1]], np.float64)
    labels = np.array([0, 0, 1, 1, 0])
    predictions = np.array([0, 0, 1, 1, 1])          # the last, a 0, taken for a 1: class 1 sits at (10, 1)
    starts, ends = mistake_lines(points, labels, predictions, extent=100)
    np.testing.assert_allclose(starts, [[1, 1]])
    np.testing.assert_allclose(ends, [[1 + 6, 1]])   # 6% of the extent 100, straight toward (10, 1)
    _, short = mistake_lines(points, labels, predictions, extent=1000)
    np.testing.assert_allclose(short, [[10, 1]])     # never past the centroid


def test_hovering_a_dot_shows_that_test_images_picture_and_classes(qtbot, state):
    page = make_page(qtbot, state)
    page.size.addItem("40 images", 40)               # a sample, so a dot's position is not its test index
    page.size.setCurrentIndex(page.size.count() - 1)
    view = drawn(qtbot, page)
    wrong = int(np.flatnonzero(view.labels != view.predictions)[0])
    index = int(view.indices[wrong])
    assert index != wrong
    with qtbot.waitSignal(view.pointHovered) as hovered:
        qtbot.mouseMove(view.viewport(), view.widget_pos(wrong))
    assert hovered.args == [index] and view.inset.isVisible()
    expected = image_qimage(state.dataset.x_test[index]).scaled(84, 84, Qt.KeepAspectRatio, Qt.FastTransformation)
    assert view.inset.picture.pixmap().toImage().convertToFormat(expected.format()) == expected
    caption = view.inset.caption.text()
    assert f"#{index}" in caption and "true <b>" + ["top", "bottom"][state.dataset.y_test[index]] in caption
    assert "wrong" in caption
    empty = view.widget_pos(wrong)
    empty.setY(empty.y() + 60) if empty.y() < view.height() / 2 else empty.setY(empty.y() - 60)
    empty.setX(5)                                    # the left margin, no dot there
    with qtbot.waitSignal(view.pointHovered) as left:
        qtbot.mouseMove(view.viewport(), empty)
    assert left.args == [-1] and not view.inset.isVisible()
    page.job.stop_and_wait(5000)


def test_clicking_a_dot_asks_to_open_its_test_index_in_inside(qtbot, state):
    panel = LabPanel(state)
    qtbot.addWidget(panel)
    panel.resize(*SIZE)
    page = panel.pages["Map"]
    panel.show_page("Map")
    panel.show()
    qtbot.waitUntil(lambda: page.current, timeout=20000)
    view = page.view
    settled(qtbot, view)
    i = int(np.flatnonzero(view.labels == 1)[-1])
    with qtbot.waitSignal(panel.inspectRequested) as opened:
        qtbot.mouseClick(view.viewport(), Qt.LeftButton, pos=view.widget_pos(i))
    assert opened.args == [int(view.indices[i])]
    page.job.stop_and_wait(5000)


def test_every_layer_is_offered_by_its_summary_name_and_a_late_one_is_chosen(qtbot, lenet, state):
    assert default_layer(lenet) == 5        # LeNet-5: the 500 units the classifier reads
    vgg = zoo.build("vgg_mini", seed=0)       # ... Dense(256), BatchNorm, ReLU, Dropout, Dense(10): the ReLU
    assert type(vgg.layers[default_layer(vgg)]).__name__ == "ReLU" and default_layer(vgg) == len(vgg.layers) - 4
    state.set_model(lenet)
    page = make_page(qtbot, state)
    assert [page.layer.itemData(i) for i in range(page.layer.count())] == list(range(len(lenet.layers)))
    assert page.layer.itemText(0).startswith("Conv2D #1") and "20 × 24 × 24" in page.layer.itemText(0)
    assert page.layer.currentData() == 5


@pytest.mark.parametrize("module, key, extra", [("sklearn", "tsne", "tsne"), ("umap", "umap", "umap")])
def test_a_method_without_its_package_is_greyed_out_with_how_to_install_it(qtbot, state, monkeypatch,
                                                                          module, key, extra):
    monkeypatch.setitem(sys.modules, module, None)       # as if not installed
    page = make_page(qtbot, state)
    item = page.method.model().item(page.method.findData(key))
    assert not item.isEnabled() and "not installed" in item.text()
    assert f'pip install "numpynet-studio[{extra}]"' in page.note.text()
    assert not page.note.isHidden()
    assert page.method.model().item(page.method.findData("pca")).isEnabled()


def test_a_map_of_an_old_model_is_dropped_and_a_late_result_never_shown(qtbot, page, state):
    view = drawn(qtbot, page)
    assert len(view.points) == 2 * N_EACH
    state.set_model(halves_model())       # another model: the map no longer holds
    assert not page.current and len(view.points) == 0
    # on screen: redrawn for the new model (and that job over: a size chosen while it runs would redraw after it)
    qtbot.waitUntil(lambda: page.current and not page.job.running, timeout=20000)
    page.hide()
    page.size.setCurrentIndex(page.size.findData(None))
    page.draw()
    state.set_dataset(state.dataset)      # the data changes while the map is computed
    qtbot.waitUntil(lambda: not page.job.running, timeout=20000)
    assert page.shown is None and len(view.points) == 0
    assert "no longer holds" in said(page)


def test_cancel_stops_the_map_and_shows_nothing(qtbot, lenet, mnist):
    state = AppState()
    state.set_dataset(Dataset("mnist", mnist.x_train[:10], mnist.y_train[:10], mnist.x_test, mnist.y_test,
                              [str(i) for i in range(10)], "MNIST"))
    state.set_model(lenet)
    page = make_page(qtbot, state)
    page.size.setCurrentIndex(page.size.findData(None))
    page.draw()
    assert page.job.running and page.cancel_button.isVisibleTo(page)
    page.cancel()
    qtbot.waitUntil(lambda: not page.job.running, timeout=10000)
    assert page.shown is None and len(page.view.points) == 0 and "Cancelled" in said(page)
    assert page.cancel_button.isHidden() and page.run_button.isEnabled()


def test_a_model_that_does_not_fit_the_data_is_not_mapped_and_the_page_says_why(qtbot, state, lenet):
    state.set_model(lenet)                 # 28x28 input, the test images are 4x4
    page = make_page(qtbot, state)
    page.draw()
    assert not page.job.running and "Not drawn" in said(page)


def test_a_sample_is_fixed_sorted_and_all_when_asked_for_more():
    a = sample(10000, 1000)
    assert len(a) == 1000 and (np.diff(a) > 0).all() and a.max() < 10000
    np.testing.assert_array_equal(a, sample(10000, 1000))
    np.testing.assert_array_equal(sample(50, None), np.arange(50))
    np.testing.assert_array_equal(sample(50, 2000), np.arange(50))


def test_a_new_layer_redraws_a_pca_map_at_once_even_while_one_is_computing(qtbot, page):
    view = drawn(qtbot, page, layer=0)
    flat = view.points.copy()
    page.size.setCurrentIndex(page.size.findData(1000))      # all 120 images: same map, drawn again
    page.layer.setCurrentIndex(1)                            # while that one computes
    qtbot.waitUntil(lambda: page.current and not page.job.running, timeout=20000)
    assert page.shown[1] == (1, "pca", 1000) and "Dense #2" in said(page)
    assert not np.allclose(np.abs(view.points), np.abs(flat), atol=1e-3)   # 16 pixels and 2 outputs differ


def test_tsne_waits_for_draw_map_then_draws_with_meaningless_axes_named(qtbot, page, monkeypatch):
    class FakeTSNE:
        def __init__(self, n_components, random_state, **kwargs):
            pass

        def fit_transform(self, features):
            return features[:, :2] * 10

    monkeypatch.setitem(sys.modules, "sklearn", types.ModuleType("sklearn"))
    monkeypatch.setitem(sys.modules, "sklearn.manifold", types.SimpleNamespace(TSNE=FakeTSNE))
    drawn(qtbot, page)
    page.method.setCurrentIndex(page.method.findData("tsne"))
    assert not page.current and not page.job.running and "Press Draw map" in said(page)
    page.run_button.click()
    qtbot.waitUntil(lambda: page.current and not page.job.running, timeout=20000)
    assert "t-SNE 1" in page.view.getPlotItem().getAxis("bottom").labelText
    expected = halves_model().forward(page.state.dataset.x_test) * 10     # Dense #2's outputs, as t-SNE gave them
    np.testing.assert_allclose(page.view.points, expected, rtol=1e-5)


def test_a_diverged_model_is_no_map_and_the_page_names_the_layer(qtbot, state):
    model = halves_model()
    model.layers[1].params["W"][0, 0] = np.inf
    state.set_model(model)
    page = make_page(qtbot, state)
    drawn_or_failed = lambda: page._tried is not None and not page.job.running    # noqa: E731
    page.layer.setCurrentIndex(1)
    page.show()
    qtbot.waitUntil(drawn_or_failed, timeout=20000)
    assert page.shown is None and "The map failed" in said(page) and "Dense #2" in said(page)


def test_training_drops_the_map_and_says_to_wait_for_the_run(qtbot, page, state):
    drawn(qtbot, page)
    state.set_training(True)
    assert page.shown is None and len(page.view.points) == 0
    assert "Training is changing the weights" in said(page) and not page.run_button.isEnabled()
    state.set_training(False)
    qtbot.waitUntil(lambda: page.current, timeout=20000)     # drawn again once the run ends


def test_without_a_map_the_page_says_why_in_its_place(qtbot, page, state, lenet):
    drawn(qtbot, page)
    assert page.stack.currentWidget() is page.map_area
    state.set_model(lenet)                  # does not fit the 4x4 images: dropped, and not drawn again
    qtbot.waitUntil(lambda: "Not drawn" in page.placeholder.text(), timeout=5000)
    assert page.stack.currentWidget() is page.placeholder
    assert "The model takes 1×28×28 images; those of halves are 1×4×4" in page.placeholder.text()


def test_in_the_window_a_clicked_dot_opens_in_inside(qtbot, tmp_path, mnist):
    from PySide6.QtCore import QSettings

    from gui.main_window import MainWindow
    window = MainWindow(settings=QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat), autoload_data=False)
    qtbot.addWidget(window)
    window.resize(1366, 768)
    window.show()
    window.state.set_dataset(Dataset("mnist", mnist.x_train[:10], mnist.y_train[:10], mnist.x_test[:300],
                                     mnist.y_test[:300], [str(i) for i in range(10)], "MNIST"))
    window.show_panel("Lab")
    window.panels["Lab"].show_page("Map")
    page = window.panels["Lab"].pages["Map"]
    qtbot.waitUntil(lambda: page.current and not page.job.running, timeout=30000)
    view = page.view
    settled(qtbot, view)
    i = int(np.argmax(view.points[:, 0]))
    qtbot.mouseClick(view.viewport(), Qt.LeftButton, pos=view.widget_pos(i))
    inside = window.panels["Inside"]
    assert inside.picker.index.value() == view.indices[i]
    assert window.docks["Inside"].isVisible() and inside.TABS[inside.tabs.currentIndex()] == "Feature maps"
