"""The Training panel end to end: Start/Pause/Stop on a tiny model, plots, failures, divergence, settings."""
import csv
import threading
import time

import numpy as np
import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QMessageBox

from core import Sequential, optimizers
from core.datasets import Dataset
from core.layers import Dense, Flatten, Softmax
from core.optimizers import Adam
from gui.panels import training as training_mod
from gui.panels.training import TrainingPanel
from gui.settings import Settings
from gui.state import AppState

N, BATCH = 300, 30


def tiny_dataset(n=N, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n + 60)
    x = rng.random((n + 60, 1, 8, 8)).astype(np.float32) * 0.3
    x[np.arange(len(y)), 0, 2 * y + 1, :] += 0.7
    return Dataset("tiny", x[:n], y[:n], x[n:], y[n:], ["a", "b", "c"], "made by the test")


def tiny_model():
    return Sequential([Flatten(), Dense(3), Softmax()], input_shape=(1, 8, 8), seed=0)


@pytest.fixture
def panel(qtbot, tmp_path):
    state = AppState()
    settings = Settings(QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat))
    panel = TrainingPanel(state, settings)
    qtbot.addWidget(panel)
    panel.resize(1200, 800)
    state.set_model(tiny_model())
    state.set_dataset(tiny_dataset())
    panel.epochs.setValue(2)
    panel.batch_size.setValue(BATCH)
    panel.set_validation_fraction(0.2)
    yield panel
    panel.job.stop_and_wait(2000)


def messages(widget):
    return [box for box in widget.findChildren(QMessageBox) if box.isVisible()]


def run_to_end(qtbot, panel, timeout=10_000):
    qtbot.mouseClick(panel.buttons["start"], Qt.LeftButton)
    assert panel.running
    qtbot.waitUntil(lambda: not panel.running, timeout=timeout)


def test_training_from_the_panel_fills_plots_and_progress(qtbot, panel):
    started = []
    panel.state.trainingStarted.connect(lambda: started.append(True))
    run_to_end(qtbot, panel)
    steps = 2 * int(np.ceil(N * 0.8 / BATCH))
    plots = panel.plots
    assert started and not panel.state.training
    assert plots.batch["loss"].n == steps
    assert list(plots.batch["loss"].xs) == list(range(1, steps + 1))
    assert list(plots.epoch["loss"].xs) == [1, 2] and plots.epoch["val_accuracy"].n == 2
    smoothed = plots.batch_loss.getPlotItem().listDataItems()[1]   # the curve holds every point
    assert len(smoothed.xData) == steps and np.allclose(smoothed.yData, plots.batch["loss_ema"].ys)
    assert panel.progress.value() == panel.progress.maximum()
    assert panel.status_label.text().startswith("Finished 2 epochs")
    model = panel.state.model
    assert model.meta["dataset"] == "tiny" and model.meta["class_names"] == ["a", "b", "c"]
    assert model.meta["preprocessing"] == "fit" and 0 <= model.meta["metrics"]["test_accuracy"] <= 1
    assert len(model.train_history["loss"]) == 2
    qtbot.waitUntil(lambda: not plots.timer.isActive(), timeout=2000)   # at rest: no refresh wake-ups
    assert np.allclose(smoothed.yData, plots.batch["loss_ema"].ys)
    plots.add_batches([(steps + 1, 0.5, 0.5, 0.01)])
    assert plots.timer.isActive()
    qtbot.waitUntil(lambda: len(smoothed.xData) == steps + 1 and not plots.timer.isActive(), timeout=2000)


def test_a_second_run_continues_epochs_and_steps(qtbot, panel):
    run_to_end(qtbot, panel)
    first = panel.plots.batch["loss"].n
    panel.epochs.setValue(1)
    run_to_end(qtbot, panel)
    assert list(panel.plots.epoch["loss"].xs) == [1, 2, 3]
    assert list(panel.plots.batch["loss"].xs) == list(range(1, first + first // 2 + 1))


def test_stop_mid_run_leaves_a_usable_model(qtbot, panel, monkeypatch):
    stop_after_batch(qtbot, panel, monkeypatch, at=3)
    assert panel.plots.batch["loss"].n == 3
    model = panel.state.model
    assert all(np.isfinite(w).all() for w in model.get_weights().values())
    assert model.predict(tiny_dataset().x_test).shape == (60, 3)
    assert panel.status_label.text().startswith("Stopped by you in epoch 1")
    assert not panel.state.training and panel.start_action.isEnabled()


def slow_identity(x, rng):
    time.sleep(0.01)
    return x


class Gate:
    """An augment that holds the worker at the ``at``-th batch of the run until the test lets it go, so
    a Stop lands after a known batch, however the batch rows are bunched on their way to the plots."""

    def __init__(self, at):
        self.at, self.batches = at, 0
        self.reached, self.go = threading.Event(), threading.Event()

    def __call__(self, x, rng):
        self.batches += 1
        if self.batches == self.at:
            self.reached.set()
            self.go.wait(10)
        return x


def stop_after_batch(qtbot, panel, monkeypatch, at):
    """Start a 100-epoch run and press Stop while its ``at``-th batch trains: the run stops after it."""
    gate = Gate(at)
    monkeypatch.setattr(training_mod, "make_augment", lambda switches: gate)
    panel.epochs.setValue(100)
    qtbot.mouseClick(panel.buttons["start"], Qt.LeftButton)
    qtbot.waitUntil(gate.reached.is_set, timeout=10_000)
    qtbot.mouseClick(panel.buttons["stop"], Qt.LeftButton)
    gate.go.set()
    qtbot.waitUntil(lambda: not panel.running, timeout=5000)


def test_pause_and_resume_from_the_buttons(qtbot, panel, monkeypatch):
    monkeypatch.setattr(training_mod, "make_augment", lambda switches: slow_identity)
    panel.epochs.setValue(3)
    qtbot.mouseClick(panel.buttons["start"], Qt.LeftButton)
    qtbot.waitUntil(lambda: panel.plots.batch["loss"].n >= 2, timeout=5000)
    qtbot.mouseClick(panel.buttons["pause"], Qt.LeftButton)
    assert panel.pause_action.text() == "Resume"
    qtbot.wait(200)
    held = panel.plots.batch["loss"].n
    qtbot.wait(300)
    assert panel.plots.batch["loss"].n == held and panel.running
    qtbot.mouseClick(panel.buttons["pause"], Qt.LeftButton)
    qtbot.waitUntil(lambda: not panel.running, timeout=10_000)
    steps = panel.plots.batch["loss"].xs
    assert list(steps) == list(range(1, len(steps) + 1)) and len(steps) == 3 * 8


def test_start_waits_for_a_valid_architecture_and_a_fitting_dataset(qtbot, panel):
    assert panel.start_action.isEnabled()
    panel.state.set_architecture_valid(False, "Conv2D #3: kernel 5x5 is larger than its 3x3 input")
    assert not panel.start_action.isEnabled()
    assert "kernel 5x5" in panel.progress_label.text()
    panel.state.set_architecture_valid(True)
    assert panel.start_action.isEnabled() and panel.progress_label.text() == "Ready"
    panel.state.set_dataset(None)
    assert not panel.start_action.isEnabled()
    big = Dataset("big", np.zeros((10, 1, 28, 28), np.float32), np.zeros(10, np.int64),
                  np.zeros((0, 1, 28, 28), np.float32), np.zeros(0, np.int64), list("0123456789"), "-")
    panel.state.set_dataset(big)
    assert not panel.start_action.isEnabled() and "Build a preset" in panel.progress_label.text()
    panel.preset.setCurrentText("mlp")
    qtbot.mouseClick(panel.new_model, Qt.LeftButton)
    assert panel.state.model.input_shape == (1, 28, 28) and panel.start_action.isEnabled()


def test_a_worker_exception_becomes_a_message_and_the_app_goes_on(qtbot, panel, monkeypatch):
    def broken(x, rng):
        raise RuntimeError("augment exploded")
    monkeypatch.setattr(training_mod, "make_augment", lambda switches: broken)
    run_to_end(qtbot, panel)
    boxes = messages(panel)
    assert len(boxes) == 1
    assert boxes[0].text() == "RuntimeError: augment exploded"
    assert "Traceback" in boxes[0].detailedText()
    assert "Training failed" in panel.status_label.text()
    assert not panel.state.training and panel.start_action.isEnabled()
    boxes[0].close()
    monkeypatch.setattr(training_mod, "make_augment", lambda switches: None)
    run_to_end(qtbot, panel)   # still alive: the next run works
    assert panel.status_label.text().startswith("Finished")


def test_a_diverged_run_offers_to_lower_the_learning_rate(qtbot, panel, monkeypatch):
    def blow_up(x, rng):   # the first batch's logits overflow: its loss is inf, as a runaway rate gives
        return x * np.float32(1e38)
    monkeypatch.setattr(training_mod, "make_augment", lambda switches: blow_up)
    before = {k: v.copy() for k, v in panel.state.model.get_weights().items()}
    panel.hyper["lr"].setValue(0.5)
    run_to_end(qtbot, panel)
    assert panel.status_label.text().startswith("Diverged")
    box, = messages(panel)
    assert box.windowTitle() == "Training diverged"
    lower = next(b for b in box.buttons() if "Lower" in b.text())
    qtbot.mouseClick(lower, Qt.LeftButton)
    assert panel.hyper["lr"].value() == pytest.approx(0.05)
    for key, value in panel.state.model.get_weights().items():
        np.testing.assert_array_equal(value, before[key])   # nothing lost


def test_settings_round_trip_and_optimizer_form(qtbot, panel, tmp_path):
    panel.optimizer.setCurrentText("Adam")
    assert panel.hyper["lr"].value() == pytest.approx(0.001)
    assert not panel.opt_form.isRowVisible(panel.hyper["momentum"])
    assert panel.opt_form.isRowVisible(panel.hyper["beta2"])
    panel.hyper["lr"].setValue(0.003)
    panel.schedule.setCurrentIndex(3)
    panel.augment["rotate"].setChecked(True)
    panel.save_settings()
    again = TrainingPanel(AppState(), panel.settings)
    qtbot.addWidget(again)
    assert again.config() == panel.config()
    assert again.optimizer_config() == {"type": "Adam", "weight_decay": 0.0, "lr": 0.003,
                                        "beta1": 0.9, "beta2": 0.999}


@pytest.mark.parametrize("name, words", [("thickness", "strokes"), ("noise", "noise")])
def test_thickness_and_noise_switches(qtbot, panel, name, words):
    """The app offers every augmentation the pretrained models were trained with: stroke thickness and noise too."""
    switch = panel.augment[name]
    assert switch.isVisibleTo(panel) and words in switch.toolTip()
    switch.setChecked(True)
    made = training_mod.make_augment(panel.config()["augment"])
    assert {k: v for k, v in made.get_config().items() if v and k != "elastic_sigma"} == {name: made.get_config()[name]}
    assert getattr(made, name) > 0


def test_exporting_the_history_never_overwrites_the_batch_table_unasked(qtbot, panel, tmp_path, monkeypatch):
    """The save dialog confirms only history.csv; history-batches.csv beside it is the user's until they agree."""
    from PySide6.QtWidgets import QFileDialog
    run_to_end(qtbot, panel)
    (tmp_path / "history-batches.csv").write_text("my own numbers")
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a: (str(tmp_path / "history.csv"), ""))
    asked = []
    monkeypatch.setattr(QMessageBox, "exec", lambda box: asked.append(box.text()) or QMessageBox.No)
    panel._export_csv()
    assert asked and "history-batches.csv" in asked[0]
    assert (tmp_path / "history-batches.csv").read_text() == "my own numbers"
    assert not (tmp_path / "history.csv").exists()
    monkeypatch.setattr(QMessageBox, "exec", lambda box: QMessageBox.Yes)
    panel._export_csv()
    assert (tmp_path / "history-batches.csv").read_text().startswith("step")


def test_history_exports_as_csv(qtbot, panel, tmp_path):
    run_to_end(qtbot, panel)
    batches = panel.plots.export_csv(tmp_path / "history.csv")
    with open(tmp_path / "history.csv") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["epoch"]) for r in rows] == [1, 2] and float(rows[1]["val_loss"]) > 0
    with open(batches) as f:
        assert len(list(csv.DictReader(f))) == panel.plots.batch["loss"].n
    panel.plots.export_png(tmp_path / "plots.png")
    assert (tmp_path / "plots.png").stat().st_size > 5000


def test_the_model_box_follows_runs_and_files(qtbot, panel, monkeypatch, tmp_path):
    panel.state.set_model(panel.state.model, str(tmp_path / "opened"))
    assert panel.model_label.text().startswith("<b>opened</b>") and "untrained" in panel.model_label.text()
    run_to_end(qtbot, panel)
    text = panel.model_label.text()
    assert "training now" not in text and "trained 2 epochs on tiny" in text
    assert "opened · unsaved changes" in text, "trained since it was opened: its folder is older"
    panel.state.set_saved(tmp_path / "kept")
    assert panel.model_label.text().startswith("<b>kept</b><br>") and "unsaved" not in panel.model_label.text()
    gate = Gate(at=3)
    monkeypatch.setattr(training_mod, "make_augment", lambda switches: gate)
    panel.epochs.setValue(100)
    qtbot.mouseClick(panel.buttons["start"], Qt.LeftButton)
    qtbot.waitUntil(gate.reached.is_set, timeout=10_000)
    qtbot.waitUntil(lambda: "training now (had 2 epochs)" in panel.model_label.text(), timeout=5000)
    qtbot.mouseClick(panel.buttons["stop"], Qt.LeftButton)
    gate.go.set()
    qtbot.waitUntil(lambda: not panel.running, timeout=5000)
    assert "training now" not in panel.model_label.text() and "trained 3 epochs" in panel.model_label.text()


def test_a_preset_is_named_until_another_model_replaces_it(qtbot, panel):
    panel.preset.setCurrentText("mlp")
    panel.build_preset()
    assert panel.model_label.text().startswith("<b>mlp (unsaved)</b>")
    panel.state.set_model(tiny_model())   # e.g. the editor's new architecture
    assert panel.model_label.text().startswith("<b>unsaved model</b>")


def test_another_model_clears_the_last_runs_lines_and_step_range(qtbot, panel):
    run_to_end(qtbot, panel)
    assert panel.status_label.text().startswith("Finished") and panel.progress.value() == 1000
    steps = panel.plots.last_step
    panel.state.set_model(tiny_model(), "/models/other")
    assert panel.status_label.text() == "" and panel.progress_label.text() == "Ready"
    assert panel.progress.value() == 0 and panel.plots.last_step == 0
    for view in (panel.plots.batch_loss, panel.plots.batch_acc, panel.plots.lr_plot):
        low, high = view.getPlotItem().viewRange()[0]
        assert high < steps / 2, f"{view.getPlotItem().titleLabel.text} still spans the old run's steps"


@pytest.mark.parametrize("rates", [[0.01] * 40, [0.5] * 40, list(np.linspace(0.1, 0.0, 40)), [1e-4] * 40])
def test_the_learning_rate_axis_starts_at_zero_and_shows_the_rate(qtbot, rates):
    from gui.plots import TrainingPlots
    plots = TrainingPlots()
    qtbot.addWidget(plots)
    plots.show()
    plots.add_batches([(i + 1, 1.0, 0.5, lr) for i, lr in enumerate(rates)])
    plots.refresh()
    qtbot.wait(50)   # pyqtgraph ranges its axes when it paints
    low, high = plots.lr_plot.getPlotItem().viewRange()[1]
    assert low == 0 and max(rates) < high <= 1.2 * max(rates), (low, high)


def legend_texts(view):
    return [label.text for _sample, label in view.getPlotItem().legend.items]


def legend_inside(view):
    """Whether the legend's box, every line of it, lies within the plot area that clips it."""
    legend = view.getPlotItem().legend
    box = legend.mapRectToParent(legend.boundingRect())
    return legend.parentItem().boundingRect().contains(box)


def test_a_stopped_epoch_is_plotted_as_partial_and_stays_so(qtbot, panel, monkeypatch, tmp_path):
    """fit reports a stopped epoch's average over the batches it trained, like a whole epoch's; the
    epoch plots must not show it as one: hollow markers, named in the legend, kept in the saved model."""
    steps = 8                                          # 240 training images in batches of 30
    stop_after_batch(qtbot, panel, monkeypatch, at=steps + 3)
    plots = panel.plots
    trained = plots.batch["loss"].n - steps
    assert trained == 3
    assert plots.partial == {2: trained / steps}
    assert list(plots.epoch["loss"].xs) == [1, 2]      # the line still reaches it...
    for key in ("loss", "val_loss", "accuracy", "val_accuracy"):
        assert list(plots.partial_points[key].xs) == [2]   # ...but its markers are hollow
    note = f"epoch 2 (partial, {trained / steps:.0%})"
    for view in (plots.epoch_loss, plots.epoch_acc):
        assert note in legend_texts(view) and note in view.toolTip()
        assert legend_inside(view)   # the longer line is not cut off by the plot's edge
    plots.export_csv(tmp_path / "history.csv")
    with open(tmp_path / "history.csv") as f:
        assert [float(r["fraction"]) for r in csv.DictReader(f)] == [1.0, trained / steps]

    model = panel.state.model
    assert model.meta["partial_epochs"] == {"2": trained / steps}
    model.save(tmp_path / "m")
    from core import load_model
    panel.state.set_model(load_model(tmp_path / "m"))  # reopened: still partial
    assert plots.partial == {2: trained / steps} and note in legend_texts(plots.epoch_loss)
    panel.state.set_model(tiny_model())                # another model: no note left behind
    assert plots.partial == {} and not any("partial" in t for t in legend_texts(plots.epoch_loss))
    assert plots.epoch_loss.toolTip() == plots.epoch_loss.help and "partial" not in plots.epoch_loss.help


def test_a_run_to_its_end_has_no_partial_epoch(qtbot, panel):
    run_to_end(qtbot, panel)
    assert panel.plots.partial == {} and "partial_epochs" not in panel.state.model.meta
    assert not any("partial" in t for t in legend_texts(panel.plots.epoch_loss))


class _RetunedAdam(Adam):
    """Adam with other defaults: a change made in the class's signature only."""

    def __init__(self, lr=0.002, beta1=0.8, beta2=0.99, epsilon=1e-8, weight_decay=0.0):
        super().__init__(lr, beta1, beta2, epsilon, weight_decay)


_RetunedAdam.__name__ = "Adam"


def test_the_optimizer_form_follows_the_optimizer_classes(qtbot, panel, monkeypatch):
    """Each optimizer shows the arguments its class takes, at the values it starts from; a default changed in
    the class's signature reaches the form without a change in the panel."""
    names = [panel.optimizer.itemText(i) for i in range(panel.optimizer.count())]
    assert names == [cls.__name__ for cls in optimizers.OPTIMIZERS.values()]
    for name in names:
        panel.optimizer.setCurrentText(name)
        start = optimizers.starting_values(name)
        for key, spin in panel.hyper.items():
            assert panel.opt_form.isRowVisible(spin) == (key in start), (name, key)
        assert panel.opt_form.isRowVisible(panel.nesterov) == ("nesterov" in start)
        config = panel.optimizer_config()
        assert config == {"type": name, **{k: v for k, v in start.items() if k in config}}
        assert optimizers.from_config(config).get_config() == {"type": name, **start}   # epsilon: the default
    monkeypatch.setitem(optimizers.OPTIMIZERS, "adam", _RetunedAdam)
    panel.optimizer.setCurrentText("SGD")
    panel.optimizer.setCurrentText("Adam")
    assert [panel.hyper[k].value() for k in ("lr", "beta1", "beta2")] == pytest.approx([0.002, 0.8, 0.99])
    assert panel.optimizer_config() == {"type": "Adam", "weight_decay": 0.0, "lr": 0.002, "beta1": 0.8, "beta2": 0.99}


def test_a_stop_in_a_continued_run_names_the_epoch_the_plots_show(qtbot, panel, monkeypatch):
    """The stopped epoch is counted across runs, as the epoch plots and the Model box count it: a model
    with one epoch behind it, stopped in its second, was "Stopped by you in epoch 1"."""
    panel.epochs.setValue(1)
    run_to_end(qtbot, panel)
    stop_after_batch(qtbot, panel, monkeypatch, at=3)     # the continued run's third batch: epoch 2's
    assert list(panel.plots.partial) == [2]
    assert panel.status_label.text().startswith("Stopped by you in epoch 2;")
    assert "trained 2 epochs" in panel.model_label.text()


def test_continue_says_what_a_run_stopped_in_mid_epoch_leaves_untrained(qtbot, panel, monkeypatch):
    stop_after_batch(qtbot, panel, monkeypatch, at=3)
    tip = panel.continue_action.toolTip()
    assert panel.current_run() is not None and panel.continue_action.isEnabled()
    assert "Epoch 1 was stopped after 38% of its batches: continuing starts epoch 2" in tip, tip   # 3 of 8
    assert "exactly" not in tip
    monkeypatch.setattr(training_mod, "make_augment", lambda switches: None)
    panel.epochs.setValue(1)
    run_to_end(qtbot, panel)
    assert "exactly as if it had not stopped" in panel.continue_action.toolTip()


def test_the_loss_axis_frames_every_loss_and_moves_seldom_and_never_against_the_user(qtbot):
    """Autoranging moved the loss axis at every refresh as the lowest loss fell, and each move redraws the
    axis: the frame must hold every loss, yet move only when they leave it or fill less than half of it."""
    from gui.plots import TrainingPlots
    plots = TrainingPlots()
    qtbot.addWidget(plots)
    plots.show()
    steps = np.arange(1, 601)
    losses = (2.3 * np.exp(-steps / 100) + 0.05) * (1 + 0.2 * np.random.default_rng(0).standard_normal(600))
    plots.plan_steps(0, 600)
    view = plots.batch_loss.getPlotItem()
    frames = []
    for start in range(0, 600, 10):
        plots.add_batches([(s, loss, 0.5, 0.1) for s, loss in zip(steps[start:start + 10], losses[start:start + 10])])
        plots.refresh()
        bottom, top = view.viewRange()[1]
        assert 0 <= bottom <= losses[:start + 10].min() and losses[:start + 10].max() <= top
        frames.append((bottom, top))
    assert len(set(frames)) <= 6, f"the frame moved {len(set(frames))} times in 60 refreshes"
    plots.add_batches([(599, float("nan"), 0.5, 0.1), (600, float("inf"), 0.5, 0.1)])   # a diverging end
    plots.refresh()
    assert view.viewRange()[1] == list(frames[-1])

    view.setYRange(0.5, 1.0, padding=0)                           # the user zooms in, with the wheel
    view.getViewBox().sigRangeChangedManually.emit([True, True])
    plots.add_batches([(601, 5.0, 0.5, 0.1)])
    plots.refresh()
    assert view.viewRange()[1] == [0.5, 1.0], "the user's frame is kept while they look"
    plots.plan_steps(600, 700)                                     # the next run frames the losses again
    plots.add_batches([(602, 0.1, 0.5, 0.1)])
    plots.refresh()
    assert view.viewRange()[1][1] >= 5.0


def test_a_long_run_is_drawn_from_at_most_two_points_a_pixel_and_an_overlaid_run_too(qtbot):
    """20,000 batches in a plot a few hundred pixels wide: each curve keeps a pixel column's lowest and highest
    loss, not five columns' worth a pixel (pyqtgraph's default), which made the faint batch line a solid
    mass over the smoothed one and took three times as long to paint."""
    from gui.plots import TrainingPlots
    plots = TrainingPlots()
    qtbot.addWidget(plots)
    plots.resize(1000, 700)
    plots.show()
    qtbot.waitExposed(plots)
    n = 20_000
    steps = np.arange(1, n + 1)
    losses = 2 * np.exp(-steps / 3000) + 0.1 * np.random.default_rng(0).random(n)
    plots.plan_steps(1, n)
    plots.add_batches(np.column_stack([steps, losses, 1 - losses / 3, np.full(n, 0.01)]))
    plots.refresh()
    overlay = plots.batch_loss.curve(steps, losses)   # as RunOverlays draws a recorded run
    width = plots.batch_loss.getPlotItem().getViewBox().width()
    for item in plots.batch_loss.getPlotItem().listDataItems():
        shown = len(item.curve.xData)
        assert shown <= 2 * width + 4, f"{shown} points drawn in {width:.0f} pixels"
    assert overlay in plots.batch_loss.getPlotItem().listDataItems()
    peaks = plots.batch_loss.getPlotItem().listDataItems()[0].curve.yData
    assert peaks.max() == losses.max() and peaks.min() == losses.min(), "the envelope keeps every extreme"


def test_a_smooth_line_is_drawn_from_a_point_every_two_pixels(qtbot):
    """The moving averages and the learning rate have no spikes between their points to keep, and their wide
    lines are drawn segment by segment (most of a batch plot's paint): a point every two pixels, whether the
    run has filled its frame or not. The faint batch line keeps its extremes."""
    from gui.plots import TrainingPlots
    plots = TrainingPlots()
    qtbot.addWidget(plots)
    plots.resize(1000, 700)
    plots.show()
    qtbot.waitExposed(plots)
    steps = np.arange(1, 3001)
    losses = 2 * np.exp(-steps / 300) + 0.1 * np.random.default_rng(0).random(len(steps))
    plots.plan_steps(1, 6000)                                   # half the run trained
    plots.add_batches(np.column_stack([steps, losses, 1 - losses / 3, np.full(len(steps), 0.01)]))
    plots.refresh()
    for view, name in ((plots.batch_loss, "smoothed"), (plots.batch_acc, "smoothed"), (plots.lr_plot, "lr")):
        item = next(item for item in view.getPlotItem().listDataItems() if item.name() == name)
        width = view.getPlotItem().getViewBox().width()
        shown = len(item.curve.xData)
        assert 0.8 * width / 4 <= shown <= 1.1 * width / 4, f"{name}: {shown} points over half of {width:.0f} pixels"
    raw = next(item for item in plots.batch_loss.getPlotItem().listDataItems() if item.name() == "batch")
    assert raw.curve.yData.max() == losses.max() and raw.curve.yData.min() == losses.min()


def test_an_epoch_legend_moves_to_the_corner_where_it_hides_no_point(qtbot):
    """A legend's translucent box fades the points under it: a validation loss rising into the top right
    corner sends the legend to the top left, where the flat training loss leaves room."""
    from gui.legend_corner import CORNERS, TOP_LEFT, TOP_RIGHT, hidden
    from gui.plots import TrainingPlots
    plots = TrainingPlots()
    qtbot.addWidget(plots)
    plots.resize(900, 560)
    plots.show()
    n = 40
    history = {"loss": [0.1] * n, "val_loss": list(np.linspace(0.1, 1.0, n) ** 3 * 0.9 + 0.1),
               "accuracy": [0.9] * n, "val_accuracy": [0.9] * n, "lr": [0.01] * n}
    plots.load_history(history)
    plot = plots.epoch_loss.getPlotItem()
    qtbot.waitUntil(lambda: plot.legend.opts["offset"] == TOP_LEFT, timeout=3000)
    assert hidden(plot, TOP_LEFT) == 0 < hidden(plot, TOP_RIGHT)
    assert hidden(plot, TOP_LEFT) == min(hidden(plot, corner) for corner in CORNERS)
    assert plot.legend.opts["brush"].color().alpha() == 200
    plots.resize(900, 300)                      # too short for the legend anywhere: its box goes clear
    qtbot.waitUntil(lambda: min(hidden(plot, corner) for corner in CORNERS) > 0, timeout=3000)
    assert plot.legend.opts["brush"].color().alpha() == 0


def test_the_learning_rate_strip_takes_a_tick_at_most_once_a_second(qtbot, monkeypatch):
    """Rows arrive all the time while training: the batch loss and accuracy take the ticks, the mostly flat
    learning rate one a second; when the rows stop, every plot ends up showing every point."""
    from gui import plots as plots_mod
    plots = plots_mod.TrainingPlots()
    qtbot.addWidget(plots)
    clock = [100.0]
    monkeypatch.setattr(plots_mod.time, "monotonic", lambda: clock[0])
    refreshed = []
    refresh = plots.refresh
    monkeypatch.setattr(plots, "refresh", lambda views=None: (refreshed.extend(views or []), refresh(views)))
    step = 0
    for _ in range(20):   # three seconds of ticks, rows before each
        step += 1
        plots.add_batches([(step, 1.0 / step, 0.5, 0.01)])
        tick(plots)
        clock[0] += plots_mod.REFRESH_MS / 1000
    counts = {view: refreshed.count(view) for view in (plots.batch_loss, plots.batch_acc, plots.lr_plot)}
    assert counts[plots.lr_plot] == 3, "once a second"
    assert counts[plots.batch_loss] >= 8 and counts[plots.batch_acc] >= 8
    assert plots.timer.isActive()
    tick(plots)
    tick(plots)   # loss and accuracy are current: only the strip waits, and the timer waits for it
    assert plots._dirty == {plots.lr_plot}
    assert plots.timer.interval() > plots_mod.REFRESH_MS
    clock[0] += plots_mod.SLOW_REFRESH_S
    tick(plots)
    assert not plots._dirty and not plots.timer.isActive(), "at rest, every plot current and no wake-ups"
    lr = next(item for item in plots.lr_plot.getPlotItem().listDataItems())
    assert len(lr.xData) == step


def tick(plots):
    """The refresh timer's timeout, as it fires: the timer is no longer running then."""
    plots.timer.stop()
    plots._tick()
