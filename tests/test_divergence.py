"""The divergence guard of fit: a loss that turns NaN or explodes while finite stops the run, and what
the run leaves is healthy (finite, no worse than at its start, an optimizer without poisoned state);
ordinary noisy training never trips it."""
from pathlib import Path

import numpy as np
import pytest

from core import divergence, load_model, zoo
from core.callbacks import Callback
from core.divergence import DivergenceGuard
from core.optimizers import SGD, Adam

from test_model import assert_same_weights, mlp, snapshot


class Batches(Callback):
    """Counts the batches that ran to their end."""
    finite_batches = 0

    def on_batch_end(self, batch, logs=None):
        self.finite_batches += 1


def _diverge(model, x, y, epochs=3, batch_size=16):
    seen = Batches()
    with np.errstate(all="ignore"):
        history = model.fit(x, y, epochs=epochs, batch_size=batch_size, callbacks=[seen], seed=0)
    return history, seen


def assert_healthy(model, x, y, start_loss):
    weights = model.get_weights()
    assert not [k for k, v in weights.items() if not np.isfinite(v).all()], "non-finite weights after the restore"
    assert np.isfinite(model.predict(x)).all()
    assert model.evaluate(x, y)["loss"] <= start_loss, "the restore left the model worse than it started"
    assert model.optimizer.state == {} and model.optimizer.iterations == 0, "slots built from exploding gradients"


@pytest.mark.parametrize("batchnorm", [False, True], ids=["mlp", "with-batchnorm"])
def test_the_guard_stops_the_run_and_restores_sane_weights(tiny_data, batchnorm):
    """(Was: restores the last batch with a finite loss, which had a loss of ~1e20 by then.)"""
    x, y = tiny_data
    model = mlp(lr=1e8, batchnorm=batchnorm)
    start_loss = model.evaluate(x, y)["loss"]
    history, seen = _diverge(model, x, y)
    assert history.diverged is True
    assert seen.finite_batches < 18, "training should have stopped early"
    reason = history.stop_reason.lower()
    assert "diverged" in reason and "lower learning rate" in reason
    assert history.epoch == [0]
    assert np.isfinite(history.history["loss"]).all()
    assert_healthy(model, x, y, start_loss)


EXPLODING = {
    "lenet5-adam-1e4": ("lenet5", lambda: Adam(lr=1e4)),     # loss ~1e24, finite: every epoch ran, "success"
    "mlp-adam-1e6": ("mlp", lambda: Adam(lr=1e6)),
    "lenet5-sgd-1e4": ("lenet5", lambda: SGD(lr=1e4, momentum=0.9)),   # NaN at batch 3, but the weights
    "mlp-sgd-1e6": ("mlp", lambda: SGD(lr=1e6, momentum=0.9)),         # put back had a loss of ~1e13
}


@pytest.mark.parametrize("name, optimizer", EXPLODING.values(), ids=EXPLODING.keys())
def test_a_loss_that_explodes_is_caught_and_what_is_left_is_healthy(mnist, name, optimizer):
    """Learning rates of 1e4 and 1e6 on real MNIST: with Adam the loss climbs to 1e20-1e24 and never becomes
    NaN, and the guard used to see nothing; with SGD it went NaN and the guard restored weights whose loss
    was already 1e13 or more."""
    x, y = mnist.x_train[:1000], mnist.y_train[:1000]
    model = zoo.build(name, seed=0)
    model.compile(optimizer(), "crossentropy")
    start_loss = model.evaluate(x, y)["loss"]
    history, seen = _diverge(model, x, y, epochs=3, batch_size=100)
    assert history.diverged and "lower learning rate" in history.stop_reason.lower(), history.stop_reason
    assert seen.finite_batches < 10 and history.epoch == [0]
    assert_healthy(model, x, y, start_loss)


class BlowUpAt(Callback):
    """Trains normally, keeps the weights at the end of epoch ``epoch - 1``, then sets a huge learning rate."""

    def __init__(self, epoch, lr=1e5):
        self.epoch, self.lr = epoch, lr

    def on_epoch_end(self, epoch, logs=None):
        if epoch == self.epoch - 1:
            self.learned = snapshot(self.model)

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.epoch:
            self.model.optimizer.lr = self.lr


def test_a_run_that_learned_before_it_diverged_keeps_what_it_learned(tiny_data, monkeypatch):
    """The restore goes back to the last weights whose loss was ordinary (here the end of epoch 3),
    not to the start, when those are better than the start."""
    monkeypatch.setattr(divergence, "EVERY", 1)   # a checkpoint at every ordinary batch
    x, y = tiny_data
    model = mlp(lr=0.1)
    start_loss = model.evaluate(x, y)["loss"]
    blow_up = BlowUpAt(3)
    with np.errstate(all="ignore"):
        history = model.fit(x, y, epochs=6, batch_size=16, callbacks=[blow_up], seed=0)
    assert history.diverged and "epoch 4, batch 1" in history.stop_reason, history.stop_reason
    assert_same_weights(model.get_weights(), blow_up.learned)
    assert model.evaluate(x, y)["loss"] < start_loss / 2
    assert model.optimizer.state == {}


def test_a_checkpoint_worse_than_the_start_is_not_restored(tiny_data, monkeypatch):
    """In a slow climb the last 'ordinary' batch may already be worse than the start; measured on the
    training data, the start wins then."""
    monkeypatch.setattr(divergence, "EVERY", 1)
    x, y = tiny_data
    model = mlp()
    start = snapshot(model)
    guard = DivergenceGuard(model, x, y)
    out = np.zeros((16, 3), np.float32)
    assert guard.check(1.0, out, y[:16], where=(0, 0))
    model.layers[1].params["W"] *= 30                    # worse weights, on a batch whose loss looks ordinary
    assert guard.check(1.1, out, y[:16], where=(0, 1)) and guard.saved_at == (0, 1)
    assert not guard.check(float("nan"), out, y[:16], where=(0, 2)) and guard.tripped
    guard.restore(float("nan"), 0, 2)
    assert_same_weights(model.get_weights(), start)
    assert "the weights the run started with" in guard.reason


def test_a_model_restored_by_the_guard_trains_on(tiny_data):
    x, y = tiny_data
    model = mlp(lr=1e8)
    history, _ = _diverge(model, x, y)
    assert history.diverged
    model.optimizer.lr = model.optimizer.base_lr = 0.05
    again = model.fit(x, y, epochs=3, batch_size=16, seed=0)
    assert not again.diverged and np.isfinite(again.history["loss"]).all()


class Poison(Callback):
    """Makes the weights infinite at the end of the first epoch, so the next epoch's first batch is NaN."""

    def on_epoch_end(self, epoch, logs=None):
        if epoch == 0:
            self.model.layers[1].params["W"][:] = np.inf


def test_an_epoch_without_a_finite_batch_reports_no_made_up_loss(tiny_data):
    x, y = tiny_data
    model = mlp()
    with np.errstate(all="ignore"):
        history = model.fit(x, y, epochs=3, batch_size=16, callbacks=[Poison()], seed=0)
    assert history.diverged and "nan" in history.stop_reason
    assert np.isfinite(model.get_weights()["1.W"]).all()
    assert all(loss > 0 for loss in history.history["loss"]), history.history


# ----- no false alarms --------------------------------------------------------------------------

ORDINARY = {
    "mlp-sgd": ("mlp", SGD(lr=0.05, momentum=0.9), 128, 2000),
    "mlp-adam": ("mlp", Adam(), 32, 2000),
    "mlp-batch-2": ("mlp", SGD(lr=0.01), 2, 1000),   # per-batch losses as noisy as they get
    "cnn_small-sgd": ("cnn_small", SGD(lr=0.05, momentum=0.9), 128, 2000),
    "lenet5-sgd": ("lenet5", SGD(lr=0.05, momentum=0.9), 128, 1500),
    "alexnet_mini-adam": ("alexnet_mini", Adam(), 64, 1000),
}


@pytest.mark.parametrize("name, optimizer, batch_size, n", ORDINARY.values(), ids=ORDINARY.keys())
def test_ordinary_training_on_real_mnist_never_trips_the_guard(mnist, name, optimizer, batch_size, n):
    model = zoo.build(name, seed=0)
    model.compile(optimizer, "crossentropy")
    history = model.fit(mnist.x_train[:n], mnist.y_train[:n], epochs=1, batch_size=batch_size, seed=0)
    assert not history.diverged, history.stop_reason


def test_fine_tuning_a_trained_model_one_image_at_a_time_never_trips_the_guard(mnist):
    """A trained model's per-image losses have a median near 1e-4 and outliers up to ~16: 100000 times the
    median. The guard's level never drops below the loss of a model that knows nothing (2.3 for ten
    classes), so such an outlier is not taken for an explosion."""
    model = load_model(Path(__file__).resolve().parents[1] / "saved_models" / "lenet5-mnist")
    model.compile(SGD(lr=0.001, momentum=0.9), "crossentropy")
    history = model.fit(mnist.x_test[:800], mnist.y_test[:800], epochs=1, batch_size=1, seed=0)
    assert not history.diverged, history.stop_reason


def test_checkpoints_are_taken_every_few_batches_not_every_batch(tiny_data):
    """Copying every weight after each batch cost mlp_wide 5-10% of its training time."""
    x, y = tiny_data
    model = mlp()
    guard = DivergenceGuard(model, x, y)
    out = np.zeros((16, 3), np.float32)
    taken = []
    for b in range(3 * divergence.EVERY):
        assert guard.check(1.0, out, y[:16], where=(0, b))
        taken.append(guard.saved_at)
    assert len(set(taken) - {None}) == 3 and guard.saved_at == (0, 3 * divergence.EVERY - 1)


def test_a_loss_that_climbs_slowly_is_caught_before_it_is_far_above_the_runs_level(tiny_data):
    """A loss growing 5% a batch never stands 10 times above the median of the last 50 batches (that
    median climbs with it), yet it goes from 1 to 1e21 in 1000 batches. The run's lowest level does not
    climb: a loss SPIKE times above it is an explosion however slowly it got there."""
    x, y = tiny_data
    guard = DivergenceGuard(mlp(), x, y)
    out = np.zeros((16, 3), np.float32)   # the floor: ln 3, the loss of a model that knows nothing
    losses = [1.05 ** b for b in range(1000)]
    tripped_at = next((loss for b, loss in enumerate(losses) if not guard.check(loss, out, y[:16], where=(0, b))),
                      None)
    assert tripped_at is not None, "a loss that climbed to 1e21 was never caught"
    assert tripped_at <= 1.05 * divergence.SPIKE * np.log(3)
    assert "lowest" in (guard.restore(tripped_at, 0, 0) or guard.reason)



@pytest.mark.parametrize("lr", [1e3, 1e8], ids=["finite explosion", "nan"])
def test_the_last_update_of_a_run_is_checked_too(tiny_data, lr):
    """The guard judges an update by the loss of the batch after it; the run's last update has none,
    so a run whose last step blew the weights up ended 'successfully' (here: a run of one batch)."""
    x, y = tiny_data
    model = mlp(lr=lr)
    start_loss = model.evaluate(x, y)["loss"]
    with np.errstate(all="ignore"):
        history = model.fit(x, y, epochs=1, batch_size=len(x), seed=0)
    assert history.diverged, "the last update blew the weights up and fit said nothing"
    assert_healthy(model, x, y, start_loss)


def test_an_epochs_figures_are_those_of_the_weights_kept_after_a_last_update_restore(tiny_data):
    """The last update is judged before the epoch is validated: the validation loss reported for it is that
    of the restored weights, not of the blown-up ones (the CLI printed a val_loss of 1e20 before saying so)."""
    x, y = tiny_data
    model = mlp(lr=1e8)
    with np.errstate(all="ignore"):
        history = model.fit(x, y, epochs=1, batch_size=len(x), seed=0, validation_data=(x, y))
    assert history.diverged
    assert history.history["val_loss"][-1] == pytest.approx(model.evaluate(x, y)["loss"], rel=1e-5)
