"""The numpynet command line: each sub-command end to end, and errors as one clean line."""
import numpy as np
from PIL import Image

from core import cli, load_model, zoo
from core.optimizers import SGD


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
                         "--limit", "2000", "--batch-size", "64", "--lr", "0.05", "--out", str(out_dir))
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
    assert code == 2 and "takes 1×28×28 images; small's are 1×14×14" in err
