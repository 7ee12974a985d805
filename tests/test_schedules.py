"""Learning-rate schedules: their factors, and what fit does with them."""
import math

import numpy as np
import pytest

from core import Sequential
from core.callbacks import Callback
from core.layers import Dense, Flatten, Softmax
from core.optimizers import SGD
from core.schedules import CosineDecay, ExponentialDecay, StepDecay, epochs_past_end, get


@pytest.mark.parametrize("t, factor", [(0, 1), (1.99, 1), (2, 0.5), (3.5, 0.5), (4, 0.25), (9, 0.5 ** 4)])
def test_step_decay(t, factor):
    assert StepDecay(step_epochs=2, gamma=0.5).factor(t) == pytest.approx(factor)


@pytest.mark.parametrize("t", [0, 0.5, 1, 2.25, 7])
def test_exponential_decay_is_continuous(t):
    assert ExponentialDecay(0.8).factor(t) == pytest.approx(0.8 ** t)


@pytest.mark.parametrize("t, factor", [(0, 1), (2.5, 0.1 + 0.9 * (1 + math.cos(math.pi / 4)) / 2), (5, 0.55),
                                       (10, 0.1), (15, 0.1)])
def test_cosine_decay(t, factor):
    assert CosineDecay(10, min_factor=0.1).factor(t) == pytest.approx(factor)


def test_get():
    assert get(None) is None
    s = StepDecay()
    assert get(s) is s
    assert isinstance(get("step"), StepDecay) and isinstance(get("exponential"), ExponentialDecay)
    cos = get("cosine", epochs=4)
    assert isinstance(cos, CosineDecay) and cos.epochs == 4
    with pytest.raises(ValueError, match="linear"):
        get("linear")


@pytest.mark.parametrize("make", [lambda: StepDecay(0), lambda: StepDecay(1, gamma=0), lambda: StepDecay(1, 1.5),
                                  lambda: ExponentialDecay(0), lambda: ExponentialDecay(2),
                                  lambda: CosineDecay(0), lambda: CosineDecay(5, min_factor=2)])
def test_bad_arguments(make):
    with pytest.raises(ValueError):
        make()


# ----- used from fit ---------------------------------------------------------------------

class BatchRates(Callback):
    def on_train_begin(self, logs=None):
        self.rates = []

    def on_batch_end(self, batch, logs=None):
        self.rates.append(logs["lr"])


def _fit(schedule, epochs=3, initial_epoch=0, n=40, batch_size=10):
    rng = np.random.default_rng(0)
    model = Sequential([Flatten(), Dense(3), Softmax()], input_shape=(1, 4, 4), seed=0)
    model.compile(SGD(lr=0.1), "crossentropy")
    rates = BatchRates()
    history = model.fit(rng.random((n, 1, 4, 4)), rng.integers(0, 3, n), epochs=epochs, batch_size=batch_size,
                        lr_schedule=schedule, callbacks=[rates], seed=0, initial_epoch=initial_epoch)
    return model, history, rates.rates


def test_step_decay_from_fit_halves_the_rate_each_epoch():
    model, history, rates = _fit(StepDecay(1, 0.5))
    assert history.history["lr"] == pytest.approx([0.1, 0.05, 0.025])
    assert rates == pytest.approx([0.1] * 4 + [0.05] * 4 + [0.025] * 4)
    assert model.optimizer.lr == 0.1   # the configured rate is back after training


def test_exponential_decay_by_name_from_fit_decays_within_epochs():
    _, history, rates = _fit("exponential", epochs=2)
    assert rates == pytest.approx([0.1 * 0.9 ** (b / 4) for b in range(8)])
    assert history.history["lr"] == pytest.approx([rates[3], rates[7]])


def test_cosine_by_name_spans_the_fit():
    _, _, rates = _fit("cosine", epochs=2)
    assert rates == pytest.approx([0.1 * 0.5 * (1 + math.cos(math.pi * b / 8)) for b in range(8)])
    assert all(r > 0 for r in rates)


def test_a_schedule_spans_the_run_whatever_the_model_trained_before():
    """Continuing at epoch 2 for 2 more (Keras: epochs=4, initial_epoch=2): the named cosine starts at the
    typed rate and ends at the run's last epoch. It used to count the model's earlier epochs too, so a
    model trained for 12 epochs started a 2-epoch cosine at a twentieth of the typed rate."""
    _, history, rates = _fit("cosine", epochs=4, initial_epoch=2)
    assert history.epoch == [2, 3]
    assert rates == pytest.approx([0.1 * 0.5 * (1 + math.cos(math.pi * b / 8)) for b in range(8)])
    _, _, rates = _fit("cosine", epochs=14, initial_epoch=12)
    assert rates[0] == 0.1 and rates[-1] == pytest.approx(0.1 * 0.5 * (1 + math.cos(math.pi * 7 / 8)))


@pytest.mark.parametrize("schedule", [StepDecay(1, 0.5), ExponentialDecay(0.5)], ids=["step", "exponential"])
def test_a_schedule_object_counts_from_the_run_start_too(schedule):
    _, _, fresh = _fit(schedule, epochs=2)
    _, _, continued = _fit(schedule, epochs=7, initial_epoch=5)
    assert continued == pytest.approx(fresh) and continued[0] == 0.1


def test_no_schedule_keeps_the_rate():
    _, history, rates = _fit(None, epochs=2)
    assert rates == [0.1] * 8 and history.history["lr"] == [0.1, 0.1]


def test_cosine_by_name_needs_its_length():
    with pytest.raises(ValueError, match="epochs"):
        get("cosine")


def test_epochs_past_the_end_of_a_cosine_are_counted_and_other_schedules_have_no_end():
    opt = SGD(lr=0.1)
    assert epochs_past_end(opt, 5, 3) == 0, "no schedule: no end"
    opt.schedule, opt.schedule_start = CosineDecay(10), 2
    assert epochs_past_end(opt, 7, 3) == 0         # 5 of 10 done: 3 more fit
    assert epochs_past_end(opt, 10, 3) == 1        # 8 done: 2 left
    assert epochs_past_end(opt, 12, 4) == 4        # the end reached
    assert epochs_past_end(opt, 15, 1) == 1        # long past it
    opt.schedule = StepDecay(2)
    assert epochs_past_end(opt, 50, 5) == 0
