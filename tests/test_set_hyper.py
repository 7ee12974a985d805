"""Optimizer.set_hyper: hyper-parameters changed between two steps, the optimizer's state kept."""
import numpy as np
import pytest
from numpy.testing import assert_allclose

from core import Sequential, schedules
from core.callbacks import Callback
from core.layers import Dense, Softmax
from core.optimizers import SGD, Adam, RMSprop


def test_sgd_keeps_its_momentum_and_takes_the_new_rate_from_the_next_step():
    rng = np.random.default_rng(0)
    p0, g1, g2 = (rng.standard_normal((2, 3)) for _ in range(3))
    opt, p = SGD(lr=0.1, momentum=0.9), p0.copy()
    opt.step([("k", "W", p, g1)])
    opt.set_hyper(lr=0.05, momentum=0.5)
    opt.step([("k", "W", p, g2)])
    v1 = g1
    p1 = p0 - 0.1 * v1
    expected = p1 - 0.05 * (0.5 * v1 + g2)
    assert_allclose(p, expected, rtol=1e-12)
    assert opt.iterations == 2
    assert opt.get_config() == {"type": "SGD", "lr": 0.05, "weight_decay": 0.0, "momentum": 0.5, "nesterov": False}


def test_adam_keeps_its_moments_and_step_count():
    rng = np.random.default_rng(1)
    p0, g1, g2 = (rng.standard_normal(4) for _ in range(3))
    changed, p = Adam(lr=0.01), p0.copy()
    reference, q = Adam(lr=0.01), p0.copy()
    for opt, x in ((changed, p), (reference, q)):
        opt.step([("k", "W", x, g1)])
    changed.set_hyper(lr=0.001, weight_decay=0.01)
    reference.lr, reference.weight_decay = 0.001, 0.01   # what set_hyper must amount to, done by hand
    changed.step([("k", "W", p, g2)])
    reference.step([("k", "W", q, g2)])
    assert_allclose(p, q, rtol=1e-12)
    assert changed.iterations == 2 and changed.base_lr == 0.001


@pytest.mark.parametrize("opt, changes, named", [
    (SGD(lr=0.1), {"lr": -1.0}, "learning rate"),
    (SGD(lr=0.1), {"lr": float("nan")}, "learning rate"),
    (SGD(lr=0.1, momentum=0.9), {"momentum": 1.0}, "momentum"),
    (SGD(lr=0.1, momentum=0.9, nesterov=True), {"momentum": 0.0}, "nesterov"),
    (SGD(lr=0.1), {"beta1": 0.9}, "beta1"),
    (RMSprop(), {"weight_decay": -0.1}, "weight_decay"),
    (Adam(), {"momentum": 0.9}, "momentum"),
])
def test_a_bad_change_is_refused_by_name_and_changes_nothing(opt, changes, named):
    before = opt.get_config()
    with pytest.raises(ValueError, match=named):
        opt.set_hyper(**changes)
    assert opt.get_config() == before and opt.lr == before["lr"]


class ChangeAt(Callback):
    """Turns the knob after batch ``at`` of the first epoch, as a user would mid-run; keeps every batch's lr."""

    def __init__(self, at, **changes):
        self.at, self.changes, self.lrs = at, changes, []

    def on_batch_end(self, batch, logs=None):
        self.lrs.append(logs["lr"])
        if len(self.lrs) == self.at + 1:
            self.model.optimizer.set_hyper(**self.changes)


def small_run(lr_schedule=None, **changes):
    rng = np.random.default_rng(0)
    x, y = rng.random((64, 6), dtype=np.float32), rng.integers(0, 3, 64)
    model = Sequential([Dense(3), Softmax()], input_shape=(6,))
    model.compile(SGD(lr=0.1, momentum=0.9), "crossentropy")
    knob = ChangeAt(3, **changes)
    model.fit(x, y, epochs=2, batch_size=8, callbacks=[knob], seed=0, lr_schedule=lr_schedule)
    return model, knob.lrs


def test_a_change_mid_fit_applies_from_the_next_batch():
    model, lrs = small_run(lr=0.02, momentum=0.5)
    assert lrs[:4] == [0.1] * 4 and lrs[4:] == [0.02] * (len(lrs) - 4)
    assert model.optimizer.momentum == 0.5 and model.optimizer.lr == 0.02


def test_a_schedule_continues_from_the_new_base_rate():
    _, lrs = small_run("exponential", lr=0.02)
    decay = schedules.ExponentialDecay()
    steps = 8
    expected = [(0.1 if i < 4 else 0.02) * decay.factor(i / steps) for i in range(len(lrs))]
    assert_allclose(lrs, expected, rtol=1e-12)


def test_the_schedules_factor_in_force_carries_over_to_the_new_base_rate():
    opt = SGD(lr=0.1)
    opt.lr = 0.05                 # a schedule at half the base rate
    opt.set_hyper(lr=0.2)
    assert (opt.base_lr, opt.lr) == (0.2, 0.1)
    opt.set_hyper(momentum=0.5)   # a change of another knob leaves the rate alone
    assert (opt.base_lr, opt.lr) == (0.2, 0.1)
