"""Screenshots of the main window for the README, taken during a real training run.

    NUMPYNET_DATA=/path/to/data python scripts/screenshots.py [--out docs/screenshots] [--size 1400x900]
    NUMPYNET_DATA=/path/to/data python scripts/screenshots.py --onnx tests/data/onnx/lenet_torch.onnx
    NUMPYNET_DATA=/path/to/data python scripts/screenshots.py --watch --size 1366x768

Opens the real window offscreen (with throw-away settings and runs folder,
so a user's are never touched), loads MNIST through ``core.datasets.load``
(NUMPYNET_DATA, the user cache or a download), trains a fresh LeNet-5 on a
few thousand images and grabs the Training view in the middle of its last
epoch, then the Data view (MNIST cut to 100 images per class); then trains two short runs, overlays them in the
Training plots beside a third one training live, and grabs the Runs view
comparing the two; then the Lab's pages: Robustness with the pretrained LeNet-5
and MLP overlaid, Map, Surgery and Confidence on the pretrained LeNet-5. One
function per view: add more beside them (a Lab page in ``LAB``). With ``--onnx
FILE`` it takes only ``onnx.png``: the window opened on that ONNX file, Inside
showing the feature maps of a test digit; with ``--only PAGE`` only that Lab
page's. With ``--watch`` it takes only ``training_watch.png`` (the advice line
over a climbing loss) and ``dead_units.png`` (Inside's dead units beside the
gradient sizes).
"""
import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
PRETRAINED = ROOT / "saved_models" / "lenet5-mnist"
sys.path.insert(0, str(ROOT))

from PySide6.QtCore import QEvent, QPointF, QSettings, Qt  # noqa: E402
from PySide6.QtGui import QMouseEvent  # noqa: E402

from core import datasets, runs  # noqa: E402
from core.resources import shipped  # noqa: E402
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


def open_pretrained(window, name="lenet5-mnist"):
    """Open a shipped pretrained model; the status bar's "Opened <this checkout's folder>" is cleared."""
    if not window.open_model(shipped("saved_models") / name):
        raise SystemExit(f"could not open saved_models/{name}")
    window.statusBar().clearMessage()


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


def watch_screenshots(app, window, ds, out):
    """The pretrained LeNet-5 pushed with too large a learning rate, in slow motion, until the advice line
    offers to lower it; then, under Adam at 0.01, Inside's gradient sizes beside the units dying in FC500."""
    tp = window.training_panel
    pushed_run(app, window, {"optimizer": "SGD", "hyper": {"lr": 0.08, "momentum": 0.9}}, slow_ms=30)
    wait(app, lambda: tp.advice.isVisible() or not tp.running, timeout=600)
    grab(app, window, "Training", out / "training_watch.png")
    tp.job.stop_and_wait(5000)
    wait(app, lambda: not window.state.training, timeout=30)   # the run's end, as the window hears of it
    pushed_run(app, window, {"optimizer": "Adam", "hyper": {"lr": 0.01}}, slow_ms=0)
    wait(app, lambda: tp.plots.batch["loss"].n >= 300 or not tp.running, timeout=900)
    window.show_panel("Inside")
    window.panels["Inside"].set_tab("Weights over time")
    time.sleep(0.5)
    grab(app, window, "Inside", out / "dead_units.png")
    tp.job.stop_and_wait(5000)


def pushed_run(app, window, optimizer, slow_ms):
    """Start the pretrained LeNet-5 training one epoch with ``optimizer``, slowed by ``slow_ms`` per batch."""
    if not window.open_model(PRETRAINED):
        raise SystemExit(f"could not open {PRETRAINED}")
    tp = window.training_panel
    tp.set_config({**optimizer, "epochs": 1, "batch_size": 64, "schedule": "None", "preset": "lenet5"})
    tp.pace.slow_ms.setValue(slow_ms)
    tp.start()


def data_screenshot(app, window, ds, path):
    """The Data tab on all of MNIST cut to 100 images per class: samples, counts, the average image of each
    class and the pixel histogram (computed on the panel's worker); then the window's data is ``ds`` again."""
    panel = window.data_panel
    panel.per_class.setCurrentIndex(panel.per_class.findData(100))
    panel.use_dataset(datasets.load("mnist"))
    window.show_panel("Data")
    wait(app, lambda: panel.summary_view.summary is not None, timeout=120)
    grab(app, window, "Data", path)
    panel.per_class.setCurrentIndex(panel.per_class.findData(0))
    panel.use_dataset(ds)


def onnx_screenshot(app, window, onnx_file, path):
    """The window on an imported ONNX model: Inside's feature maps of the first test image, a 7."""
    if not window.open_model(onnx_file):
        raise SystemExit(f"could not open {onnx_file}")
    window.show_panel("Inside")
    window.panels["Inside"].show_test_index(0)
    time.sleep(0.3)
    grab(app, window, "Inside", path)


def point_map_screenshot(app, window, path, points=5000):
    """Lab > Map: how the pretrained LeNet-5's last hidden layer (Dense #6, 500 units) places ``points`` MNIST
    test images, with the mouse on a mistake so its image shows."""
    open_pretrained(window)
    window.state.set_dataset(datasets.load("mnist"))    # the whole test set to sample from
    page = window.panels["Lab"].pages["Map"]
    page.size.setCurrentIndex(page.size.findData(points))
    window.show_panel("Lab")
    window.panels["Lab"].show_page("Map")
    wait(app, lambda: page.current and not page.job.running, timeout=300)
    for _ in range(5):
        app.processEvents()     # the legend beside the map takes its width: the dots settle where they stay
    view = page.view
    wrong = [i for i in range(len(view.labels)) if view.labels[i] != view.predictions[i]]
    at = QPointF(view.widget_pos(wrong[len(wrong) // 2]))
    # sent to the widget itself: an offscreen window that is not active gets no synthesized mouse moves
    app.sendEvent(view.viewport(), QMouseEvent(QEvent.MouseMove, at, view.viewport().mapToGlobal(at), Qt.NoButton,
                                               Qt.NoButton, Qt.NoModifier))
    grab(app, window, "Lab", path)


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


def robustness_screenshot(app, window, path):
    """Lab > Robustness: the pretrained LeNet-5 against the pretrained MLP as Gaussian noise grows."""
    open_pretrained(window)
    window.show_panel("Lab")
    lab = window.panels["Lab"]
    lab.show_page("Robustness")
    page = lab.pages["Robustness"]
    page.kind.setCurrentIndex(page.kind.findData("noise"))
    page.choose_compare(("model", str(shipped("saved_models") / "mlp-mnist")))
    page.compute()
    wait(app, lambda: not page.job.running, timeout=600)
    grab(app, window, "Lab", path)


def confidence_screenshot(app, window, path):
    """Lab > Confidence for the pretrained LeNet-5 on the whole MNIST test set: the threshold at 99%, the
    coverage curve, the reliability diagram, and a temperature fitted on the Training tab's validation images."""
    from gui.abstention import Abstention
    open_pretrained(window)
    window.state.set_dataset(datasets.load("mnist"))
    Abstention.of(window.state).set_threshold(0.99)
    window.show_panel("Lab")
    page = window.panels["Lab"].pages["Confidence"]
    window.panels["Lab"].show_page("Confidence")
    wait(app, lambda: Abstention.of(window.state).probabilities() is not None, timeout=300)
    wait(app, lambda: not page.job.running, timeout=30)
    page.fit()
    wait(app, lambda: not page.job.running, timeout=300)
    grab(app, window, "Lab", path)


def surgery_screenshot(app, window, path):
    """Lab > Surgery on the pretrained LeNet-5 and all of MNIST's test set: a 7 drawn on the pad, filter 7 of
    the first convolution switched off and 95% of the weights pruned, the accuracy before and after."""
    from draw_demo import SEVEN, draw
    open_pretrained(window)
    window.state.set_dataset(datasets.load("mnist"))
    window.show_panel("Draw")
    draw(window.panels["Draw"].canvas, SEVEN)
    window.show_panel("Lab")
    page = window.panels["Lab"].pages["Surgery"]
    window.panels["Lab"].show_page("Surgery")
    page.unit_controls.unit.setValue(7)
    page.unit_controls.off_button.click()
    page.model_controls.fraction.setValue(95)
    page.model_controls.prune_button.click()
    wait(app, lambda: not page.accuracy.job.running, timeout=300)
    grab(app, window, "Lab", path)


# The Lab's pages, in the tab's order: name (of the PNG and of --only) -> function(app, window, path).
LAB = {"robustness": robustness_screenshot, "point_map": point_map_screenshot, "surgery": surgery_screenshot,
       "confidence": confidence_screenshot}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    parser.add_argument("--size", default="1400x900")
    parser.add_argument("--train-images", type=int, default=6000, help="MNIST training images to train on")
    parser.add_argument("--onnx", help="only onnx.png: the window opened on this ONNX file")
    parser.add_argument("--only", choices=sorted(LAB), help="only this Lab page's screenshot (no training)")
    parser.add_argument("--watch", action="store_true", help="only training_watch.png and dead_units.png, "
                        "on the whole of MNIST")
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
        ds = mnist_subset(60_000 if args.watch else args.train_images, 10_000 if args.watch else args.train_images // 3)
        window.data_panel.show_dataset(ds)
        window.state.set_dataset(ds)
        if args.onnx:
            onnx_screenshot(app, window, args.onnx, out / "onnx.png")
        elif args.only:
            LAB[args.only](app, window, out / f"{args.only}.png")
        elif args.watch:
            watch_screenshots(app, window, ds, out)
        else:
            training_screenshot(app, window, ds, out / "training.png")
            data_screenshot(app, window, ds, out / "data.png")
            runs_screenshots(app, window, ds, out)
            for name, screenshot in LAB.items():
                screenshot(app, window, out / f"{name}.png")
        window.close()


if __name__ == "__main__":
    main()
