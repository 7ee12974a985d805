"""ModelSource: a panel that cannot be seen takes training snapshots only when read or shown again."""
import numpy as np
import pytest
from PySide6.QtWidgets import QTabWidget, QWidget

from core import Sequential, zoo
from core.layers import Dense, Flatten, Softmax
from gui import state as state_mod
from gui.state import AppState, ModelSource
from gui.views.histograms import WeightsView


def tiny():
    return Sequential([Flatten(), Dense(3), Softmax()], input_shape=(1, 4, 4), seed=0)


@pytest.fixture
def state(qtbot):
    state = AppState()
    state.set_model(tiny())
    return state


@pytest.fixture
def tabs(qtbot, state):
    """Two pages, each owning a source: the first shown, the second behind it."""
    tabs = QTabWidget()
    qtbot.addWidget(tabs)
    pages = [QWidget(), QWidget()]
    for i, page in enumerate(pages):
        tabs.addTab(page, f"page {i}")
    tabs.sources = [ModelSource(state, page) for page in pages]
    tabs.show()
    qtbot.waitExposed(tabs)
    return tabs


def snapshot(state, scale):
    """Emit a training snapshot of the state's model with its weights times ``scale``; returns them."""
    weights = {k: v * scale for k, v in state.model.get_weights().items()}
    state.weightsUpdated.emit(weights, {"1.W": np.full((16, 3), scale, np.float32)})
    return weights


def announced(source):
    calls = []
    source.weightsChanged.connect(lambda: calls.append(source._version))
    return calls


def test_a_seen_panel_takes_each_snapshot_and_a_covered_one_waits(qtbot, state, tabs):
    seen, covered = tabs.sources
    told_seen, told_covered = announced(seen), announced(covered)
    state.set_training(True)
    weights = snapshot(state, 2.0)
    qtbot.waitUntil(lambda: bool(told_seen), timeout=2000)
    qtbot.wait(2 * state_mod.WEIGHTS_REFRESH_MS)
    assert told_covered == [], "nobody can see the second page: its views are not told"
    assert covered._pending is not None, "nor is the snapshot copied into its model"
    assert np.array_equal(seen._model.get_weights()["1.W"], weights["1.W"])


def test_reading_a_covered_source_gives_the_latest_weights_and_showing_it_tells_its_views(qtbot, state, tabs):
    seen, covered = tabs.sources
    told = announced(covered)
    state.set_training(True)
    snapshot(state, 2.0)
    latest = snapshot(state, 3.0)
    version = state.model_version
    qtbot.wait(2 * state_mod.WEIGHTS_REFRESH_MS)
    assert np.array_equal(covered.model.get_weights()["1.W"], latest["1.W"]), "a read sees the latest snapshot"
    assert covered.version == version and covered.grads["1.W"][0, 0] == 3.0
    assert told == []
    tabs.setCurrentIndex(1)
    qtbot.waitUntil(lambda: told == [version], timeout=2000)
    qtbot.wait(2 * state_mod.WEIGHTS_REFRESH_MS)
    assert told == [version], "told once"


def test_a_covered_source_shown_again_takes_the_snapshot_that_waited(qtbot, state, tabs):
    _seen, covered = tabs.sources
    told = announced(covered)
    state.set_training(True)
    latest = snapshot(state, 5.0)
    qtbot.wait(2 * state_mod.WEIGHTS_REFRESH_MS)
    tabs.setCurrentIndex(1)
    qtbot.waitUntil(lambda: bool(told), timeout=2000)
    assert np.array_equal(covered._model.get_weights()["1.W"], latest["1.W"])


def test_training_end_hands_every_source_the_final_weights_seen_or_not(qtbot, state, tabs):
    state.set_training(True)
    snapshot(state, 2.0)
    final = {k: v * 7 for k, v in state.model.get_weights().items()}
    state.model.set_weights(final)
    state.set_training(False)
    for source in tabs.sources:
        assert source._pending is None
        assert np.array_equal(source._model.get_weights()["1.W"], final["1.W"])


def test_the_gradient_trend_records_every_snapshot_while_its_panel_is_covered(qtbot):
    state = AppState()
    state.set_model(zoo.build("mlp", seed=0))
    tabs = QTabWidget()
    qtbot.addWidget(tabs)
    front, back = QWidget(), QWidget()
    tabs.addTab(front, "front")
    tabs.addTab(back, "back")
    view = WeightsView(ModelSource(state, back), state)
    tabs.show()
    qtbot.waitExposed(tabs)
    state.set_training(True)
    grads = {f"{i}.W": np.full(w.shape, 10.0 ** -i, np.float32)
             for i, w in ((1, state.model.layers[1].params["W"]), (2, state.model.layers[2].params["W"]))}
    for _ in range(4):
        state.weightsUpdated.emit(state.model.get_weights(), grads)
    xs, ys = view.trend["1.W"]
    assert xs == [1, 2, 3, 4] and ys == pytest.approx([-1.0] * 4, rel=1e-4)
    assert view.trend["2.W"][1] == pytest.approx([-2.0] * 4, rel=1e-4)
