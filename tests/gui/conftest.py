"""GUI tests run offscreen; views are tested with one LeNet-5 trained once per session."""
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest

from core import zoo
from core.optimizers import SGD


@pytest.fixture(scope="module", autouse=True)
def collect_on_the_gui_thread(qapp):
    """As in the app (gui/collector.py): reference cycles are collected on the GUI thread only. A widget left
    in a cycle by one test and collected by the next test's worker hung the suite."""
    from gui.collector import install
    collector = install(qapp)
    yield
    collector.close()


@pytest.fixture(autouse=True)
def discard_unsaved_models(monkeypatch):
    """Tests replace and close trained models freely: the unsaved-model question answers Discard, as a
    user who does not want them would (tests/gui/test_unsaved.py asks it for real)."""
    from gui import unsaved
    monkeypatch.setattr(unsaved, "ask", lambda parent, doing, can_save=True: unsaved.DISCARD)


@pytest.fixture(scope="session")
def lenet(mnist):
    """LeNet-5 after one short epoch on 2,000 MNIST images: real filters, and still mistakes to show."""
    model = zoo.build("lenet5", seed=0)
    model.compile(SGD(lr=0.01, momentum=0.9), "crossentropy")
    model.fit(mnist.x_train[:2000], mnist.y_train[:2000], epochs=1, batch_size=32, seed=0)
    model.meta["class_names"] = [str(i) for i in range(10)]
    return model
