"""Tune while it trains: learning rate, momentum, weight decay and augmentation change during a run or a pause,
from the next batch on, through the worker; each change is an event and a marker on the batch plots."""
import numpy as np
import pytest
from PySide6.QtCore import Qt
import test_training_panel
from test_training_panel import slow_identity

from core import runs
from core.augment import Augment
from gui.live_tuning import EVENT, LiveKnobs
from gui.panels import training as training_mod
from gui.panels.training import describe_change

panel = test_training_panel.panel   # the fixture: a Training panel with a tiny model and dataset


def start_and_pause(qtbot, panel, monkeypatch, epochs=3):
    """Start a slow run and pause it; returns the step it holds at (the last batch trained)."""
    monkeypatch.setattr(training_mod, "make_augment", lambda switches: slow_identity if any(switches.values())
                        else None)
    panel.augment["shift"].setChecked(True)   # slow batches, so the pause lands early in the run
    panel.epochs.setValue(epochs)
    qtbot.mouseClick(panel.buttons["start"], Qt.LeftButton)
    qtbot.waitUntil(lambda: panel.plots.batch["loss"].n >= 2, timeout=5000)
    qtbot.mouseClick(panel.buttons["pause"], Qt.LeftButton)
    qtbot.waitUntil(lambda: panel.progress_label.text() == "Paused", timeout=5000)
    return panel.job.worker.step


def recorded_run():
    """The one run the test recorded (each test records into a folder of its own)."""
    (info,) = runs.list()
    return runs.load(info["id"])


def lr_by_step(panel):
    b = panel.plots.batch["lr"]
    return dict(zip(b.xs.astype(int), b.ys))


def test_a_learning_rate_changed_while_paused_acts_from_the_next_batch(qtbot, panel, monkeypatch):
    model = panel.state.model
    held = start_and_pause(qtbot, panel, monkeypatch)
    old = panel.hyper["lr"].value()
    assert panel.hyper["lr"].isEnabled() and panel.hyper["momentum"].isEnabled()
    assert panel.weight_decay.isEnabled() and all(box.isEnabled() for box in panel.augment.values())
    assert not panel.epochs.isEnabled() and not panel.optimizer.isEnabled() and not panel.batch_size.isEnabled()
    panel.hyper["lr"].setValue(old / 4)
    assert "when the run resumes" in panel.status_label.text()
    qtbot.wait(100)
    assert model.optimizer.lr == old          # handed over, not applied: the worker applies it between batches
    qtbot.mouseClick(panel.buttons["pause"], Qt.LeftButton)
    qtbot.waitUntil(lambda: not panel.running, timeout=20_000)

    rates = lr_by_step(panel)
    assert rates and all(r == pytest.approx(old) for s, r in rates.items() if s <= held)
    assert all(r == pytest.approx(old / 4) for s, r in rates.items() if s > held) and max(rates) > held
    assert panel.plots.markers == [(held + 1, f"lr {old / 4:g}")]
    lines = [item for item in panel.plots.lr_plot.getPlotItem().items if item in
             [line for view, line in panel.plots._marker_lines if view is panel.plots.lr_plot]]
    assert len(lines) == 1 and lines[0].value() == held + 1 and lines[0].label.toPlainText() == f"lr {old / 4:g}"
    assert model.optimizer.lr == model.optimizer.base_lr == pytest.approx(old / 4)
    run = recorded_run()
    assert [{k: v for k, v in e.items() if k != "time"} for e in run.info["events"]] == \
        [{"kind": EVENT, "step": held + 1, "lr": pytest.approx(old / 4)}]
    csv_rates = dict(zip(run.metrics["step"].astype(int), run.metrics["lr"]))   # metrics.csv, row per batch
    assert csv_rates == pytest.approx(rates)


def test_momentum_weight_decay_and_augmentation_change_mid_run(qtbot, panel, monkeypatch):
    model = panel.state.model
    held = start_and_pause(qtbot, panel, monkeypatch, epochs=2)
    panel.hyper["momentum"].setValue(0.5)
    panel.weight_decay.setValue(0.001)
    panel.augment["shift"].setChecked(False)
    worker = panel.job.worker
    qtbot.mouseClick(panel.buttons["pause"], Qt.LeftButton)
    qtbot.waitUntil(lambda: not panel.running, timeout=20_000)
    assert model.optimizer.momentum == 0.5 and model.optimizer.weight_decay == 0.001
    assert worker.knobs.augment.transform is None
    events = recorded_run().info["events"]
    assert [event["step"] for event in events] == [held + 1]   # three changes in one pause: one event
    assert {k: v for k, v in events[0].items() if k not in ("kind", "step", "time")} == \
        {"momentum": 0.5, "weight_decay": 0.001, "augment": {"shift": False, "rotate": False, "scale": False,
                                                             "elastic": False, "thickness": False,
                                                             "noise": False, "flip": False}}
    assert panel.plots.markers[0][1] == "momentum 0.5 · weight decay 0.001 · augment off"


def test_a_change_while_running_needs_no_pause(qtbot, panel, monkeypatch):
    monkeypatch.setattr(training_mod, "make_augment", lambda switches: slow_identity)
    panel.epochs.setValue(4)
    qtbot.mouseClick(panel.buttons["start"], Qt.LeftButton)
    qtbot.waitUntil(lambda: panel.plots.batch["loss"].n >= 2, timeout=5000)
    old = panel.hyper["lr"].value()
    panel.hyper["lr"].setValue(old * 2)
    assert "from the next batch" in panel.status_label.text()
    qtbot.waitUntil(lambda: not panel.running, timeout=20_000)
    (step, label), = panel.plots.markers
    rates = lr_by_step(panel)
    assert rates[step - 1] == pytest.approx(old) and rates[step] == pytest.approx(old * 2)
    assert label == f"lr {old * 2:g}"


def test_no_change_is_sent_while_nothing_runs(qtbot, panel):
    panel.hyper["lr"].setValue(0.2)
    panel.augment["rotate"].setChecked(True)
    assert panel.plots.markers == [] and panel.status_label.text() == ""


def test_changes_waiting_together_make_one_event_and_the_last_value_wins():
    from core.optimizers import SGD
    knobs, opt = LiveKnobs(), SGD(lr=0.1, momentum=0.9)
    assert knobs.apply(opt, 5) is None
    knobs.request({"lr": 0.05})
    rotate = Augment(rotate=10)
    knobs.request({"lr": 0.02, "augment": {"rotate": True}}, rotate)
    event = knobs.apply(opt, 6)
    assert event == {"kind": EVENT, "step": 6, "lr": 0.02, "augment": {"rotate": True}}
    assert opt.lr == 0.02 and knobs.augment.transform is rotate
    x = np.zeros((2, 1, 8, 8), np.float32)
    knobs.request({"augment": {"rotate": False}}, None)
    knobs.apply(opt, 7)
    assert knobs.augment(x, None) is x


def test_describe_change_names_each_knob():
    assert describe_change({"lr": 0.005}) == "lr 0.005"
    assert describe_change({"momentum": 0.0, "nesterov": False}) == "momentum 0"
    assert describe_change({"augment": {"shift": True, "rotate": True, "scale": False}}) == "augment shift, rotate"


def test_the_marker_goes_with_the_run_it_belongs_to(qtbot, panel):
    panel.plots.add_marker(12, "lr 0.01")
    assert panel.plots.markers and panel.plots._marker_lines
    panel.plots.clear()
    assert panel.plots.markers == [] and panel.plots._marker_lines == []
    assert not [item for item in panel.plots.batch_loss.getPlotItem().items if hasattr(item, "label")]



def test_a_value_the_optimizer_refuses_is_said_and_never_reaches_the_run(qtbot, panel, monkeypatch):
    model = panel.state.model
    start_and_pause(qtbot, panel, monkeypatch)
    panel.hyper["momentum"].setMaximum(2.0)   # a form that let a bad value through: the optimizer still says no
    panel.hyper["momentum"].setValue(1.5)
    assert panel.status_label.text().startswith("Not changed: SGD: momentum must be in [0, 1)")
    panel.stop()
    qtbot.waitUntil(lambda: not panel.running, timeout=20_000)
    assert model.optimizer.momentum == 0.9 and panel.plots.markers == []
