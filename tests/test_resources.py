"""The shipped folders are found from a checkout and from an installed wheel, and a shipped model
loads by its name alone, from any working folder (``numpynet predict lenet5-mnist digit.png``)."""
from pathlib import Path

import pytest
from numpy.testing import assert_array_equal

from core import ModelFileError, Sequential, cli, load_model, resources
from core.layers import Dense, Softmax

ROOT = Path(__file__).resolve().parents[1]
DIGIT = ROOT / "tests" / "data" / "digit-7.png"


def test_a_checkout_finds_its_top_level_folders():
    assert resources.shipped("saved_models") == ROOT / "saved_models"
    assert (resources.shipped("assets") / "style.qss").is_file()
    assert resources.shipped_models() == ["cnn-fashion-mnist", "lenet5-mnist", "mlp-mnist"]


def test_an_installed_package_finds_the_copy_it_carries(monkeypatch, tmp_path):
    (tmp_path / "saved_models" / "only-model").mkdir(parents=True)
    (tmp_path / "saved_models" / "only-model" / "model.json").write_text("{}")
    monkeypatch.setattr(resources, "PACKAGED", tmp_path)
    assert resources.shipped("saved_models") == tmp_path / "saved_models"
    assert resources.shipped_models() == ["only-model"]
    assert resources.shipped("assets") == ROOT / "assets"   # what the package does not carry: the checkout's


def test_load_model_takes_a_shipped_models_name_from_anywhere(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    by_name = load_model("lenet5-mnist")
    by_path = load_model(ROOT / "saved_models" / "lenet5-mnist")
    for key, value in by_path.get_weights().items():
        assert_array_equal(by_name.get_weights()[key], value, err_msg=key)


def test_a_folder_of_that_name_here_comes_first(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    Sequential([Dense(2), Softmax()], input_shape=(3,), seed=0).save("lenet5-mnist")
    assert load_model("lenet5-mnist").input_shape == (3,)


@pytest.mark.parametrize("name", ["lenet5-mnistt", "./lenet5-mnist", "sub/lenet5-mnist"])
def test_anything_else_is_no_model_and_the_error_lists_the_shipped_names(monkeypatch, tmp_path, name):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ModelFileError, match=r"no such model folder .*loadable by name: cnn-fashion-mnist, "
                                             r"lenet5-mnist, mlp-mnist"):
        load_model(name)


def test_numpynet_predict_resolves_a_shipped_model_by_name(monkeypatch, tmp_path, capsys):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["predict", "lenet5-mnist", str(DIGIT), "--top", "1"]) == 0
    assert capsys.readouterr().out.startswith(f"{DIGIT}: 7 ")
    assert cli.main(["summary", "--model", "mlp-mnist"]) == 0
    assert "Total params: 89,610" in capsys.readouterr().out
