"""A background result that arrives after the next job started is filed under what it was computed from.

``Job.wait`` can see a worker's thread end while its ``finished`` signal is still
queued for the GUI thread; a panel may start its next job before that signal is
delivered. Each test makes exactly that happen: job A ends unseen, job B starts
with other settings, then A's result is delivered.
"""
import numpy as np
import pytest
import test_evaluation
import test_point_map
from test_confidence_page import shown

from core.datasets import Dataset
from gui.abstention import Abstention
from gui.lab.confidence import ConfidencePage
from gui.lab.robustness import NAMES, RobustnessPage
from gui.state import AppState

state, panel = test_evaluation.state, test_evaluation.panel     # the Evaluation panel on 400 MNIST test images


def model_and_data(model, mnist, n=200):
    state = AppState()
    state.set_dataset(test_evaluation.subset(mnist, n))
    state.set_model(model.copy(), path="/somewhere/lenet-test")
    return state


def ended_unseen(qtbot, job):
    """Wait for ``job``'s thread without delivering its queued result (as ``Job.wait`` does on a close)."""
    qtbot.waitUntil(lambda: job.running, timeout=5000)
    assert job.wait(60_000)


def test_a_late_evaluation_is_shown_with_its_own_damage(qtbot, panel):
    test_evaluation.shown_and_evaluated(qtbot, panel)
    seen = []
    panel.evaluated.connect(lambda result: seen.append((result.accuracy, panel.result_damage)))
    panel.damage.blockSignals(True)            # no debounced re-run: the test starts each run itself
    panel.damage.set_damage("noise", 0.9)
    panel.evaluate(ask=False)
    ended_unseen(qtbot, panel.job)
    panel.damage.set_damage(None, 0)
    panel.evaluate(ask=False)
    qtbot.waitUntil(lambda: len(seen) == 2 and not panel.busy, timeout=30_000)
    (noisy, noisy_damage), (clean, clean_damage) = seen
    assert (noisy_damage, clean_damage) == (("noise", 0.9), None)
    assert noisy < clean


@pytest.fixture
def robustness_page(qtbot, lenet, mnist):
    page = RobustnessPage(model_and_data(lenet, mnist))
    qtbot.addWidget(page)
    page.show()
    qtbot.waitUntil(lambda: not page.list_job.running, timeout=10_000)
    yield page
    assert page.job.stop_and_wait(5000)


def test_late_curves_are_named_by_their_own_kind(qtbot, robustness_page, monkeypatch):
    page, said = robustness_page, []
    monkeypatch.setattr(page, "_say", lambda text, rich=False: said.append(text))
    page.kind.setCurrentIndex(page.kind.findData("noise"))
    page.compute()
    ended_unseen(qtbot, page.job)
    page.kind.setCurrentIndex(page.kind.findData("rotation"))
    page.compute()
    page.cancel()
    qtbot.waitUntil(lambda: not page.job.running, timeout=30_000)
    arrived = [text for text in said if " on a fixed sample of " in text or " on all " in text]
    assert len(arrived) == 1 and arrived[0].startswith(NAMES["noise"]), said


def test_late_confidence_figures_of_a_replaced_model_are_not_published_as_the_new_ones(qtbot, lenet, mnist,
                                                                                     monkeypatch):
    state = model_and_data(lenet, mnist)
    page = ConfidencePage(state)
    qtbot.addWidget(page)
    shown(qtbot, page)
    published = []
    abstention = Abstention.of(state)
    real_publish = abstention.publish
    monkeypatch.setattr(abstention, "publish",
                        lambda probs, labels, key, damage=None: (published.append((probs, key)),
                                                                 real_publish(probs, labels, key, damage)))
    page.evaluate()
    ended_unseen(qtbot, page.job)
    other = lenet.copy()
    other.layers[-2].params["W"][...] *= -1                    # another model, other predictions
    state.set_model(other, "/somewhere/other")
    page.evaluate()
    qtbot.waitUntil(lambda: not page.job.running and any(key == state.results_key() for _, key in published),
                    timeout=30_000)
    expected = other.predict(state.dataset.x_test)
    for probs, key in published:
        assert key != state.results_key() or np.allclose(probs, expected, atol=1e-6), "old model's figures"
    assert page.job.stop_and_wait(5000)


def test_a_late_map_is_shown_as_the_layer_it_maps(qtbot):
    state = AppState()
    x, y = test_point_map.halves(test_point_map.N_EACH, test_point_map.SWAPPED)
    state.set_dataset(Dataset("halves", x, y, x, y, ["top", "bottom"], "made by the test"))
    state.set_model(test_point_map.halves_model())
    page = test_point_map.make_page(qtbot, state)
    assert page.layer.count() >= 2
    page.layer.setCurrentIndex(0)
    page.draw()
    ended_unseen(qtbot, page.job)
    page.layer.setCurrentIndex(1)
    page.draw()
    page.cancel()
    qtbot.waitUntil(lambda: not page.job.running, timeout=20_000)
    assert page.shown[1][0] == page.layer.itemData(0)
    assert page.job.stop_and_wait(5000)
