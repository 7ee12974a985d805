"""Screenshots of the Inside and Evaluation views for the README: a LeNet-5 on real MNIST.

    python scripts/inside_screenshots.py [--model saved_models/lenet5-mnist] [--out docs/screenshots] [--all]

Uses the pretrained model in saved_models/lenet5-mnist when it exists, else
trains a LeNet-5 for one epoch on 10,000 MNIST images (about a minute).
MNIST comes from ``core.datasets.load`` (``$NUMPYNET_DATA``, the user cache,
or a download). Writes filters.png, feature_maps.png and evaluation.png
(with --all also saliency.png and weights_over_time.png), each at the size
of a real window.
"""
import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core import datasets, load_model, zoo  # noqa: E402
from core.optimizers import SGD  # noqa: E402
from gui.app import create_app  # noqa: E402
from gui.panels.evaluation import EvaluationPanel  # noqa: E402
from gui.panels.inside import InsidePanel  # noqa: E402
from gui.state import AppState  # noqa: E402
from gui.views.export import save_png  # noqa: E402

PRETRAINED = ROOT / "saved_models" / "lenet5-mnist"
SIZE = (1300, 850)
FEATURE_MAP_IMAGE = 0      # the first MNIST test image, a 7


def get_model(path, ds):
    if path is not None and Path(path).exists():
        print(f"model: {path}")
        return load_model(path)
    print("model: training LeNet-5 for one epoch on 10,000 MNIST images…")
    model = zoo.build("lenet5", seed=0)
    model.compile(SGD(lr=0.01, momentum=0.9), "crossentropy")
    model.fit(ds.x_train[:10000], ds.y_train[:10000], epochs=1, batch_size=64, seed=0)
    model.meta["class_names"] = list(ds.class_names)
    return model


def settle(app, seconds=0.3):
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        app.processEvents()
        time.sleep(0.01)


def shoot(app, widget, path):
    settle(app)
    save_png(widget, path)
    print(f"wrote {path}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=str(PRETRAINED), help="a saved model folder (default: %(default)s)")
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    parser.add_argument("--all", action="store_true", help="also saliency.png and weights_over_time.png")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    app = create_app([])
    ds = datasets.load("mnist")
    state = AppState()
    state.set_dataset(ds)
    state.set_model(get_model(args.model, ds))

    inside = InsidePanel(state)
    inside.resize(*SIZE)
    inside.show()
    inside.set_tab("Filters")
    shoot(app, inside, out / "filters.png")
    inside.show_test_index(FEATURE_MAP_IMAGE)
    shoot(app, inside, out / "feature_maps.png")
    if args.all:
        inside.set_tab("Saliency")
        shoot(app, inside, out / "saliency.png")
        inside.set_tab("Weights over time")
        shoot(app, inside, out / "weights_over_time.png")

    evaluation = EvaluationPanel(state)
    evaluation.resize(*SIZE)
    evaluation.show()             # starts the evaluation by itself
    while evaluation.busy or evaluation.result is None:
        settle(app, 0.1)
    shoot(app, evaluation, out / "evaluation.png")


if __name__ == "__main__":
    main()
