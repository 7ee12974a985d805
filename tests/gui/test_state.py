"""AppState: every field is read-only, and every change goes through a method that emits it."""
import pytest
from PySide6.QtCore import SignalInstance

from core import zoo
from core.datasets import synthetic_digits
from gui.state import AppState

FIELDS = ("model", "model_path", "model_saved", "dataset", "training", "architecture_valid", "invalid_reason",
          "model_version", "dataset_version")


@pytest.fixture
def state(qtbot):
    return AppState()


@pytest.mark.parametrize("field", FIELDS)
def test_assigning_a_field_raises(state, field):
    before = getattr(state, field)
    with pytest.raises(AttributeError):
        setattr(state, field, object())
    assert getattr(state, field) is before


def test_no_field_is_a_plain_attribute(state):
    """A field added later as ``self.x = ...`` could be written past its signal: every public value
    the state holds is a property without a setter."""
    values = [k for k, v in vars(state).items() if not k.startswith("_") and not isinstance(v, SignalInstance)]
    assert values == []
    public = {k: v for k, v in vars(AppState).items() if isinstance(v, property)}
    assert set(FIELDS) <= set(public)
    assert [k for k, v in public.items() if v.fset is not None] == []


def _changes(qtbot, signal, change):
    """Run ``change`` and return the arguments ``signal`` was emitted with (fails if it was not)."""
    with qtbot.waitSignal(signal, timeout=0) as blocker:
        change()
    return blocker.args


def test_each_change_goes_through_a_method_that_emits(qtbot, state):
    model = zoo.build("mlp", seed=0)
    assert _changes(qtbot, state.modelChanged, lambda: state.set_model(model, "/somewhere")) == [model]
    assert (state.model, state.model_path, state.model_saved, state.model_version) == (model, "/somewhere", True, 1)

    assert _changes(qtbot, state.trainingStarted, lambda: state.set_training(True)) == []
    assert state.training and not state.model_saved and state.model_version == 2
    _changes(qtbot, state.trainingFinished, lambda: state.set_training(False))
    assert not state.training

    assert _changes(qtbot, state.modelSaved, lambda: state.set_saved("/elsewhere")) == ["/elsewhere"]
    assert (state.model_path, state.model_saved) == ("/elsewhere", True)

    ds = synthetic_digits(20, seed=0)
    assert _changes(qtbot, state.datasetChanged, lambda: state.set_dataset(ds)) == [ds]
    assert (state.dataset, state.dataset_version) == (ds, 1)

    assert _changes(qtbot, state.validityChanged, lambda: state.set_architecture_valid(False, "Dense #2: no")) == \
        [False, "Dense #2: no"]
    assert (state.architecture_valid, state.invalid_reason) == (False, "Dense #2: no")

    version = state.model_version
    _changes(qtbot, state.resultsOutdated, lambda: state.weightsUpdated.emit({}, {}))
    assert state.model_version == version + 1
