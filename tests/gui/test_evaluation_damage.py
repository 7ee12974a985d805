"""Evaluation on damaged test images: the damage controls, the figures they give, the images shown."""
import numpy as np
import pytest
from numpy.testing import assert_array_equal
import test_evaluation

from core import stress
from core.stress import KINDS
from gui.panels.evaluation import _evaluation
from gui.views.damage_controls import SEED, DamageControls, describe

state, panel = test_evaluation.state, test_evaluation.panel     # its fixtures: the panel on 400 MNIST test images


def evaluated_with(qtbot, panel, kind, strength):
    """Set the damage controls (which evaluate again by themselves) and wait for that result."""
    with qtbot.waitSignal(panel.evaluated, timeout=30_000) as blocker:
        panel.damage.set_damage(kind, strength)
    qtbot.waitUntil(lambda: not panel.busy, timeout=5000)
    return blocker.args[0]


def clean_result(qtbot, panel):
    with qtbot.waitSignal(panel.evaluated, timeout=30_000) as blocker:
        panel.show()
    qtbot.waitUntil(lambda: not panel.busy, timeout=5000)
    return blocker.args[0]


def test_zero_strength_gives_exactly_the_undamaged_accuracy(qtbot, panel, state, lenet):
    clean = clean_result(qtbot, panel)
    damaged = evaluated_with(qtbot, panel, "blur", 1.5)
    assert damaged.accuracy != clean.accuracy
    zero = evaluated_with(qtbot, panel, "noise", 0.0)
    assert zero.accuracy == clean.accuracy == lenet.evaluate(state.dataset.x_test, state.dataset.y_test)["accuracy"]
    assert_array_equal(zero.probs, clean.probs)
    assert_array_equal(panel.images, state.dataset.x_test)
    assert "damaged" not in panel.summary.text()
    assert "undamaged" not in panel.details.inside.toolTip()


@pytest.mark.parametrize("kind", list(KINDS))
def test_every_kind_at_zero_strength_evaluates_the_clean_images(lenet, mnist, kind):
    x, y = mnist.x_test[:50], mnist.y_test[:50]
    result, images = _evaluation(lenet, x, y, (kind, 0.0))(lambda done, total: None)
    assert_array_equal(images, x)
    assert result.accuracy == lenet.evaluate(x, y)["accuracy"]


def test_a_damaged_run_shows_the_damaged_images_and_says_which_damage(qtbot, panel, state, lenet):
    clean_result(qtbot, panel)
    result = evaluated_with(qtbot, panel, "noise", 0.6)
    x, y = state.dataset.x_test, state.dataset.y_test
    expected = stress.damage_set(x, "noise", 0.6, rng=SEED)
    assert result.accuracy == stress.robustness(lenet, x, y, "noise", [0.6], rng=SEED).accuracy[0]
    assert "Gaussian noise, sigma 0.6" in panel.summary.text() and "damaged" in panel.summary.text()
    assert "damaged images (Gaussian noise, sigma 0.6)" in panel.mistakes_caption.text()
    assert len(panel.mistakes_shown) > 0
    for tile, i in zip(panel.mistakes.tiles(), panel.mistakes_shown):
        assert not np.array_equal(tile.values[0], x[i, 0])
        np.testing.assert_array_equal(tile.values[0], expected[i, 0])
    np.testing.assert_array_equal(panel.details.image.tiles()[0].values[0], expected[panel.details.index, 0])
    assert "undamaged" in panel.details.inside.toolTip()


def test_a_re_run_gives_the_same_figures(qtbot, panel):
    clean_result(qtbot, panel)
    first = evaluated_with(qtbot, panel, "occlusion", 0.5)
    with qtbot.waitSignal(panel.evaluated, timeout=30_000) as blocker:
        panel.run_button.click()
    assert_array_equal(blocker.args[0].probs, first.probs)
    assert blocker.args[0].accuracy == first.accuracy


def test_a_damage_is_said_in_words():
    assert describe(None) == "no damage"
    assert describe(("noise", 0.25)) == "Gaussian noise, sigma 0.25"
    assert describe(("rotation", -30.0)) == "rotated -30°"
    assert describe(("thickness", -1.2)) == "strokes thinned 1.2 px"
    assert describe(("thickness", 2.0)) == "strokes thickened 2 px"
    assert describe(("occlusion", 0.4)) == "occluded, side 40%"


def test_the_controls_offer_each_kind_in_its_unit_and_range(qtbot):
    controls = DamageControls()
    qtbot.addWidget(controls)
    assert controls.damage() is None and not controls.strength.isEnabled()
    for kind, unit in KINDS.items():
        controls.set_damage(kind, 0.5)
        low, high = stress.RANGES[kind]
        assert (controls.strength.minimum(), controls.strength.maximum()) == (low, high)
        assert controls.unit.text() == unit and controls.damage() == (kind, 0.5)
        assert unit in controls.strength.toolTip()
    controls.set_damage("rotation", 0)
    controls.slider.setValue(controls.slider.maximum())
    assert controls.damage() == ("rotation", 180.0)
    controls.strength.setValue(-90)
    assert controls.slider.value() == controls.slider.maximum() // 4


def test_abstention_figures_of_a_damaged_run_say_so(qtbot, panel, state):
    from gui.abstention import Abstention
    from gui.lab.confidence import ConfidencePage
    page = ConfidencePage(state)
    qtbot.addWidget(page)
    clean_result(qtbot, panel)
    assert Abstention.of(state).damage is None
    evaluated_with(qtbot, panel, "rotation", 40.0)
    assert Abstention.of(state).damage == "rotated 40°"
    page._show_threshold()
    assert "damaged in Evaluation: rotated 40°" in page.summary.text()
    evaluated_with(qtbot, panel, "rotation", 0.0)
    page._show_threshold()
    assert Abstention.of(state).damage is None and "damaged" not in page.summary.text()
