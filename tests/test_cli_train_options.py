"""numpynet train's options that reach the training API: defaults in --help, optimizer and schedule
parameters from the classes, augmentation, validation on held-out training images (never the test set),
early stopping, checkpoints, --quiet and a line per epoch off a terminal."""
import argparse

import numpy as np
import pytest

from core import cli, cli_train_options, load_model, optimizers
from core.augment import Augment
from core.callbacks import EarlyStopping, ModelCheckpoint
from core.datasets import Dataset
from core.model import Sequential
from core.schedules import CosineDecay, StepDecay


def parse(*argv):
    return cli.build_parser().parse_args(["train", *argv])


def train_parser():
    [sub] = [a for a in cli.build_parser()._actions if isinstance(a, argparse._SubParsersAction)]
    return sub.choices["train"]


def run(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def small(monkeypatch, mnist):
    """MNIST cut to 600 training and 300 test images, whatever --dataset says."""
    ds = Dataset("mnist", mnist.x_train[:600], mnist.y_train[:600], mnist.x_test[:300], mnist.y_test[:300],
                 mnist.class_names, "test")
    monkeypatch.setattr(cli.datasets, "load", lambda name, root=None: ds)
    return ds


# ----- --help ------------------------------------------------------------------------------------

def test_help_shows_every_options_default(capsys):
    formatter = train_parser()._get_formatter()
    for action in train_parser()._actions:
        if action.option_strings and action.dest != "help":
            assert "default" in formatter._expand_help(action) if action.help else False, action.option_strings
    with pytest.raises(SystemExit):
        cli.main(["train", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for shown in ["--validation-split VALIDATION_SPLIT fraction", "(default: 0.1)", "(default: mnist)",
                  "--beta2 BETA2 decay of the mean of squared gradients (adam only; default: adam 0.999)",
                  "(adadelta, rmsprop only; default: adadelta 0.95, rmsprop 0.9)",
                  "(default: exponential 0.9, step 0.5)", "(default: 2 with --augment, else 0)"]:
        assert shown in text


# ----- optimizer parameters ---------------------------------------------------------------------

def test_every_optimizer_parameter_is_an_option_starting_at_the_class_value():
    for name in optimizers.OPTIMIZERS:
        made = cli._optimizer(parse("--optimizer", name)).get_config()
        assert made == {"type": optimizers.OPTIMIZERS[name].__name__, **optimizers.starting_values(name)}
    adam = cli._optimizer(parse("--optimizer", "adam", "--beta1", "0.8", "--beta2", "0.99", "--epsilon", "1e-6",
                                "--learning-rate" if False else "--lr", "0.002"))
    assert (adam.beta1, adam.beta2, adam.epsilon, adam.lr) == (0.8, 0.99, 1e-6, 0.002)
    rms = cli._optimizer(parse("--optimizer", "rmsprop", "--rho", "0.5", "--weight-decay", "0.01"))
    assert (rms.rho, rms.weight_decay) == (0.5, 0.01)
    assert cli._optimizer(parse("--nesterov")).nesterov is True


def test_an_option_the_optimizer_does_not_take_is_refused_before_data_loads(capsys, monkeypatch):
    monkeypatch.setattr(cli.datasets, "load", lambda *a, **k: pytest.fail("data was loaded"))
    code, _, err = run(capsys, "train", "--optimizer", "sgd", "--rho", "0.5")
    assert code == 2 and "--rho is not a parameter of sgd (it takes lr, momentum, nesterov, weight_decay)" in err
    code, _, err = run(capsys, "train", "--optimizer", "adam", "--nesterov")
    assert code == 2 and "--nesterov is not a parameter of adam" in err


@pytest.mark.parametrize("option, value, rule", [("--beta2", "1", "in [0, 1)"), ("--rho", "-0.1", "in [0, 1)"),
                                                 ("--epsilon", "0", "positive and finite"),
                                                 ("--validation-split", "1", "in [0, 1)"),
                                                 ("--early-stopping", "-1", "an integer >= 0"),
                                                 ("--rotate", "-5", "a number >= 0")])
def test_a_bad_value_is_a_usage_error_naming_the_option(capsys, option, value, rule):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["train", option, value])
    assert exit_.value.code == 2 and f"argument {option}: must be {rule}, got {value!r}" in capsys.readouterr().err


# ----- schedule and augmentation ---------------------------------------------------------------

def test_schedule_parameters_reach_the_schedule():
    step = cli_train_options.schedule(parse("--schedule", "step", "--gamma", "0.25", "--step-epochs", "2"))
    assert isinstance(step, StepDecay) and (step.gamma, step.step_epochs) == (0.25, 2)
    cosine = cli_train_options.schedule(parse("--schedule", "cosine", "--min-factor", "0.1", "--epochs", "7"))
    assert isinstance(cosine, CosineDecay) and (cosine.epochs, cosine.min_factor) == (7, 0.1)
    assert cli_train_options.schedule(parse()) is None
    assert cli_train_options.schedule(parse("--schedule", "exponential")).gamma == 0.9


@pytest.mark.parametrize("argv, pattern", [(["--gamma", "0.5"], "choose the schedule with --schedule"),
                                           (["--schedule", "cosine", "--step-epochs", "2"],
                                            "the cosine schedule takes no --step-epochs"),
                                           (["--schedule", "step", "--gamma", "2"], "StepDecay needs")])
def test_schedule_parameters_that_do_not_fit_are_refused_before_data_loads(capsys, monkeypatch, argv, pattern):
    monkeypatch.setattr(cli.datasets, "load", lambda *a, **k: pytest.fail("data was loaded"))
    code, _, err = run(capsys, "train", *argv)
    assert code == 2 and pattern in err


def test_augmentation_switches():
    assert cli_train_options.augment(parse()) is None
    assert cli_train_options.augment(parse("--augment")).get_config() == Augment(2, 10, 0.1).get_config()
    assert cli_train_options.augment(parse("--augment", "--rotate", "0")).get_config() == \
        Augment(shift=2, scale=0.1).get_config()
    assert cli_train_options.augment(parse("--elastic", "1.5", "--elastic-sigma", "3")).get_config() == \
        Augment(elastic=1.5, elastic_sigma=3).get_config()


def test_stroke_thickness_and_noise_are_train_options():
    assert cli_train_options.augment(parse("--thickness", "0.5")).get_config() == Augment(thickness=0.5).get_config()
    assert cli_train_options.augment(parse("--noise", "0.2")).get_config() == Augment(noise=0.2).get_config()
    assert "stroke width" in train_parser().format_help() and "Gaussian noise" in train_parser().format_help()
    with pytest.raises(SystemExit):
        parse("--thickness", "-1")


def test_flip_is_a_train_option_and_a_probability():
    assert cli_train_options.augment(parse("--flip", "0.5")).get_config() == Augment(flip=0.5).get_config()
    assert "mirroring" in train_parser().format_help()
    with pytest.raises(ValueError, match="flip is a probability, at most 1, got 1.5"):
        cli_train_options.check(parse("--flip", "1.5"))


# ----- validation, early stopping, checkpoint ---------------------------------------------------

def test_train_validates_on_the_last_tenth_of_the_training_images_and_tests_once(capsys, monkeypatch, small):
    fits = []
    real_fit = Sequential.fit

    def fit(model, *args, **kwargs):
        history = real_fit(model, *args, **kwargs)
        fits.append((model, history))
        return history

    monkeypatch.setattr(Sequential, "fit", fit)
    code, out, err = run(capsys, "train", "--model", "mlp", "--epochs", "2", "--batch-size", "60", "--lr", "0.05",
                         "--no-record")   # a recorded run's line names its folder, whose path may say 'test'
    assert code == 0, err
    [(model, history)] = fits
    held_out = model.evaluate(small.x_train[540:], small.y_train[540:])
    test = model.evaluate(small.x_test, small.y_test)
    assert history.history["val_loss"][-1] == pytest.approx(held_out["loss"])
    assert history.history["val_loss"][-1] != pytest.approx(test["loss"])
    assert "batch 9/9" in err and err.count("val_loss") == 2   # 540 images in 60s; a line per epoch
    assert out.count("test") == 2 and f"test accuracy {test['accuracy']:.4f}" in out   # once, at the end


def test_a_run_off_a_terminal_writes_a_line_per_epoch_and_quiet_writes_none(capsys, small):
    code, out, err = run(capsys, "train", "--model", "mlp", "--epochs", "3", "--batch-size", "100")
    assert code == 0 and "\r" not in err and err.count("\n") == 3
    assert [line.split("  ")[0] for line in err.splitlines()] == ["epoch 1/3", "epoch 2/3", "epoch 3/3"]
    code, out, err = run(capsys, "train", "--model", "mlp", "--epochs", "3", "--batch-size", "100", "--quiet")
    assert code == 0 and err == "" and "test accuracy" in out


def test_early_stopping_and_checkpoint_options_make_keras_callbacks():
    stop, checkpoint = cli_train_options.callbacks(parse("--early-stopping", "3", "--checkpoint", "best"))
    assert isinstance(stop, EarlyStopping) and isinstance(checkpoint, ModelCheckpoint)
    assert (stop.monitor.name, stop.patience, stop.restore_best_weights) == ("val_loss", 3, True)
    assert (checkpoint.filepath, checkpoint.monitor.name, checkpoint.save_best_only) == ("best", "val_loss", True)
    [stop] = cli_train_options.callbacks(parse("--early-stopping", "0", "--validation-split", "0"))
    assert stop.monitor.name == "loss"
    assert cli_train_options.callbacks(parse()) == []


def test_early_stopping_stops_a_run_whose_validation_loss_does_not_improve(capsys, small):
    """540 images overfit: with patience 0 the run stops long before 30 epochs."""
    code, out, err = run(capsys, "train", "--model", "mlp", "--epochs", "30", "--batch-size", "100",
                         "--lr", "0.05", "--early-stopping", "0")
    epochs = err.count("val_loss")
    assert code == 0 and 2 <= epochs < 30
    assert "stopped: EarlyStopping: val_loss did not improve on" in err and "restored that epoch's weights" in err


def test_checkpoint_saves_the_best_model_with_its_dataset(capsys, small, tmp_path):
    path = tmp_path / "best"
    code, out, err = run(capsys, "train", "--model", "mlp", "--epochs", "2", "--batch-size", "100",
                         "--checkpoint", str(path))
    assert code == 0, err
    saved = load_model(path)
    assert saved.meta["dataset"] == "mnist" and len(saved.train_history["val_loss"]) in (1, 2)
    assert saved.train_history["val_loss"][-1] == min(saved.train_history["val_loss"])


def test_a_checkpoint_path_holding_other_files_is_refused_before_data_loads(capsys, monkeypatch, tmp_path):
    monkeypatch.setattr(cli.datasets, "load", lambda *a, **k: pytest.fail("data was loaded"))
    (tmp_path / "notes.txt").write_text("keep")
    code, _, err = run(capsys, "train", "--checkpoint", str(tmp_path))
    assert code == 2 and str(tmp_path) in err and (tmp_path / "notes.txt").read_text() == "keep"
    assert np.array_equal(sorted(p.name for p in tmp_path.iterdir()), ["notes.txt"])
