"""Screenshots of the main window for the README, taken during a real training run.

    NUMPYNET_DATA=/path/to/data python scripts/screenshots.py [--out docs/screenshots] [--size 1400x900]
    NUMPYNET_DATA=/path/to/data python scripts/screenshots.py --onnx tests/data/onnx/lenet_torch.onnx

Opens the real window offscreen (with throw-away settings and runs folder,
so a user's are never touched), loads MNIST through ``core.datasets.load``
(NUMPYNET_DATA, the user cache or a download), trains a fresh LeNet-5 on a
few thousand images and grabs the Training view in the middle of its last
epoch, then the Data view; then trains two short runs, overlays them in the
Training plots beside a third one training live, and grabs the Runs view
comparing the two. One function per view: add more beside them. With ``--onnx
FILE`` it takes only ``onnx.png``: the window opened on that ONNX file, Inside
showing the feature maps of a test digit.
"""
import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from PySide6.QtCore import QSettings  # noqa: E402

from core import datasets, runs  # noqa: E402
from core.datasets import Dataset  # noqa: E402
from gui import unsaved  # noqa: E402
from gui.app import create_app  # noqa: E402
from gui.main_window import MainWindow  # noqa: E402

def mnist_subset(train, test):
    full = datasets.load("mnist")
    return Dataset("mnist", full.x_train[:train], full.y_train[:train], full.x_test[:test],
                   full.y_test[:test], full.class_names, full.source)


def wait(app, condition, timeout):
    end = time.perf_counter() + timeout
    while not condition() and time.perf_counter() < end:
        app.processEvents()
        time.sleep(0.005)
    if not condition():
        raise TimeoutError(f"gave up after {timeout} s")


def grab(app, window, title, path):
    window.show_panel(title)
    for _ in range(5):
        app.processEvents()
    window.training_panel.plots.refresh()
    if not window.grab().save(str(path)):
        raise OSError(f"could not write {path}")
    print(f"wrote {path}")


def training_screenshot(app, window, ds, path):
    """Mid-run: epoch curves for two epochs, the third running with a live progress line."""
    tp = window.training_panel
    tp.preset.setCurrentText("lenet5")
    tp.build_preset()
    tp.set_config({"optimizer": "SGD", "hyper": {"lr": 0.02, "momentum": 0.9}, "epochs": 3, "batch_size": 64,
                   "schedule": "Cosine (to 0 at the last epoch)", "preset": "lenet5"})
    window.data_panel.validation.setValue(10)
    tp.start()
    steps = -(-int(len(ds.x_train) * 0.9) // 64)
    wait(app, lambda: tp.plots.batch["loss"].n >= 2 * steps + steps // 2, timeout=600)
    grab(app, window, "Training", path)
    tp.job.stop_and_wait(5000)


def onnx_screenshot(app, window, onnx_file, path):
    """The window on an imported ONNX model: Inside's feature maps of the first test image, a 7."""
    if not window.open_model(onnx_file):
        raise SystemExit(f"could not open {onnx_file}")
    window.show_panel("Inside")
    window.panels["Inside"].show_test_index(0)
    time.sleep(0.3)
    grab(app, window, "Inside", path)


def recorded_run(app, window, name, preset, config, epochs):
    """Train a fresh ``preset`` to the end with ``config``, and give its recorded run ``name``; its id."""
    tp = window.training_panel
    tp.preset.setCurrentText(preset)
    tp.build_preset()
    tp.set_config({**config, "epochs": epochs, "batch_size": 64, "preset": preset})
    tp.start()
    wait(app, lambda: not tp.running, timeout=900)
    runs.rename(tp.current_run(), name)
    return tp.current_run()


def runs_screenshots(app, window, ds, out):
    """Two finished runs overlaid in the Training plots beside a live third; then the Runs view comparing them."""
    sgd = recorded_run(app, window, "cnn_small · SGD", "cnn_small",
                       {"optimizer": "SGD", "hyper": {"lr": 0.05, "momentum": 0.9}}, 3)
    adam = recorded_run(app, window, "cnn_small · Adam", "cnn_small", {"optimizer": "Adam", "hyper": {"lr": 0.002}}, 3)
    panel = window.panels["Runs"]
    wait(app, lambda: not panel.list_job.running, timeout=30)
    panel.refresh()   # the names given above
    wait(app, lambda: not panel.list_job.running, timeout=30)
    for run_id in (sgd, adam):
        panel.table_model.set_ticked(run_id, True)
    plots = window.training_panel.plots
    wait(app, lambda: len(plots.overlays.runs) == 2, timeout=60)
    tp = window.training_panel
    tp.preset.setCurrentText("cnn_small")
    tp.build_preset()
    tp.set_config({"optimizer": "SGD", "hyper": {"lr": 0.01, "momentum": 0.0}, "epochs": 3, "batch_size": 64,
                   "preset": "cnn_small"})
    tp.start()
    steps = -(-int(len(ds.x_train) * 0.9) // 64)
    wait(app, lambda: plots.batch["loss"].n >= steps + steps // 2, timeout=600)
    grab(app, window, "Training", out / "runs_overlaid.png")
    tp.job.stop_and_wait(5000)
    wait(app, lambda: not tp.running, timeout=30)
    panel.refresh()
    wait(app, lambda: not panel.list_job.running, timeout=30)
    panel.select_runs([sgd, adam])
    wait(app, lambda: not any(m.isHidden() for m in panel.compare.matrices), timeout=300)
    grab(app, window, "Runs", out / "runs.png")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    parser.add_argument("--size", default="1400x900")
    parser.add_argument("--train-images", type=int, default=6000, help="MNIST training images to train on")
    parser.add_argument("--onnx", help="only onnx.png: the window opened on this ONNX file")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    width, height = map(int, args.size.split("x"))
    app = create_app([])
    # The runs trained here are throw-away: replacing one by the next preset asks nothing.
    unsaved.ask = lambda parent, doing, can_save=True: unsaved.DISCARD
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["NUMPYNET_RUNS"] = str(Path(tmp) / "runs")   # the runs it trains are not the user's
        settings = QSettings(str(Path(tmp) / "settings.ini"), QSettings.IniFormat)
        window = MainWindow(settings=settings, autoload_data=False)
        window.resize(width, height)
        window.show()
        ds = mnist_subset(args.train_images, args.train_images // 3)
        window.data_panel.show_dataset(ds)
        window.state.set_dataset(ds)
        if args.onnx:
            onnx_screenshot(app, window, args.onnx, out / "onnx.png")
        else:
            training_screenshot(app, window, ds, out / "training.png")
            grab(app, window, "Data", out / "data.png")
            runs_screenshots(app, window, ds, out)
        window.close()


if __name__ == "__main__":
    main()
