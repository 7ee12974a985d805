"""The Runs panel on a temporary runs folder: the table, sort and filter, rename/tag/delete, overlaid curves,
two runs compared, and runs recorded and continued by the app."""
import numpy as np
import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QInputDialog, QMessageBox

from core import runs
from core.datasets import Dataset
from core.optimizers import SGD
from core.text import percent
from gui import main_window as main_window_mod
from gui.main_window import MainWindow
from gui.panels.runs import RunsPanel
from gui.plots import TRAIN, TrainingPlots
from gui.overlays import MAX_POINTS, RunCurves
from gui.smoothing import Ema
from gui.state import AppState
from gui.views.runs_table import COLUMNS, RUN_ID_ROLE

from test_training_panel import tiny_dataset, tiny_model

HEADERS = [header for header, _ in COLUMNS]


def record_run(name, lr=0.1, epochs=2, data=None, validation=True):
    """A real run of a tiny model recorded in the test's runs folder; returns its run.json."""
    ds = data or tiny_dataset()
    model = tiny_model()
    model.compile(SGD(lr=lr, momentum=0.9), "crossentropy")
    recorder = runs.Recorder(name=name, source="api")
    recorder.settings.update(dataset=ds.name)
    xv = (ds.x_test, ds.y_test) if validation else None
    model.fit(ds.x_train, ds.y_train, epochs=epochs, batch_size=30, seed=0, validation_data=xv,
              callbacks=[recorder])
    recorder.add_summary(test_accuracy=model.evaluate(ds.x_test, ds.y_test)["accuracy"])
    return runs.load(recorder.run_id).info


@pytest.fixture
def state():
    state = AppState()
    state.set_dataset(tiny_dataset())
    return state


@pytest.fixture
def panel(qtbot, state):
    panel = RunsPanel(state)
    qtbot.addWidget(panel)
    panel.resize(1200, 800)
    yield panel
    for job in (panel.list_job, panel.curves_job, panel.compare_job):
        job.stop_and_wait(5000)


def refreshed(qtbot, panel):
    panel.refresh()
    qtbot.waitUntil(lambda: not panel.list_job.running, timeout=5000)
    return panel


def cell(panel, row, header):
    return panel.proxy.index(row, HEADERS.index(header)).data()


def column(panel, header):
    return [cell(panel, row, header) for row in range(panel.proxy.rowCount())]


def select(panel, *names):
    panel.select_runs([panel.proxy.index(row, 0).data(RUN_ID_ROLE) for row in range(panel.proxy.rowCount())
                       if cell(panel, row, "Name") in names])
    assert len(panel.selected_ids()) == len(names)


def test_the_table_fills_from_the_runs_folder(qtbot, panel):
    slow = record_run("slow", lr=0.01, epochs=1)
    fast = record_run("fast", lr=0.5, epochs=2)
    refreshed(qtbot, panel)
    assert panel.proxy.rowCount() == 2
    assert set(column(panel, "Name")) == {"slow", "fast"}
    row = column(panel, "Name").index("fast")
    assert cell(panel, row, "Status") == "finished"
    assert cell(panel, row, "Model") == "custom · 195 params"
    assert cell(panel, row, "Dataset") == "tiny · 300"
    assert cell(panel, row, "Optimizer") == "SGD · lr 0.5"
    assert cell(panel, row, "Epochs") == "2"
    best = fast["summary"]["best"]["val_accuracy"]
    assert cell(panel, row, "Best val. acc.") == percent(best, 2)
    assert cell(panel, row, "Test acc.") == percent(fast["summary"]["test_accuracy"], 2)
    assert cell(panel, row, "Duration") == "0:00" and cell(panel, row, "Date").startswith(fast["created"][:10])
    assert cell(panel, 1 - row, "Epochs") == "1" and slow["settings"]["epochs_planned"] == 1
    assert "2 runs" in panel.count_label.text()


def test_sort_by_any_column_and_filter_on_any_text(qtbot, panel):
    for name, lr, epochs in (("b-run", 0.3, 3), ("a-run", 0.01, 1), ("c-run", 0.1, 2)):
        record_run(name, lr=lr, epochs=epochs)
    refreshed(qtbot, panel)
    runs.tag(runs.list()[0]["id"], ["baseline"])
    refreshed(qtbot, panel)
    panel.table.sortByColumn(HEADERS.index("Name"), Qt.AscendingOrder)
    assert column(panel, "Name") == ["a-run", "b-run", "c-run"]
    panel.table.sortByColumn(HEADERS.index("Epochs"), Qt.DescendingOrder)
    assert column(panel, "Name") == ["b-run", "c-run", "a-run"]
    panel.table.sortByColumn(HEADERS.index("Optimizer"), Qt.AscendingOrder)   # by text: lr 0.01 < 0.1 < 0.3
    assert column(panel, "Name") == ["a-run", "c-run", "b-run"]
    panel.filter.setText("LR 0.3")              # any column, any case
    assert column(panel, "Name") == ["b-run"]
    panel.filter.setText("baseline")            # tags too
    assert column(panel, "Name") == [runs.list()[0]["name"]]
    panel.filter.setText("")
    assert panel.proxy.rowCount() == 3


def test_a_missing_value_sorts_below_every_real_one(qtbot, panel):
    record_run("no-validation", validation=False)
    record_run("validated")
    refreshed(qtbot, panel)
    panel.table.sortByColumn(HEADERS.index("Best val. acc."), Qt.AscendingOrder)
    assert column(panel, "Name")[0] == "no-validation" and column(panel, "Best val. acc.")[0] == "–"
    panel.table.sortByColumn(HEADERS.index("Best val. acc."), Qt.DescendingOrder)
    assert column(panel, "Name")[-1] == "no-validation"


def test_rename_tag_and_delete_with_the_dialogs_answered(qtbot, panel, monkeypatch):
    keep, doomed = record_run("keep"), record_run("doomed")
    refreshed(qtbot, panel)
    select(panel, "keep")
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("renamed", True))
    panel.rename_selected()
    qtbot.waitUntil(lambda: "renamed" in column(panel, "Name"), timeout=5000)
    assert runs.load(keep["id"]).info["name"] == "renamed"
    select(panel, "renamed")
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("best, lr-sweep ,", True))
    panel.tag_selected()
    qtbot.waitUntil(lambda: "best, lr-sweep" in column(panel, "Tags"), timeout=5000)
    assert runs.load(keep["id"]).info["tags"] == ["best", "lr-sweep"]

    asked = []
    select(panel, "doomed")
    monkeypatch.setattr(QMessageBox, "exec", lambda box: asked.append(box.text()) or QMessageBox.No)
    panel.delete_selected()
    assert "doomed" in asked[0] and doomed["id"] in asked[0]          # the dialog names the run
    assert {info["id"] for info in runs.list()} == {keep["id"], doomed["id"]}   # No keeps it
    monkeypatch.setattr(QMessageBox, "exec", lambda box: QMessageBox.Yes)
    panel.delete_selected()
    qtbot.waitUntil(lambda: column(panel, "Name") == ["renamed"], timeout=5000)
    assert [info["id"] for info in runs.list()] == [keep["id"]]


def test_a_running_run_is_not_deleted(qtbot, panel, monkeypatch):
    info = record_run("live")
    runs_file = runs.find(info["id"]) / "run.json"     # recorded by this process, so it is alive
    runs_file.write_text(runs_file.read_text().replace('"status": "finished"', '"status": "running"'))
    refreshed(qtbot, panel)
    select(panel, "live")
    monkeypatch.setattr(QMessageBox, "exec", lambda box: QMessageBox.Yes)
    panel.delete_selected()
    assert [i["id"] for i in runs.list()] == [info["id"]]


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    """The main window on the tiny dataset, with an untrained tiny model and throw-away settings."""
    monkeypatch.setattr(main_window_mod, "STARTUP_MODEL", tmp_path / "absent")
    window = MainWindow(settings=QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat),
                        autoload_data=False)
    qtbot.addWidget(window)
    window.resize(1400, 900)
    window.state.set_dataset(tiny_dataset())
    window.state.set_model(tiny_model())
    tp = window.training_panel
    tp.epochs.setValue(1)
    tp.batch_size.setValue(30)
    tp.set_validation_fraction(0.2)
    yield window
    window.stop_background(5000)


def tick(panel, *names):
    for row in range(panel.proxy.rowCount()):
        if cell(panel, row, "Name") in names:
            panel.proxy.setData(panel.proxy.index(row, 0), Qt.Checked.value, Qt.CheckStateRole)


def test_ticked_runs_are_overlaid_in_the_training_plots_beside_the_live_run(qtbot, window):
    first, second = record_run("first", lr=0.05), record_run("second", lr=0.5)
    panel, plots = window.panels["Runs"], window.training_panel.plots
    live = len(plots.batch_loss.getPlotItem().listDataItems())
    refreshed(qtbot, panel)
    tick(panel, "first")
    tick(panel, "second")
    qtbot.waitUntil(lambda: len(plots.overlays.runs) == 2, timeout=5000)
    assert [run.label for run in plots.overlays.runs] == ["first", "second"]      # in the order ticked
    items = plots.batch_loss.getPlotItem().listDataItems()
    assert len(items) == live + 2
    legend = [label.text for _sample, label in plots.batch_loss.getPlotItem().legend.items]
    assert legend[-2:] == ["first", "second"]
    colours = {item.opts["pen"].color().name() for item in items[live:]}
    assert len(colours) == 2 and TRAIN not in colours
    metrics = runs.load(first["id"]).metrics
    assert np.array_equal(items[live].xData, metrics["step"])
    assert np.allclose(items[live].yData, Ema().many(metrics["loss"]))           # smoothed as the live curve
    epoch_items = plots.epoch_acc.getPlotItem().listDataItems()
    epochs = runs.load(second["id"]).epochs
    assert any(np.array_equal(i.xData, epochs["epoch"] + 1) and np.allclose(i.yData, epochs["val_accuracy"])
               for i in epoch_items)                                             # validation, per epoch
    epoch_legend = [label.text for _s, label in plots.epoch_loss.getPlotItem().legend.items]
    assert {"first", "second", "dashed: validation"} <= set(epoch_legend)

    tp = window.training_panel                                                   # the live run draws beside them
    tp.start()
    qtbot.waitUntil(lambda: not tp.running, timeout=20_000)
    plots.refresh()
    assert plots.batch["loss"].n > 0 and len(plots.batch_loss.getPlotItem().listDataItems()) == live + 2
    assert len(plots.overlays.runs) == 2

    tick_off = panel.proxy.index(column(panel, "Name").index("first"), 0)
    panel.proxy.setData(tick_off, Qt.Unchecked.value, Qt.CheckStateRole)
    qtbot.waitUntil(lambda: len(plots.overlays.runs) == 1, timeout=5000)
    assert len(plots.batch_loss.getPlotItem().listDataItems()) == live + 1
    assert "first" not in [label.text for _s, label in plots.batch_loss.getPlotItem().legend.items]


def test_two_selected_runs_are_compared_setting_by_setting_with_their_confusion_matrices(qtbot, window):
    record_run("slow", lr=0.01), record_run("fast", lr=0.5)
    panel = window.panels["Runs"]
    refreshed(qtbot, panel)
    select(panel, "slow", "fast")
    compare = panel.compare
    assert "optimizer.lr" in compare.differing()
    assert "batch_size" not in compare.differing() and "seed" not in compare.differing()
    row = [compare.settings.item(r, 0).text() for r in range(compare.settings.rowCount())].index("optimizer.lr")
    shown = {compare.settings.horizontalHeaderItem(c).text(): compare.settings.item(row, c).text() for c in (1, 2)}
    assert shown == {"slow": "0.01", "fast": "0.5"}
    qtbot.waitUntil(lambda: not any(m.isHidden() for m in compare.matrices), timeout=10_000)
    captions = [caption.text() for caption in compare.captions]
    assert [c.split(":")[0] for c in captions] == list(shown)        # in the order of the settings' columns
    for matrix, caption in zip(compare.matrices, captions):          # each on the tiny test set
        assert matrix.cm.sum() == 60 and matrix.names == ["a", "b", "c"] and "test accuracy" in caption
    refreshed(qtbot, panel)                                          # the list read again: same pair, same result
    assert panel.selected_ids() and not panel.compare_job.running and not any(m.isHidden() for m in compare.matrices)
    select(panel, "slow")
    assert compare.settings.rowCount() == 0 and all(m.isHidden() for m in compare.matrices)


def test_a_run_on_a_dataset_not_on_this_computer_says_so_in_place_of_its_matrix(qtbot, window, isolated):
    record_run("here")
    record_run("elsewhere", data=rename_dataset(tiny_dataset(), "kmnist"))
    panel = window.panels["Runs"]
    refreshed(qtbot, panel)
    select(panel, "here", "elsewhere")
    qtbot.waitUntil(lambda: not panel.compare_job.running, timeout=10_000)
    captions = {c.text().split(":")[0]: c.text() for c in panel.compare.captions}
    assert "kmnist" in captions["elsewhere"] and "no confusion matrix" in captions["elsewhere"]
    assert "test accuracy" in captions["here"]


def rename_dataset(ds, name):
    return Dataset(name, ds.x_train, ds.y_train, ds.x_test, ds.y_test, ds.class_names, ds.source)


def test_the_app_records_every_run_with_its_settings_and_test_accuracy(qtbot, window):
    tp, panel = window.training_panel, window.panels["Runs"]
    tp.start()
    qtbot.waitUntil(lambda: not tp.running, timeout=20_000)
    [info] = runs.list()
    assert info["source"] == "app" and info["status"] == "finished" and info["parent"] is None
    s = info["settings"]
    assert s["dataset"] == "tiny" and s["validation_fraction"] == pytest.approx(0.2) and s["preset"] is None
    assert s["batch_size"] == 30 and s["train_samples"] == 240 and s["validation_samples"] == 60
    assert info["summary"]["test_accuracy"] == tp.state.model.meta["metrics"]["test_accuracy"]
    run = runs.load(info["id"])
    assert len(run.metrics["step"]) == 8 and list(run.epochs["epoch"]) == [0]
    assert tp.current_run() == info["id"]
    qtbot.waitUntil(lambda: column(panel, "Status") == ["finished"], timeout=5000)   # the panel read it again

    tp.preset.setCurrentText("mlp")   # a preset's run says which preset
    assert tp.build_preset()
    tp.start()
    qtbot.waitUntil(lambda: not tp.running, timeout=60_000)
    [second] = [other for other in runs.list() if other["id"] != info["id"]]
    assert second["settings"]["preset"] == "mlp" and second["parent"] is None   # a new model: no parent
    tp.start()                        # Start again on that model: the new run goes on from the last one
    qtbot.waitUntil(lambda: not tp.running, timeout=60_000)
    assert runs.load(tp.current_run()).info["parent"] == second["id"]


def test_a_failed_run_is_recorded_as_interrupted(qtbot, window, monkeypatch):
    tp, layer = window.training_panel, window.state.model.layers[1]
    forward, calls = layer.forward, []

    def broken(x, training=False):   # fails in the run's third batch
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("the disk caught fire")
        return forward(x, training)

    monkeypatch.setattr(layer, "forward", broken)
    tp.start()
    qtbot.waitUntil(lambda: not tp.running, timeout=20_000)
    [info] = runs.list()
    assert info["status"] == "interrupted" and "the disk caught fire" in info["summary"]["stop_reason"]


def train_in_app(qtbot, window, epochs):
    tp = window.training_panel
    tp.epochs.setValue(epochs)
    tp.start()
    qtbot.waitUntil(lambda: not tp.running, timeout=30_000)
    return tp.current_run()


@pytest.mark.parametrize("optimizer", [{"optimizer": "SGD", "hyper": {"lr": 0.1, "momentum": 0.9}},
                                       {"optimizer": "Adam", "hyper": {"lr": 0.01}},
                                       {"optimizer": "Adam", "hyper": {"lr": 0.01}, "augment": {"shift": True},
                                        "schedule": "Step (×0.5 each epoch)"}])
def test_continue_training_a_selected_run_records_a_child_that_matches_an_unbroken_run(qtbot, window, optimizer,
                                                                                       monkeypatch):
    tp, panel = window.training_panel, window.panels["Runs"]
    tp.set_config({**tp.config(), **optimizer, "batch_size": 30})
    unbroken = train_in_app(qtbot, window, 2)
    window.state.set_model(tiny_model())
    parent = train_in_app(qtbot, window, 1)
    window.state.set_model(tiny_model())     # something else is open now: Continue opens the run's model
    refreshed(qtbot, panel)
    panel.select_runs([parent])
    panel.more_epochs.setValue(1)
    panel.continue_selected()
    assert tp.running
    qtbot.waitUntil(lambda: not tp.running, timeout=30_000)
    child = runs.load(tp.current_run())
    assert child.info["parent"] == parent and child.info["source"] == "app" and child.info["status"] == "finished"
    assert child.info["epochs_done"] == 2 and child.info["settings"]["initial_epoch"] == 1
    assert list(child.epochs["epoch"]) == [1]
    want = runs.load(unbroken).load_model().get_weights()
    got = tp.state.model.get_weights()
    for key in want:
        np.testing.assert_allclose(got[key], want[key], atol=1e-6, err_msg=key)
    assert np.allclose(child.metrics["loss"], runs.load(unbroken).metrics["loss"][8:], atol=1e-5)


def test_continue_the_current_run_from_the_training_panel(qtbot, window):
    tp = window.training_panel
    assert not tp.continue_action.isEnabled()          # an untrained model is no run's result
    first = train_in_app(qtbot, window, 1)
    assert tp.continue_action.isEnabled()
    tp.epochs.setValue(2)
    tp.batch_size.setValue(60)                         # the form changed: the run's own settings still apply
    tp.continue_action.trigger()
    qtbot.waitUntil(lambda: not tp.running, timeout=30_000)
    child = runs.load(tp.current_run()).info
    assert child["parent"] == first and child["epochs_done"] == 3 and child["settings"]["batch_size"] == 30


def test_continue_says_what_a_run_stopped_in_mid_epoch_leaves_untrained(qtbot, panel):
    record_run("whole")
    cut = runs.load(record_run("cut")["id"])
    runs_json = cut.folder / "run.json"
    runs_json.write_text(runs_json.read_text().replace('"summary"', '"cut_short": {"epoch": 2, "fraction": 0.25}, '
                                                                     '"summary"', 1))
    refreshed(qtbot, panel)
    select(panel, "cut")
    tip = panel.buttons["continue"].toolTip()
    assert "Epoch 2 was stopped after 25% of its batches: continuing starts epoch 3" in tip and "exactly" not in tip
    select(panel, "whole")
    assert "exactly as if it had not stopped" in panel.buttons["continue"].toolTip()


def test_continue_refuses_other_data_and_says_which(qtbot, window):
    tp = window.training_panel
    first = train_in_app(qtbot, window, 1)
    window.state.set_dataset(tiny_dataset(n=200))
    tp.continue_run(first, 1)
    assert not tp.running
    [box] = [b for b in window.findChildren(QMessageBox) if b.isVisible()]
    assert "tiny with 300 training images" in box.text() and "200" in box.text()


def test_a_run_model_opens_as_file_open_does_and_save_never_overwrites_the_run(qtbot, window, monkeypatch):
    run_id = train_in_app(qtbot, window, 1)
    panel = window.panels["Runs"]
    refreshed(qtbot, panel)
    opened = []
    monkeypatch.setattr(window, "open_model", lambda path: opened.append(path) or MainWindow.open_model(window, path))
    panel.select_runs([run_id])
    panel.open_selected()
    assert opened == [str(runs.find(run_id) / "model")] and window.state.model_path == opened[0]
    assert window.training_panel.current_run() == run_id
    asked = []
    monkeypatch.setattr(window, "save_model_as", lambda: asked.append(True) or False)
    window.save_model()
    assert asked                                       # Save asks for a new place: the run keeps its record


def test_runs_recorded_elsewhere_show_when_the_panel_is_shown(qtbot, panel):
    qtbot.waitUntil(lambda: not panel.list_job.running, timeout=5000)
    assert panel.proxy.rowCount() == 0
    record_run("from-the-cli")
    panel.show()
    qtbot.waitUntil(lambda: column(panel, "Name") == ["from-the-cli"], timeout=5000)


def test_a_runs_folder_that_cannot_be_written_is_a_message_naming_it(qtbot, window, monkeypatch, tmp_path):
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the runs folder should be")
    monkeypatch.setenv("NUMPYNET_RUNS", str(blocked))
    tp = window.training_panel
    tp.start()
    qtbot.waitUntil(lambda: not tp.running, timeout=20_000)
    [box] = [b for b in window.findChildren(QMessageBox) if b.isVisible()]
    assert str(blocked) in box.text() and "NUMPYNET_RUNS" in box.text()
    assert not window.state.model.train_history      # nothing trained, nothing lost


def test_an_unreadable_run_is_listed_with_its_reason_and_breaks_nothing(qtbot, panel):
    good, broken = record_run("good"), record_run("broken")
    (runs.find(broken["id"]) / "run.json").write_text("{not json")
    plots = TrainingPlots()
    panel.curvesChanged.connect(plots.overlays.show)
    refreshed(qtbot, panel)
    row = column(panel, "Name").index(broken["id"])                 # no name to show: its id
    assert cell(panel, row, "Status") == "unreadable" and cell(panel, row, "Model") == "–"
    assert "run.json" in panel.proxy.index(row, 0).data(Qt.ToolTipRole)
    tick(panel, "good")
    tick(panel, broken["id"])
    qtbot.waitUntil(lambda: not panel.curves_job.running and panel.table_model.ticked == [good["id"]], timeout=5000)
    assert [run.label for run in plots.overlays.runs] == ["good"]
    select(panel, "good", broken["id"])
    qtbot.waitUntil(lambda: not panel.compare_job.running, timeout=10_000)
    captions = [c.text() for c in panel.compare.captions]
    assert any("good: test accuracy" in c for c in captions)
    assert any(c.startswith(f"{broken['id']}: no confusion matrix") for c in captions)


def test_a_long_runs_batch_curves_are_thinned_after_smoothing(tmp_path):
    n = 100_000
    rng = np.random.default_rng(0)
    metrics = {"step": np.arange(1, n + 1), "loss": rng.random(n), "accuracy": rng.random(n)}
    epochs = {k: np.arange(3.0) for k in ("epoch", "loss", "accuracy", "val_loss", "val_accuracy")}
    run = runs.Run({"id": "long"}, tmp_path)
    vars(run).update(metrics=metrics, epochs=epochs)   # as if its CSV files had been read (cached_property)
    curves = RunCurves.from_run(run, "long")
    assert len(curves.steps) <= MAX_POINTS + 1 and curves.steps[0] == 1 and curves.steps[-1] == n
    smoothed = np.array(Ema().many(metrics["loss"]))
    assert np.allclose(curves.loss, smoothed[curves.steps - 1])      # smoothed over every batch, then thinned
    assert list(curves.epochs["epoch"]) == [1, 2, 3]
