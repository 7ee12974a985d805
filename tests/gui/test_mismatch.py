"""A model meets data it does not fit: say so before evaluating or training, and offer the sensible choices.

Seen in the real window: an MNIST model evaluated on Fashion-MNIST (7.09%, with digit class names)
and trained on it with no word.
"""
import os

import numpy as np
import pytest
from PySide6.QtCore import QSettings, Qt

from core import DatasetError, Sequential, datasets
from core.datasets import Dataset
from core.layers import Dense, Flatten, Softmax
from core.transfer import check
from gui import mismatch
from gui.mismatch import CANCEL, CONTINUE, EVALUATE, NEW_MODEL, NEW_OUTPUT, TRAIN, MismatchDialog
from gui.panels import training as training_mod
from gui.panels.evaluation import EvaluationPanel
from gui.panels.training import TrainingPanel
from gui.settings import Settings
from gui.state import AppState


@pytest.fixture(scope="module")
def fashion():
    try:
        ds = datasets.load("fashion-mnist", root=os.environ.get("NUMPYNET_DATA"), download=False)
    except DatasetError as e:
        pytest.skip(str(e))
    return Dataset(ds.name, ds.x_train[:100], ds.y_train[:100], ds.x_test[:300], ds.y_test[:300],
                   ds.class_names, ds.source)


class Answer:
    """Stands in for the user: clicks ``choice``'s button when the dialog opens; records what it offered."""

    def __init__(self, monkeypatch, choice):
        self.choice, self.asked = choice, []
        monkeypatch.setattr(MismatchDialog, "exec", lambda dialog: self._exec(dialog))

    def _exec(self, dialog):
        self.asked.append({c: dialog.button_for(c) is not None for c in (NEW_OUTPUT, NEW_MODEL, CONTINUE, CANCEL)})
        self.text = dialog.text()
        dialog.button_for(self.choice).click()
        return 0


# ----- the dialog ------------------------------------------------------------------------------------
def tiny(names=("a", "b", "c"), shape=(1, 8, 8), n=90, seed=0):
    rng = np.random.default_rng(seed)
    k = len(names)
    y = rng.integers(0, k, n + 30)
    x = rng.random((n + 30, *shape)).astype(np.float32) * 0.3
    x[np.arange(len(y)), 0, y % shape[1], :] += 0.7
    return Dataset("tiny", x[:n], y[:n], x[n:], y[n:], list(names), "made by the test")


def tiny_model(classes=3, names=("a", "b", "c")):
    model = Sequential([Flatten(), Dense(16, "relu"), Dense(classes), Softmax()], input_shape=(1, 8, 8), seed=0)
    model.meta.update(dataset="first", class_names=list(names))
    return model


@pytest.mark.parametrize("data, purpose, offered", [
    (tiny(("x", "y", "z")), TRAIN, [NEW_OUTPUT, NEW_MODEL, CONTINUE, CANCEL]),
    (tiny(("x", "y", "z")), EVALUATE, [CONTINUE, CANCEL]),
    (tiny("wxyz"), TRAIN, [NEW_OUTPUT, NEW_MODEL, CANCEL]),
    (tiny("abc", shape=(1, 9, 9)), TRAIN, [NEW_MODEL, CANCEL]),
    (tiny("abc", shape=(1, 9, 9)), EVALUATE, [CANCEL]),
])
def test_the_dialog_offers_what_makes_sense(qtbot, data, purpose, offered):
    found = check(tiny_model(), data)
    assert [c for c, _text, _tip in mismatch.choices(found, purpose)] == offered
    dialog = MismatchDialog(None, found, purpose)
    qtbot.addWidget(dialog)
    assert [c for c in (NEW_OUTPUT, NEW_MODEL, CONTINUE, CANCEL) if dialog.button_for(c)] == offered
    assert found.describe() in dialog.text() and dialog.choice() == CANCEL


def test_the_dialog_shows_names_as_plain_text(qtbot):
    found = check(tiny_model(), tiny(("<b>x", "y", "z")))
    dialog = MismatchDialog(None, found, TRAIN)
    qtbot.addWidget(dialog)
    assert dialog.textFormat() == Qt.PlainText and "<b>x" in dialog.text()


# ----- Evaluation --------------------------------------------------------------------------------------
@pytest.fixture
def digits_on_fashion(lenet, fashion):
    """The state after loading Fashion-MNIST with an MNIST model open."""
    state = AppState()
    state.set_dataset(fashion)
    state.set_model(lenet)
    return state


@pytest.fixture
def evaluation(qtbot, digits_on_fashion):
    panel = EvaluationPanel(digits_on_fashion)
    qtbot.addWidget(panel)
    panel.resize(1300, 850)
    yield panel
    assert panel.job.stop_and_wait(5000)


def test_an_mnist_model_is_not_evaluated_on_fashion_by_itself(qtbot, evaluation, monkeypatch):
    answer = Answer(monkeypatch, CANCEL)
    evaluation.show()
    qtbot.wait(50)
    assert not evaluation.busy and evaluation.result is None and answer.asked == []   # no dialog unasked
    text = evaluation.summary.text()
    assert "Not evaluated" in text and "0, 1, 2" in text and "T-shirt/top" in text and "%" not in text


def test_evaluate_asks_and_cancel_evaluates_nothing(qtbot, evaluation, monkeypatch):
    answer = Answer(monkeypatch, CANCEL)
    evaluation.show()
    evaluation.run_button.click()
    assert answer.asked == [{NEW_OUTPUT: False, NEW_MODEL: False, CONTINUE: True, CANCEL: True}]
    assert "fashion-mnist" in answer.text and not evaluation.busy and evaluation.result is None


def test_evaluate_anyway_when_the_user_knows(qtbot, evaluation, monkeypatch):
    answer = Answer(monkeypatch, CONTINUE)
    evaluation.show()
    with qtbot.waitSignal(evaluation.evaluated, timeout=30_000):
        evaluation.run_button.click()
    assert evaluation.current and len(answer.asked) == 1
    qtbot.waitUntil(lambda: not evaluation.busy, timeout=5000)
    evaluation.state.set_dataset(evaluation.state.dataset)   # loaded again: ask again
    assert not evaluation.busy and evaluation.result is None
    evaluation.run_button.click()
    assert len(answer.asked) == 2


def test_other_classes_cannot_be_evaluated_and_no_dialog_pretends_otherwise(qtbot, evaluation, monkeypatch,
                                                                            mnist):
    answer = Answer(monkeypatch, CANCEL)
    letters = Dataset("letters", mnist.x_train[:50], mnist.y_train[:50] % 5, mnist.x_test[:50],
                      mnist.y_test[:50] % 5, list("ABCDE"), "test")
    evaluation.state.set_dataset(letters)
    evaluation.show()
    evaluation.run_button.click()
    assert answer.asked == [] and not evaluation.busy
    assert "10 outputs; letters has 5 classes" in evaluation.summary.text()
    assert "new output layer" in evaluation.summary.text()


# ----- Training ----------------------------------------------------------------------------------------
@pytest.fixture
def training(qtbot, tmp_path):
    state = AppState()
    panel = TrainingPanel(state, Settings(QSettings(str(tmp_path / "s.ini"), QSettings.IniFormat)))
    qtbot.addWidget(panel)
    panel.epochs.setValue(1)
    panel.batch_size.setValue(30)
    panel.set_validation_fraction(0.0)
    panel.preset.setCurrentText("mlp")
    yield panel
    panel.job.stop_and_wait(2000)


def start(qtbot, panel):
    panel.start()
    qtbot.waitUntil(lambda: not panel.running, timeout=20_000)


def test_a_model_of_fitting_data_starts_without_a_question(qtbot, training, monkeypatch):
    answer = Answer(monkeypatch, CANCEL)
    training.state.set_model(tiny_model())
    training.state.set_dataset(tiny())
    start(qtbot, training)
    assert answer.asked == [] and training.state.model.train_history["loss"]


def test_new_output_layer_keeps_the_rest_and_trains(qtbot, training, monkeypatch):
    answer = Answer(monkeypatch, NEW_OUTPUT)
    old = tiny_model()
    hidden = old.get_weights()["1.W"].copy()
    training.state.set_model(old)
    training.state.set_dataset(tiny("wxyz"))
    assert training.start_action.isEnabled()
    given = []
    training.state.modelChanged.connect(lambda m: given.append(m.get_weights()["1.W"].copy()))
    training.start()
    assert answer.asked == [{NEW_OUTPUT: True, NEW_MODEL: True, CONTINUE: False, CANCEL: True}]
    assert "3 outputs; tiny has 4 classes" in answer.text
    model = training.state.model
    assert model is not old and model.output_shape == (4,) and training.running
    np.testing.assert_array_equal(given[0], hidden)      # the hidden layer as it was learned
    qtbot.waitUntil(lambda: not training.running, timeout=20_000)
    assert len(model.train_history["loss"]) == 1 and model.meta["class_names"] == list("wxyz")
    assert not check(model, training.state.dataset)


def test_new_model_starts_over_with_the_preset(qtbot, training, monkeypatch):
    Answer(monkeypatch, NEW_MODEL)
    old = tiny_model()
    training.state.set_model(old)
    training.state.set_dataset(tiny("wxyz"))
    start(qtbot, training)
    model = training.state.model
    assert model is not old and model.output_shape == (4,) and len(model.layers) == 5   # zoo mlp
    assert model.meta["class_names"] == list("wxyz")


def test_train_anyway_fine_tunes_the_same_model_under_the_new_names(qtbot, training, monkeypatch):
    answer = Answer(monkeypatch, CONTINUE)
    old = tiny_model()
    training.state.set_model(old)
    training.state.set_dataset(tiny(("x", "y", "z")))
    start(qtbot, training)
    assert len(answer.asked) == 1 and training.state.model is old
    assert old.meta["class_names"] == ["x", "y", "z"] and old.train_history["loss"]
    start(qtbot, training)                                  # the names now agree: no second question
    assert len(answer.asked) == 1


def test_cancel_does_not_train(qtbot, training, monkeypatch):
    Answer(monkeypatch, CANCEL)
    old = tiny_model()
    training.state.set_model(old)
    training.state.set_dataset(tiny(("x", "y", "z")))
    training.start()
    assert not training.running and training.state.model is old and not old.train_history


def test_images_of_another_shape_cannot_start(qtbot, training, monkeypatch):
    answer = Answer(monkeypatch, CANCEL)
    training.state.set_model(tiny_model())
    training.state.set_dataset(tiny("abc", shape=(1, 9, 9)))
    assert not training.start_action.isEnabled()
    assert "takes 1×8×8 images; those of tiny are 1×9×9" in training.progress_label.text()
    training.start()
    assert answer.asked == [] and not training.running


def test_inside_names_a_test_image_by_its_datasets_class(qtbot, digits_on_fashion, fashion):
    """The label is the dataset's: an ankle boot is not "labelled 9" because the model reads digits."""
    from gui.panels.inside import InsidePanel
    panel = InsidePanel(digits_on_fashion)
    qtbot.addWidget(panel)
    i = int(np.flatnonzero(fashion.y_test == 9)[0])
    panel.show_test_index(i)
    assert panel.picker.info.text() == f"fashion-mnist test image #{i}, labelled Ankle boot"


def test_a_model_without_a_dense_layer_says_it_cannot_get_a_new_one(qtbot, training, monkeypatch):
    Answer(monkeypatch, NEW_OUTPUT)
    shown = []
    monkeypatch.setattr(training_mod, "show_error", lambda parent, title, message, *rest, **kw: shown.append(message))
    old = Sequential([Flatten(), Softmax()], input_shape=(1, 2, 2))
    training.state.set_model(old)
    rng = np.random.default_rng(0)
    training.state.set_dataset(Dataset("small", rng.random((40, 1, 2, 2), dtype=np.float32), np.arange(40) % 3,
                                       rng.random((8, 1, 2, 2), dtype=np.float32), np.arange(8) % 3, list("abc"), "-"))
    training.start()
    assert shown and "no Dense layer" in shown[0]
    assert not training.running and training.state.model is old
