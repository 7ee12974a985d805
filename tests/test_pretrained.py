"""The models the app opens on first launch load and score what their model.json records."""
from pathlib import Path

import pytest

from core import datasets, load_model

SAVED = Path(__file__).resolve().parents[1] / "saved_models"
FLOORS = {"lenet5-mnist": 0.990, "mlp-mnist": 0.980, "cnn-fashion-mnist": 0.910}


@pytest.mark.parametrize("name", sorted(FLOORS))
def test_pretrained_model_reaches_its_recorded_accuracy(name, mnist):  # mnist: fails in CI without data
    model = load_model(SAVED / name)
    recorded = model.meta["metrics"]["test_accuracy"]
    assert recorded >= FLOORS[name]
    for key in ("dataset", "class_names", "preprocessing", "created", "command"):
        assert model.meta.get(key), f"{name}/model.json lacks {key}"
    ds = datasets.load(model.meta["dataset"])
    measured = model.evaluate(ds.x_test, ds.y_test)["accuracy"]
    assert measured == pytest.approx(recorded, abs=1e-4)
    assert len(model.meta["class_names"]) == model.output_shape[0]


def test_the_pretrained_models_stay_small():
    total = sum(f.stat().st_size for f in SAVED.rglob("*") if f.is_file())
    assert total < 8 * 2**20, f"saved_models/ holds {total / 2**20:.1f} MB"
