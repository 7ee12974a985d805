"""A screenshot of the Draw pad with a hand-drawn '7' and the network's answer, for the README.

    python scripts/draw_demo.py OUT.png [--model saved_models/lenet5-mnist]

The '7' is drawn with mouse events, stroke by stroke, as a person would.
Uses the pretrained model in saved_models/lenet5-mnist when it exists, else
trains a LeNet-5 for one epoch on 10,000 MNIST images (seconds to a minute);
MNIST comes from ``core.datasets.load`` ($NUMPYNET_DATA, the user cache, or a
download).
"""
import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from PySide6.QtCore import QPoint, Qt  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402

from core import datasets, load_model, zoo  # noqa: E402
from core.optimizers import SGD  # noqa: E402
from core.text import probability  # noqa: E402
from gui.app import create_app  # noqa: E402
from gui.panels.draw import DrawPanel  # noqa: E402
from gui.state import AppState  # noqa: E402
from gui.views.export import save_png  # noqa: E402

PRETRAINED = ROOT / "saved_models" / "lenet5-mnist"
SIZE = (900, 470)
# A '7' with a crossbar, as strokes of points in canvas coordinates (the canvas is 336 square).
SEVEN = [[(95, 72), (130, 68), (190, 66), (245, 70), (226, 110), (200, 165), (172, 225), (152, 282)],
         [(140, 178), (182, 176), (226, 173)]]


def get_model(path):
    if Path(path).exists():
        print(f"model: {path}")
        return load_model(path)
    print("model: training LeNet-5 for one epoch on 10,000 MNIST images...")
    ds = datasets.load("mnist")
    model = zoo.build("lenet5", seed=0)
    model.compile(SGD(lr=0.05, momentum=0.9), "crossentropy")
    model.fit(ds.x_train[:10000], ds.y_train[:10000], epochs=1, batch_size=64, seed=0)
    model.meta.update(class_names=list(ds.class_names), preprocessing="mnist", dataset="mnist")
    return model


def draw(canvas, strokes, step=10):
    """Press, move in small steps along each stroke, release: what a hand on a mouse does."""
    for corners in strokes:
        QTest.mousePress(canvas, Qt.LeftButton, Qt.NoModifier, QPoint(*corners[0]))
        for (x0, y0), (x1, y1) in zip(corners, corners[1:]):
            n = max(1, int(max(abs(x1 - x0), abs(y1 - y0)) // step))
            for i in range(1, n + 1):
                QTest.mouseMove(canvas, QPoint(x0 + (x1 - x0) * i // n, y0 + (y1 - y0) * i // n))
        QTest.mouseRelease(canvas, Qt.LeftButton, Qt.NoModifier, QPoint(*corners[-1]))


def settle(app, seconds=0.3):
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        app.processEvents()
        time.sleep(0.01)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", help="the PNG file to write")
    ap.add_argument("--model", default=str(PRETRAINED), help="a saved-model folder")
    args = ap.parse_args()
    app = create_app([])
    state = AppState()
    state.set_model(get_model(args.model))
    panel = DrawPanel(state)
    panel.resize(*SIZE)
    panel.show()
    settle(app)
    draw(panel.canvas, SEVEN)
    settle(app)
    probs = panel.chart.probabilities
    print(f"answer: {panel.chart.class_names[probs.argmax()]} ({probability(probs.max())})")
    print(f"wrote {save_png(panel, args.out)}")


if __name__ == "__main__":
    sys.exit(main())
