"""Watching it learn, closer, on the Training tab: Step one batch, +1 epoch, slow motion, the advice line with
its one-click fixes, dead units beside the gradient sizes, and hover help on every control and chart."""
import time

import numpy as np
import pytest
from PySide6.QtCore import Qt
import test_training_panel
from test_training_panel import BATCH, N, slow_identity

from core import runs
from gui import advice_bar
from gui.hover_help import plain, silent_controls
from gui.panels import training as training_mod

panel = test_training_panel.panel   # the fixture: a Training panel with a tiny model and dataset
STEPS = int(np.ceil(N * 0.8 / BATCH))


def slow_batches(monkeypatch):
    monkeypatch.setattr(training_mod, "make_augment", lambda switches: slow_identity)


def click(qtbot, panel, key):
    button = panel.buttons[key]
    assert button.isEnabled(), f"{key} is greyed out: {button.toolTip()}"
    qtbot.mouseClick(button, Qt.LeftButton)


def test_step_starts_a_run_that_pauses_after_each_batch(qtbot, panel):
    click(qtbot, panel, "step")
    assert panel.running
    qtbot.waitUntil(lambda: panel.pause_action.text() == "Resume", timeout=5000)
    qtbot.wait(200)
    assert panel.plots.batch["loss"].n == 1 and panel.job.worker.step == 1
    assert panel.progress_label.text().startswith("Paused after one batch (step 1)")
    click(qtbot, panel, "step")
    qtbot.waitUntil(lambda: panel.job.worker.step == 2 and panel.job.worker.paused, timeout=5000)
    qtbot.wait(200)
    assert panel.plots.batch["loss"].n == 2, "one more batch, then the run waits again"
    click(qtbot, panel, "pause")                          # Resume: the rest of the run at full speed
    qtbot.waitUntil(lambda: not panel.running, timeout=10_000)
    assert panel.plots.batch["loss"].n == 2 * STEPS and panel.status_label.text().startswith("Finished 2 epochs")


def test_step_is_offered_only_where_it_can_act(qtbot, panel, monkeypatch):
    gate = test_training_panel.Gate(at=2)   # the run waits in its second batch: it is surely running when looked at
    monkeypatch.setattr(training_mod, "make_augment", lambda switches: gate)
    assert panel.buttons["step"].isEnabled()
    click(qtbot, panel, "start")
    qtbot.waitUntil(gate.reached.is_set, timeout=10_000)
    qtbot.waitUntil(lambda: not panel.buttons["step"].isEnabled(), timeout=5000)
    assert "Pause first" in panel.buttons["step"].toolTip()
    click(qtbot, panel, "stop")
    gate.go.set()
    qtbot.waitUntil(lambda: not panel.running, timeout=5000)


def test_plus_one_epoch_extends_the_running_run(qtbot, panel, monkeypatch):
    """+1 epoch pressed while the run trains. The run waits in its second batch until then: left to run, its eight
    batches could end before the press (it failed so once, in a CI run on a clean clone)."""
    gate = test_training_panel.Gate(at=2)
    monkeypatch.setattr(training_mod, "make_augment", lambda switches: gate)
    panel.epochs.setValue(1)
    click(qtbot, panel, "start")
    qtbot.waitUntil(gate.reached.is_set, timeout=10_000)
    click(qtbot, panel, "more")
    gate.go.set()
    assert "now trains 2 epochs" in panel.status_label.text()
    qtbot.waitUntil(lambda: not panel.running, timeout=20_000)
    plots = panel.plots
    assert list(plots.epoch["loss"].xs) == [1, 2] and list(plots.batch["loss"].xs) == list(range(1, 2 * STEPS + 1))
    assert panel.status_label.text().startswith("Finished 2 epochs")
    (info,) = runs.list()
    assert info["status"] == "finished" and info["epochs_done"] == 2, "one recorded run, not two"


def test_plus_one_epoch_after_a_run_continues_its_run_and_history(qtbot, panel):
    test_training_panel.run_to_end(qtbot, panel)
    first = panel.current_run()
    click(qtbot, panel, "more")
    qtbot.waitUntil(lambda: not panel.running, timeout=10_000)
    plots, model = panel.plots, panel.state.model
    assert list(plots.epoch["loss"].xs) == [1, 2, 3] and len(model.train_history["loss"]) == 3
    assert list(plots.batch["loss"].xs) == list(range(1, 3 * STEPS + 1)), "the steps go on from the last"
    assert runs.load(panel.current_run()).info["parent"] == first
    assert panel.epochs.value() == 2, "the form's epoch count is left as it was"


def test_slow_motion_changes_while_training_and_stop_does_not_wait_for_it(qtbot, panel):
    panel.pace.slow_ms.setValue(10_000)
    click(qtbot, panel, "start")
    qtbot.waitUntil(lambda: panel.plots.batch["loss"].n == 1, timeout=5000)
    qtbot.wait(300)
    assert panel.plots.batch["loss"].n == 1, "ten seconds between batches"
    assert panel.pace.slow_ms.isEnabled() and panel.pace.slow_per.isEnabled(), "slow motion stays live"
    panel.pace.slow_ms.setValue(300)
    qtbot.waitUntil(lambda: panel.plots.batch["loss"].n >= 3, timeout=3000)
    panel.pace.slow_ms.setValue(10_000)
    qtbot.wait(100)
    started = time.perf_counter()
    click(qtbot, panel, "stop")
    qtbot.waitUntil(lambda: not panel.running, timeout=2000)
    assert time.perf_counter() - started < 1.5


def test_closing_the_window_in_slow_motion_ends_promptly(qtbot, tmp_path):
    from test_main_window import make_window, tiny_dataset

    from core import zoo
    window = make_window(qtbot, str(tmp_path / "settings.ini"))
    window.show()
    window.state.set_model(zoo.build("mlp", seed=0))
    window.state.set_dataset(tiny_dataset())
    tp = window.training_panel
    tp.pace.slow_ms.setValue(10_000)
    tp.start()
    qtbot.waitUntil(lambda: tp.plots.batch["loss"].n >= 1, timeout=5000)
    thread = tp.job.thread
    started = time.perf_counter()
    window.close()
    assert time.perf_counter() - started < 1.0
    assert thread.isFinished() and not tp.running


def rising(start_step, n=150):
    """Batch rows whose loss climbs steadily: what a learning rate too large looks like."""
    steps = np.arange(start_step, start_step + n)
    loss = np.linspace(0.3, 0.9, n)
    return np.column_stack([steps, loss, np.full(n, 0.5), np.full(n, 0.05)])


def test_a_rising_loss_is_said_and_lowered_in_one_click_through_the_live_knobs(qtbot, panel):
    click(qtbot, panel, "step")                                    # a run, paused after one batch
    qtbot.waitUntil(lambda: panel.pause_action.text() == "Resume", timeout=5000)
    assert not panel.advice.isVisibleTo(panel)
    panel.plots.add_batches(rising(2))
    panel._on_batches(None)
    assert panel.advice.isVisibleTo(panel) and "rising" in panel.advice.text.text()
    old = panel.hyper["lr"].value()
    qtbot.mouseClick(panel.advice.fix, Qt.LeftButton)
    assert panel.hyper["lr"].value() == pytest.approx(0.3 * old)
    assert not panel.advice.isVisibleTo(panel) and "when the run resumes" in panel.status_label.text()
    click(qtbot, panel, "step")
    qtbot.waitUntil(lambda: bool(panel.plots.markers), timeout=5000)
    assert panel.plots.markers[0][1] == f"lr {0.3 * old:g}", "applied by the worker, marked on the plots"
    panel.plots.add_batches(rising(200, 20))
    panel._on_batches(None)
    assert not panel.advice.isVisibleTo(panel), "once taken, the advice waits for fresh batches"
    click(qtbot, panel, "stop")
    qtbot.waitUntil(lambda: not panel.running, timeout=5000)


def test_an_early_plateau_offers_a_step_schedule(qtbot, panel):
    panel.epochs.setValue(10)
    click(qtbot, panel, "step")
    qtbot.waitUntil(lambda: panel.pause_action.text() == "Resume", timeout=5000)
    for epoch, acc in enumerate([0.80, 0.90, 0.901, 0.899], start=1):
        panel.plots.add_epoch(epoch, {"loss": 0.3, "val_accuracy": acc})
        panel._on_epoch(epoch, {})
    assert panel.advice.isVisibleTo(panel) and "not improved" in panel.advice.text.text()
    old = panel.hyper["lr"].value()
    qtbot.mouseClick(panel.advice.fix, Qt.LeftButton)
    assert panel.schedule.currentText() == training_mod.STEP_SCHEDULE
    assert panel.hyper["lr"].value() == pytest.approx(0.5 * old)
    assert "next run" in panel.status_label.text()
    click(qtbot, panel, "stop")
    qtbot.waitUntil(lambda: not panel.running, timeout=5000)


def test_an_unwatched_run_has_its_loss_judged_every_few_batches(qtbot, panel, monkeypatch):
    """A fast run sends a few batches at a time; the loss is judged once per SHORT new ones, not at each."""
    judged = []
    monkeypatch.setattr(advice_bar, "loss_rising", lambda losses: judged.append(len(losses)))
    panel.advice.clear()
    for start in range(1, 61, 3):                      # 20 signals of 3 batches each
        panel.plots.add_batches(rising(start, 3))
        panel.advice.check_loss(at_once=False)
    assert judged == [12, 24, 36, 48, 60]
    panel.plots.add_batches(rising(61, 3))
    panel.advice.check_loss()                           # watched (paused, stepping, slow motion): at once
    assert judged[-1] == 63


def test_a_runs_end_judges_its_last_batches(qtbot, panel, monkeypatch):
    checks = []
    judge = panel.advice.check_loss
    monkeypatch.setattr(panel.advice, "check_loss", lambda at_once=True: checks.append(at_once) or judge(at_once))
    test_training_panel.run_to_end(qtbot, panel)
    assert False in checks, "the batches of a run trained unwatched are judged every few"
    assert checks[-1] is True, "the last ones, at the run's end"


def test_the_advice_is_dismissed_and_cleared_by_a_new_run(qtbot, panel):
    panel.plots.add_batches(rising(1))
    panel.advice.check_loss()
    assert panel.advice.isVisibleTo(panel)
    test_training_panel.run_to_end(qtbot, panel)
    assert not panel.advice.isVisibleTo(panel)


def test_every_control_and_chart_explains_itself_in_a_tooltip_and_the_status_bar(qtbot, panel, monkeypatch):
    assert silent_controls(panel) == []
    for view in panel.plots.views:
        assert view.toolTip() and view.statusTip() == plain(view.toolTip())
    slow_batches(monkeypatch)
    click(qtbot, panel, "start")                 # tooltips that change with the run keep their status tips
    qtbot.waitUntil(lambda: panel.plots.batch["loss"].n >= 1, timeout=5000)
    assert silent_controls(panel) == []
    assert panel.buttons["start"].statusTip() == plain(panel.buttons["start"].toolTip())
    click(qtbot, panel, "stop")
    qtbot.waitUntil(lambda: not panel.running, timeout=5000)


def test_a_status_tip_shows_in_the_window_status_bar_on_hover(qtbot, tmp_path):
    from test_main_window import make_window
    window = make_window(qtbot, str(tmp_path / "settings.ini"))
    window.show()
    window.show_panel("Training")
    spin = window.training_panel.batch_size
    qtbot.waitExposed(window)
    qtbot.mouseMove(spin)
    qtbot.waitUntil(lambda: window.statusBar().currentMessage() == spin.statusTip(), timeout=2000)
    qtbot.mouseMove(window.statusBar())   # the pointer stays where tests leave it: not over a control of later windows


def test_dead_units_stream_from_a_run_into_the_plot_beside_the_gradient_sizes(qtbot, panel, monkeypatch):
    from core import Sequential
    from core.layers import Dense, Flatten, ReLU, Softmax
    from gui import worker as worker_mod
    from gui.state import ModelSource
    from gui.views.histograms import WeightsView
    monkeypatch.setattr(worker_mod, "SNAPSHOT_INTERVAL", 0.0)
    model = Sequential([Flatten(), Dense(4), ReLU(), Dense(3), Softmax()], input_shape=(1, 8, 8), seed=0)
    model.layers[1].params["b"][:] = [-1e3, 0.5, 0.5, 0.5]    # a quarter of the ReLU's units never fire
    panel.state.set_model(model)
    view = WeightsView(ModelSource(panel.state), panel.state)
    qtbot.addWidget(view)
    assert view.dead_units.isHidden(), "nothing to show before training"
    test_training_panel.run_to_end(qtbot, panel)
    steps, shares = view.dead_units.points["ReLU #3"]
    assert len(steps) >= 2 and steps == sorted(steps) and set(shares) == {25.0}
    assert view.dead_units.curves == {}, "a plot nobody can see draws nothing"
    view.show()
    qtbot.waitExposed(view)
    xs, ys = view.dead_units.curves["ReLU #3"].getData()
    assert list(xs) == steps and list(ys) == shares and view.dead_units.isVisibleTo(view)
    test_training_panel.run_to_end(qtbot, panel)   # watched: drawn as the snapshots come
    steps, shares = view.dead_units.points["ReLU #3"]
    xs, ys = view.dead_units.curves["ReLU #3"].getData()
    assert len(xs) > 2 and list(xs) == steps and list(ys) == shares
    assert view.dead_units.toolTip() and view.dead_units.statusTip()
    panel.state.set_model(test_training_panel.tiny_model())   # another model: its own history, from nothing
    assert view.dead_units.points == {} and view.dead_units.isHidden()


def test_plus_one_epoch_after_a_cosine_run_trains_inside_the_grown_schedule(qtbot, panel):
    panel.schedule.setCurrentText("Cosine (to 0 at the last epoch)")
    test_training_panel.run_to_end(qtbot, panel)
    base = panel.state.model.optimizer.base_lr
    assert panel.plots.batch["lr"].ys[-1] < 0.01 * base, "the cosine ran down to its end"
    click(qtbot, panel, "more")
    qtbot.waitUntil(lambda: not panel.running, timeout=10_000)
    added = panel.plots.batch["lr"].ys[2 * STEPS:]
    assert len(added) == STEPS and added[0] > 0.1 * base, "the added epoch learns, down the grown cosine"
    assert panel.state.model.optimizer.schedule.epochs == 3


def test_a_run_taken_a_batch_at_a_time_shows_its_few_batches_not_the_whole_run(qtbot, panel):
    click(qtbot, panel, "step")
    qtbot.waitUntil(lambda: panel.pause_action.text() == "Resume", timeout=5000)
    panel.plots.refresh()
    low, high = panel.plots.batch_loss.getPlotItem().viewRange()[0]
    assert high - low < STEPS, "the step axis follows the batches stepped, not the run's planned end"
    click(qtbot, panel, "stop")
    qtbot.waitUntil(lambda: not panel.running, timeout=5000)


def test_continuing_a_finished_cosine_run_grows_the_schedule_instead_of_training_at_rate_zero(qtbot, panel):
    panel.schedule.setCurrentText("Cosine (to 0 at the last epoch)")
    test_training_panel.run_to_end(qtbot, panel)
    base = panel.state.model.optimizer.base_lr
    panel.continue_run(panel.current_run(), 2)
    qtbot.waitUntil(lambda: not panel.running, timeout=20_000)
    added = panel.plots.batch["lr"].ys[2 * STEPS:]
    assert len(added) == 2 * STEPS and added[0] > 0.1 * base, "the continued epochs learn"
    assert panel.state.model.optimizer.schedule.epochs == 4
