"""Every Lab page follows one rule (gui/lab/readiness.py): no curves, map, accuracy or calibration for a model
on data it was not made for, even when the shapes fit; each page says why, in the same words."""
import numpy as np
import pytest

from core.datasets import Dataset
from gui.lab import ConfidencePage, PointMapPage, RobustnessPage, SurgeryPage
from gui.lab.readiness import why_not
from gui.state import AppState

FASHION = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]


def shown(page):
    """(what the page says, whether it computes): each page's own line, started as a user would start it."""
    if isinstance(page, RobustnessPage):
        page.compute()
        return page.note.text(), page.job.running
    if isinstance(page, PointMapPage):
        page.draw()
        return page.status.text() or page.placeholder.text(), page.job.running
    if isinstance(page, SurgeryPage):
        return page.accuracy.summary.text(), page.accuracy.job.running
    page.evaluate()
    return page.summary.text(), page.job.running


@pytest.fixture
def clothes(lenet):
    """The MNIST LeNet-5 and a dataset of the same shapes whose classes are clothes."""
    rng = np.random.default_rng(0)
    x, y = rng.random((40, 1, 28, 28), dtype=np.float32), np.arange(40) % 10
    state = AppState()
    state.set_dataset(Dataset("fashion-mnist", x, y, x, y, FASHION, "made by the test"))
    state.set_model(lenet.copy(), path="/somewhere/lenet")
    return state


@pytest.mark.parametrize("make", [RobustnessPage, PointMapPage, SurgeryPage, ConfidencePage])
def test_a_digit_model_on_clothes_is_not_computed_on_and_every_page_says_why(qtbot, clothes, make):
    page = make(clothes)
    qtbot.addWidget(page)
    page.resize(1200, 700)
    page.show()
    text, computing = shown(page)
    assert not computing
    assert "so its answers would name the wrong things" in text and "Evaluation tab" in text, text
    assert "T-shirt/top" in text


def test_the_reasons_come_in_the_order_a_user_fixes_them(lenet, mnist):
    fits = Dataset("mnist", mnist.x_train[:10], mnist.y_train[:10], mnist.x_test[:10], mnist.y_test[:10],
                   [str(i) for i in range(10)], "made by the test")
    assert why_not(None, None, True, "wait").startswith("No model yet")
    assert why_not(lenet, None, True, "wait").startswith("No test images")
    assert why_not(lenet, fits, False, "wait", least=11).startswith("Fewer than 11 test images")
    assert why_not(lenet, fits, True, "draw the map") == ("Training is changing the weights: draw the map when the "
                                                          "run ends.")
    assert why_not(lenet, fits, False, "wait") is None
