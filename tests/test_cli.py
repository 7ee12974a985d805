"""The numpynet command line: each sub-command end to end, and errors as one clean line."""
import math

import numpy as np
import pytest
from PIL import Image

from core import cli, load_model, optimizers, zoo
from core.optimizers import OPTIMIZERS, SGD


def run(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_summary_prints_the_table(capsys):
    code, out, _ = run(capsys, "summary", "--model", "lenet5")
    assert code == 0
    assert "Conv2D #3" in out and "(50, 8, 8)" in out and "Total params: 431,080" in out


def test_unknown_model_is_one_line_on_stderr(capsys):
    code, out, err = run(capsys, "summary", "--model", "resnet9000")
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "resnet9000" in err and "Traceback" not in err


def test_summary_of_an_architecture_json(capsys, tmp_path):
    import json
    (tmp_path / "arch.json").write_text(json.dumps(zoo.build("mlp").get_config()))
    code, out, _ = run(capsys, "summary", "--model", str(tmp_path / "arch.json"))
    assert code == 0 and "Total params: 89,610" in out


def test_evaluate_a_missing_model_folder(capsys, tmp_path):
    code, _, err = run(capsys, "evaluate", str(tmp_path / "nope"), "--dataset", "mnist")
    assert code == 2 and "nope" in err and "Traceback" not in err


def test_train_evaluate_predict(capsys, tmp_path, mnist, monkeypatch):
    out_dir = tmp_path / "m"
    code, out, err = run(capsys, "train", "--model", "cnn_small", "--dataset", "mnist", "--epochs", "1",
                         "--limit", "2000", "--batch-size", "64", "--lr", "0.05", "--out", str(out_dir),
                         "--validation-split", "0")   # all 2000 train: one epoch of 1800 is too noisy for > 0.8
    assert code == 0, err
    assert "epoch 1/1" in err and "samples/s" in err and "ETA" in err
    assert "test accuracy" in out
    model = load_model(out_dir)
    assert model.meta["dataset"] == "mnist" and model.meta["metrics"]["test_accuracy"] > 0.8
    assert model.meta["command"].startswith("numpynet train")

    code, out, _ = run(capsys, "evaluate", str(out_dir))
    assert code == 0
    assert f"accuracy {model.meta['metrics']['test_accuracy']:.4f}" in out  # the dataset recorded at save

    digit = mnist.x_test[0, 0]
    Image.fromarray((digit * 255).astype(np.uint8)).resize((140, 140)).save(tmp_path / "d.png")
    code, out, err = run(capsys, "predict", str(out_dir), str(tmp_path / "d.png"))
    assert code == 0, err
    assert out.startswith(f"{tmp_path / 'd.png'}: {mnist.y_test[0]} ")


def test_predict_an_unreadable_image(capsys, tmp_path):
    model = zoo.build("mlp")
    model.compile(SGD(0.1), "crossentropy")
    model.save(tmp_path / "m")
    (tmp_path / "bad.png").write_bytes(b"not an image")
    code, _, err = run(capsys, "predict", str(tmp_path / "m"), str(tmp_path / "bad.png"))
    assert code == 2 and "bad.png" in err and "Traceback" not in err


# ----- arguments are checked before anything loads -------------------------------------------

BAD_NUMBERS = [("train", "--limit", "-10"), ("train", "--limit", "0"), ("train", "--epochs", "0"),
               ("train", "--epochs", "-1"), ("train", "--batch-size", "0"), ("train", "--lr", "-0.1"),
               ("train", "--lr", "0"), ("train", "--lr", "nan"), ("train", "--lr", "inf"),
               ("train", "--momentum", "1"), ("train", "--momentum", "-0.5"), ("train", "--weight-decay", "-0.0001"),
               ("train", "--seed", "-3"), ("train", "--limit", "1.5"), ("train", "--epochs", "many")]


def _no_data(monkeypatch):
    def load(*args, **kwargs):
        raise AssertionError("data was loaded before the arguments were checked")
    monkeypatch.setattr(cli.datasets, "load", load)


BAD_TOPS = [("predict", "--top", "0"), ("predict", "--top", "-2")]


@pytest.mark.parametrize("command, option, value", BAD_NUMBERS + BAD_TOPS)
def test_a_bad_numeric_option_is_a_usage_error_naming_it(capsys, monkeypatch, command, option, value):
    _no_data(monkeypatch)
    monkeypatch.setattr(cli, "load_model", lambda *a: pytest.fail("a model was loaded"))
    argv = [command, option, value] + (["m", "x.png"] if command == "predict" else ["--dataset", "kmnist"])
    with pytest.raises(SystemExit) as exit_:
        cli.main(argv)
    err = capsys.readouterr().err
    assert exit_.value.code == 2
    assert f"argument {option}: must be" in err and repr(value) in err and "Traceback" not in err


@pytest.mark.parametrize("command", ["train", "evaluate"])
def test_a_data_root_that_is_not_a_folder_is_a_usage_error(capsys, monkeypatch, tmp_path, command):
    """A mistyped --data-root was ignored: the dataset came from $NUMPYNET_DATA or the cache instead,
    and the run said nothing about it."""
    _no_data(monkeypatch)
    monkeypatch.setattr(cli, "load_model", lambda *a: pytest.fail("a model was loaded"))
    missing = str(tmp_path / "dtaa")
    with pytest.raises(SystemExit) as exit_:
        cli.main([command] + (["m"] if command == "evaluate" else []) + ["--data-root", missing])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and "argument --data-root" in err and missing in err and "no such folder" in err

@pytest.mark.parametrize("typo, suggestion", [("lenet55", "lenet5"), ("LeNet5", "lenet5"), ("mlpwide", "mlp_wide"),
                                              ("vgg", "vgg_mini"), ("alexnet", "alexnet_mini")])
def test_a_misspelt_model_is_named_with_the_nearest_zoo_name_before_any_data_loads(capsys, monkeypatch, typo,
                                                                                    suggestion):
    """A typo with --dataset kmnist used to report a failed download first."""
    _no_data(monkeypatch)
    code, out, err = run(capsys, "train", "--model", typo, "--dataset", "kmnist")
    assert code == 2 and out == ""
    assert f"unknown model {typo!r}; did you mean {suggestion!r}?" in err and err.count("\n") == 1


def test_a_model_name_unlike_any_lists_the_zoo(capsys, monkeypatch):
    _no_data(monkeypatch)
    code, _, err = run(capsys, "train", "--model", "transformer")
    assert code == 2 and "unknown model 'transformer'; the zoo has mlp, mlp_wide" in err


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
def test_without_lr_each_optimizer_gets_its_own_default(optimizer):
    """--lr used to default to 0.05 for every optimizer: Adam at 0.05 reached 30% on 3k images."""
    args = cli.build_parser().parse_args(["train", "--optimizer", optimizer])
    lr = cli._optimizer(args).lr
    assert lr == OPTIMIZERS[optimizer]().lr
    if optimizer == "adam":
        assert lr == 0.001
    assert cli._optimizer(cli.build_parser().parse_args(["train", "--optimizer", optimizer, "--lr", "0.2"])).lr == 0.2


def test_the_cli_defaults_come_from_the_optimizer_classes(capsys, monkeypatch):
    """--lr, --momentum and --weight-decay start where core says; a class's new default reaches them."""
    start = optimizers.starting_values("sgd")
    sgd = cli._optimizer(cli.build_parser().parse_args(["train"])).get_config()
    assert sgd == {"type": "SGD", **start}

    class Slower(SGD):
        def __init__(self, lr=0.003, momentum=0.0, nesterov=False, weight_decay=1e-4):
            super().__init__(lr, momentum, nesterov, weight_decay)

    Slower.__name__ = "SGD"
    monkeypatch.setitem(OPTIMIZERS, "sgd", Slower)
    with pytest.raises(SystemExit):
        cli.build_parser().parse_args(["train", "--help"])
    assert "sgd 0.003" in " ".join(capsys.readouterr().out.split())
    made = cli._optimizer(cli.build_parser().parse_args(["train"]))
    assert (made.lr, made.momentum, made.weight_decay) == (0.003, 0.9, 1e-4)


# ----- a diverged run is a failure -----------------------------------------------------------

def test_a_diverged_run_exits_non_zero_with_advice_and_leaves_out_untouched(capsys, tmp_path, mnist):
    out_dir = tmp_path / "keep"
    model = zoo.build("mlp", seed=0)
    model.compile(SGD(0.1), "crossentropy")
    model.save(out_dir)
    before = {p.name: p.read_bytes() for p in out_dir.iterdir()}
    code, out, err = run(capsys, "train", "--model", "mlp", "--optimizer", "adam", "--lr", "1e6", "--limit", "500",
                         "--epochs", "2", "--batch-size", "50", "--out", str(out_dir))
    assert code == cli.EXIT_DIVERGED != 0
    assert "diverged" in err and "lower learning rate" in err and "--lr 1e+06" in err
    assert f"Nothing was saved to {out_dir}" in err and "saved" not in out
    assert {p.name: p.read_bytes() for p in out_dir.iterdir()} == before


def test_continuing_a_saved_model_counts_its_epochs_and_starts_the_schedule_at_the_typed_rate(capsys, tmp_path,
                                                                                              mnist):
    first, second = tmp_path / "first", tmp_path / "second"
    common = ["--dataset", "mnist", "--limit", "500", "--batch-size", "100"]
    assert run(capsys, "train", "--model", "mlp", "--epochs", "1", "--out", str(first), *common)[0] == 0
    code, _, err = run(capsys, "train", "--model", str(first), "--epochs", "2", "--schedule", "cosine",
                       "--lr", "0.01", "--out", str(second), *common)
    assert code == 0, err
    assert "epoch 2/3" in err and "epoch 3/3" in err
    lrs = load_model(second).train_history["lr"]
    assert len(lrs) == 3
    assert lrs[1] == pytest.approx(0.01 * 0.5 * (1 + math.cos(math.pi * 4 / 10)))   # 5 batches an epoch


def fashion_named(mnist):
    """MNIST's images under Fashion-MNIST's name and class names: same shapes, other classes."""
    from core.datasets import Dataset
    names = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
             "Ankle boot"]
    return Dataset("fashion-mnist", mnist.x_train[:300], mnist.y_train[:300], mnist.x_test[:200],
                   mnist.y_test[:200], names, "test")


def digits_model(tmp_path):
    model = zoo.build("mlp", seed=0)
    model.compile(SGD(0.1), "crossentropy")
    model.meta.update(dataset="mnist", class_names=[str(i) for i in range(10)])
    model.save(tmp_path / "digits")
    return str(tmp_path / "digits")


def test_evaluate_on_data_of_other_classes_is_refused(capsys, tmp_path, mnist, monkeypatch):
    monkeypatch.setattr(cli.datasets, "load", lambda name, root=None: fashion_named(mnist))
    path = digits_model(tmp_path)
    code, out, err = run(capsys, "evaluate", path, "--dataset", "fashion-mnist")
    assert code == 2 and out == "" and "Traceback" not in err
    assert "trained on mnist" in err and "T-shirt/top" in err and "--relabel" in err
    code, out, err = run(capsys, "evaluate", path, "--dataset", "fashion-mnist", "--relabel")
    assert code == 0 and "fashion-mnist test: accuracy" in out


def test_train_a_saved_model_on_data_of_other_classes(capsys, tmp_path, mnist, monkeypatch):
    monkeypatch.setattr(cli.datasets, "load", lambda name, root=None: fashion_named(mnist))
    path = digits_model(tmp_path)
    args = ("train", "--model", path, "--dataset", "fashion-mnist", "--epochs", "1", "--out")
    code, out, err = run(capsys, *args, str(tmp_path / "a"))
    assert code == 2 and "Traceback" not in err and "T-shirt/top" in err and "--new-output" in err
    assert not (tmp_path / "a").exists()
    code, _, err = run(capsys, *args, str(tmp_path / "b"), "--new-output")
    assert code == 0, err
    trained = load_model(tmp_path / "b")
    assert trained.meta["class_names"][0] == "T-shirt/top"
    code, _, err = run(capsys, *args, str(tmp_path / "c"), "--relabel")
    assert code == 0, err


def test_train_a_saved_model_on_images_of_another_shape(capsys, tmp_path, mnist, monkeypatch):
    from core.datasets import Dataset
    small = Dataset("small", mnist.x_train[:50, :, :14, :14], mnist.y_train[:50], mnist.x_test[:20, :, :14, :14],
                    mnist.y_test[:20], [str(i) for i in range(10)], "test")
    monkeypatch.setattr(cli.datasets, "load", lambda name, root=None: small)
    code, _, err = run(capsys, "train", "--model", digits_model(tmp_path), "--dataset", "small", "--new-output")
    assert code == 2 and "takes 1×28×28 images; those of small are 1×14×14" in err
    assert "Pass --new-output" not in err and "replaces only the output layer" in err   # it was passed


def test_predict_never_prints_a_certainty_the_model_does_not_have(capsys, tmp_path, monkeypatch):
    """0.99996 printed with '{:.1%}' read '100.0%': the CLI writes percentages as the window does."""
    from core import preprocess
    model = zoo.build("mlp")
    model.compile(SGD(0.1), "crossentropy")
    model.save(tmp_path / "m")
    monkeypatch.setattr(preprocess, "predict_files",
                        lambda _model, paths, top: [(paths[0], [("7", 0.99996), ("1", 0.00004), ("4", 0.0)])])
    code, out, _ = run(capsys, "predict", str(tmp_path / "m"), "seven.png")
    assert code == 0 and out.strip() == "seven.png: 7 >99.9%  1 <0.1%  4 <0.1%"
    monkeypatch.setattr(preprocess, "predict_files",   # a float32 softmax saturates at exactly 1.0
                        lambda _model, paths, top: [(paths[0], [("7", np.float32(1.0))])])
    code, out, _ = run(capsys, "predict", str(tmp_path / "m"), "seven.png")
    assert code == 0 and out.strip() == "seven.png: 7 >99.9%"
