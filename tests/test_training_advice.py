"""core.training_advice on known curves: a rising loss, a NaN, noise, a plateau early and late."""
import numpy as np

from core.training_advice import SHORT, WINDOW, loss_rising, plateau


def noisy(curve, seed=0, scale=0.08):
    return np.asarray(curve) * (1 + scale * np.random.default_rng(seed).standard_normal(len(curve)))


def test_a_falling_or_flat_noisy_loss_is_not_rising():
    steps = np.arange(600)
    assert loss_rising(noisy(2.3 * np.exp(-steps / 150) + 0.1)) is None
    assert loss_rising(noisy(np.full(600, 0.3), scale=0.3)) is None


def test_a_loss_that_turns_upward_is_rising():
    steps = np.arange(400)
    curve = np.concatenate([2.3 * np.exp(-steps / 100) + 0.2, 0.2 + np.linspace(0, 0.2, 150)])
    reason = loss_rising(noisy(curve))
    assert reason is not None and "rising" in reason


def test_a_nan_or_a_quick_climb_towards_divergence_is_said_early():
    assert "NaN" in loss_rising([0.5, 0.4, float("nan")])
    climb = 0.02 * np.exp(np.arange(60) / 20)      # a pretrained model's loss under far too large steps
    assert loss_rising(noisy(climb[:20])) is None, "too soon to tell"
    reason = loss_rising(noisy(climb))
    assert reason is not None and "divergence" in reason
    assert loss_rising(np.concatenate([np.full(40, 0.02), [0.5], np.full(19, 0.02)])) is None, "one spike is noise"


def test_a_fine_tuned_models_spiky_near_zero_loss_is_not_heading_for_divergence():
    """Mostly about 0.01, one batch in 20 at 0.1-0.35: short means jump to several times their lowest."""
    rng = np.random.default_rng(0)
    calm = 0.01 * rng.lognormal(0, 1, 1000)
    curve = np.where(rng.random(1000) < 0.05, rng.uniform(0.1, 0.35, 1000), calm)
    assert all(loss_rising(curve[:n]) is None for n in range(30, 1000, 5))


def test_a_noisy_plateau_after_a_fall_is_not_rising():
    rng = np.random.default_rng(1)
    curve = np.concatenate([np.linspace(1.7, 0.2, 80), 0.2 + 0.1 * np.abs(rng.standard_normal(400))])
    assert all(loss_rising(curve[:n]) is None for n in range(120, 480, 10))


def test_too_few_batches_say_nothing():
    assert loss_rising(np.linspace(0.1, 5, 3 * SHORT - 1)) is None
    assert loss_rising(np.linspace(0.3, 0.6, 2 * WINDOW - 1)) is None
    assert loss_rising(np.linspace(0.3, 0.6, 2 * WINDOW)) is not None


def test_a_plateau_with_epochs_to_come_is_said_and_a_climb_is_not():
    assert plateau([0.90, 0.95, 0.951, 0.950], planned=10) is not None
    assert plateau([0.90, 0.93, 0.95, 0.97], planned=10) is None
    assert plateau([0.90, 0.95, 0.951, 0.950], planned=4) is None, "the run is over: not early"
    assert plateau([0.90, 0.95], planned=10) is None, "too soon to tell"
