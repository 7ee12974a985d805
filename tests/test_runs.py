"""Recorded runs: what a Recorder writes while ``fit`` runs, and what ``runs`` reads back."""
import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from core import RunError, Sequential, run_files, runs
from core.augment import Augment
from core.callbacks import Callback
from core.layers import Dense, Flatten, ReLU, Softmax
from core.optimizers import SGD


def _model(seed=0, lr=0.1):
    model = Sequential([Flatten(), Dense(16), ReLU(), Dense(3), Softmax()], input_shape=(1, 8, 8), seed=seed)
    model.compile(SGD(lr=lr, momentum=0.9), "crossentropy")
    return model


def _record(tiny_data, epochs=2, recorder=None, **fit):
    x, y = tiny_data
    model = _model()
    model.meta["dataset"] = "tiny"
    recorder = recorder or runs.Recorder(name="first")
    model.fit(x, y, epochs=epochs, batch_size=16, callbacks=[recorder], seed=3, **fit)
    return model, recorder


def test_root_is_the_argument_then_numpynet_runs_then_xdg_then_home(monkeypatch, tmp_path):
    monkeypatch.setenv("NUMPYNET_RUNS", str(tmp_path / "env"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert runs.root(tmp_path / "given") == tmp_path / "given"
    assert runs.root() == tmp_path / "env"
    monkeypatch.delenv("NUMPYNET_RUNS")
    assert runs.root() == tmp_path / "xdg" / "numpynet" / "runs"
    monkeypatch.delenv("XDG_DATA_HOME")
    assert runs.root() == tmp_path / "home" / ".local" / "share" / "numpynet" / "runs"


def test_a_recorded_fit_keeps_settings_metrics_epochs_and_models(tiny_data, runs_folder):
    x, y = tiny_data
    recorder = runs.Recorder(name="first")
    recorder.settings.update(preset="tiny-mlp", test_samples=10)
    model, _ = _record(tiny_data, epochs=3, recorder=recorder, validation_data=(x[:32], y[:32]),
                       lr_schedule="cosine", augment=Augment(shift=1))
    assert recorder.folder == runs_folder / recorder.run_id
    run = runs.load(recorder.run_id)
    info, settings = run.info, run.info["settings"]
    assert (info["id"], info["name"], info["status"], info["source"], info["parent"]) == \
        (recorder.run_id, "first", "finished", "api", None)
    assert info["pid"] == os.getpid() and info["ended"] and info["epochs_done"] == 3
    assert settings["dataset"] == "tiny" and settings["train_samples"] == 96 and settings["validation_samples"] == 32
    assert (settings["batch_size"], settings["seed"], settings["epochs_planned"]) == (16, 3, 3)
    assert settings["optimizer"] == {"type": "SGD", "lr": 0.1, "weight_decay": 0.0, "momentum": 0.9,
                                     "nesterov": False}
    assert settings["loss"] == "CrossEntropy" and settings["architecture"] == model.get_config()
    assert settings["schedule"]["type"] == "CosineDecay" and settings["augmentation"]["shift"] == 1
    assert settings["preset"] == "tiny-mlp" and settings["test_samples"] == 10
    assert run.metrics["step"].tolist() == list(range(1, 19)) and run.metrics["epoch"].tolist() == [0] * 6 + \
        [1] * 6 + [2] * 6
    assert run.metrics["batch"].tolist() == list(range(6)) * 3 and np.isfinite(run.metrics["loss"]).all()
    assert run.metrics["lr"][0] == 0.1 and run.metrics["lr"][-1] < 0.01   # the cosine, batch by batch
    assert np.all(np.diff(run.metrics["seconds"]) >= 0)
    assert run.epochs["epoch"].tolist() == [0, 1, 2]
    assert run.epochs["val_accuracy"].tolist() == model.train_history["val_accuracy"]
    assert info["summary"]["final"]["val_accuracy"] == model.train_history["val_accuracy"][-1]
    best = int(np.argmax(run.epochs["val_accuracy"]))
    assert info["summary"]["best"]["epoch"] == best
    assert run.best_path == recorder.folder / "best" and run.model_path == recorder.folder / "model"
    again = run.load_model()
    for key, value in model.get_weights().items():
        np.testing.assert_array_equal(again.get_weights()[key], value)


def test_without_validation_there_is_no_best_model_and_missing_values_read_as_nan(tiny_data):
    _, recorder = _record(tiny_data, epochs=1)
    run = runs.load(recorder.run_id)
    assert run.best_path is None and np.isnan(run.epochs["val_loss"]).all()
    assert "best" not in run.info["summary"]


class _StopAt(Callback):
    def __init__(self, batch):
        self.batch = batch

    def on_batch_end(self, batch, logs=None):
        if batch == self.batch:
            self.model.stop_training = True


def test_a_run_that_ends_on_an_epoch_boundary_is_not_cut_short(tiny_data):
    _trained, finished = _record(tiny_data, epochs=2)
    stopped = runs.Recorder()
    _model().fit(*tiny_data, epochs=3, batch_size=16, callbacks=[_StopAt(5), stopped])   # after epoch 1's last batch
    for recorder in (finished, stopped):
        assert "cut_short" not in runs.load(recorder.run_id).info


def test_a_stopped_run_and_a_diverged_run_say_so(tiny_data):
    x, y = tiny_data
    recorder, model = runs.Recorder(), _model()
    model.fit(x, y, epochs=3, batch_size=16, callbacks=[_StopAt(2), recorder])
    run = runs.load(recorder.run_id)
    assert run.info["status"] == "stopped" and "stop_training" in run.info["summary"]["stop_reason"]
    assert len(run.metrics["step"]) == 3
    _same_weights(run.load_model(), model)   # the model as it stopped, mid-epoch
    assert run.info["cut_short"] == {"epoch": 1, "fraction": 0.5}   # 3 of its 6 batches
    assert model.meta["partial_epochs"] == {"1": 0.5} == run.load_model().meta["partial_epochs"]
    assert "Epoch 1 was stopped after 50% of its batches: continuing starts epoch 2" in runs.cut_short_note(1, 0.5)

    diverging, model = runs.Recorder(), _model(lr=1e6)
    model.fit(x * 50, y, epochs=3, batch_size=16, callbacks=[diverging])
    run = runs.load(diverging.run_id)
    assert run.info["status"] == "diverged" and "diverged" in run.info["summary"]["stop_reason"]
    _same_weights(run.load_model(), model)   # the weights the guard restored


def _same_weights(a, b):
    for key, value in b.get_weights().items():
        np.testing.assert_array_equal(a.get_weights()[key], value, err_msg=key)


def test_an_event_is_in_run_json_at_once(tiny_data):
    _, recorder = _record(tiny_data, epochs=1)
    recorder.event("lr", 7, old=0.1, new=0.05)
    [event] = runs.load(recorder.run_id).info["events"]
    assert event["kind"] == "lr" and event["step"] == 7 and (event["old"], event["new"]) == (0.1, 0.05)
    assert event["time"] >= 0
    recorder.add_summary(test_accuracy=0.5)
    assert runs.load(recorder.run_id).info["summary"]["test_accuracy"] == 0.5


def test_list_is_newest_first_and_skips_folders_without_a_run(tiny_data, runs_folder):
    _, first = _record(tiny_data, epochs=1)
    time.sleep(1.1)   # ids and creation times have one-second resolution
    _, second = _record(tiny_data, epochs=1)
    (runs_folder / "notes").mkdir()
    assert [info["id"] for info in runs.list()] == [second.run_id, first.run_id]
    assert runs.list(runs_folder / "nowhere") == []


def _write_run(folder, run_id, **fields):
    (folder / run_id).mkdir(parents=True)
    info = {"id": run_id, "status": "running", "created": "2026-01-01T00:00:00", **fields}
    (folder / run_id / "run.json").write_text(json.dumps(info))


def test_a_running_run_whose_process_is_gone_is_interrupted(runs_folder):
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    host = run_files.HOST
    _write_run(runs_folder, "dead", pid=gone.pid, host=host)
    _write_run(runs_folder, "alive", pid=os.getpid(), host=host)
    _write_run(runs_folder, "reused", pid=os.getpid(), host=host, process_start="1")   # a pid given anew
    _write_run(runs_folder, "elsewhere", pid=gone.pid, host="another-host")
    status = {info["id"]: info["status"] for info in runs.list()}
    assert status == {"dead": "interrupted", "alive": "running", "reused": "interrupted", "elsewhere": "running"}


def test_a_damaged_run_json_is_listed_as_unreadable(runs_folder):
    (runs_folder / "broken").mkdir()
    (runs_folder / "broken" / "run.json").write_text("{not json")
    [info] = runs.list()
    assert info["status"] == "unreadable" and "broken" in info["error"]


def test_load_leaves_out_a_last_line_cut_short(tiny_data):
    _, recorder = _record(tiny_data, epochs=1)
    with open(recorder.folder / "metrics.csv", "a") as f:
        f.write("7,1,0,0.5")
    with open(recorder.folder / "epochs.csv", "a") as f:
        f.write("1,0.3,0.9,,,0.1,")
    run = runs.load(recorder.run_id)
    assert len(run.metrics["step"]) == 6 and len(run.epochs["epoch"]) == 1


def test_rename_tag_and_delete(tiny_data, runs_folder):
    _, recorder = _record(tiny_data, epochs=1)
    runs.rename(recorder.run_id, "renamed")
    runs.tag(recorder.run_id[:-2], ["baseline", "sgd"])   # a unique start of the id names it
    info = runs.load(recorder.run_id).info
    assert info["name"] == "renamed" and info["tags"] == ["baseline", "sgd"]
    runs.delete(recorder.run_id)
    assert not recorder.folder.exists() and runs.list() == []


def test_a_rename_during_the_run_survives_its_next_write(tiny_data):
    x, y = tiny_data

    class RenameAfterFirstEpoch(Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 0:
                runs.rename(recorder.run_id, "mid-run")

    recorder = runs.Recorder(name="before")
    _model().fit(x, y, epochs=2, batch_size=16, callbacks=[recorder, RenameAfterFirstEpoch()])
    assert runs.load(recorder.run_id).info["name"] == "mid-run"


@pytest.mark.parametrize("call", [runs.load, runs.delete, lambda i: runs.rename(i, "x"), lambda i: runs.tag(i, [])])
def test_an_unknown_run_is_a_run_error_naming_the_id_and_the_folder(call, runs_folder):
    with pytest.raises(RunError, match=f"no run 'nosuchrun' in {runs_folder}"):
        call("nosuchrun")


@pytest.mark.parametrize("bad", ["../etc", "", "*", ".hidden", "a/b"])
def test_a_run_id_that_is_no_folder_name_is_refused(bad):
    with pytest.raises(RunError, match="not a run id"):
        runs.load(bad)


def test_delete_removes_only_a_folder_whose_run_json_has_that_id(runs_folder):
    _write_run(runs_folder, "copy", pid=0)
    info = json.loads((runs_folder / "copy" / "run.json").read_text())
    (runs_folder / "copy" / "run.json").write_text(json.dumps({**info, "id": "original"}))
    with pytest.raises(RunError, match="no run 'copy'"):
        runs.delete("copy")
    assert (runs_folder / "copy" / "run.json").exists()


def test_an_ambiguous_start_of_an_id_is_refused_naming_the_runs(runs_folder):
    _write_run(runs_folder, "run-a", pid=0)
    _write_run(runs_folder, "run-b", pid=0)
    with pytest.raises(RunError, match="names 2 runs.*run-a, run-b"):
        runs.load("run")


KILLED = textwrap.dedent("""
    import sys, time
    import numpy as np
    from core import Sequential, runs
    from core.callbacks import Callback
    from core.layers import Dense, Flatten, Softmax

    class Slow(Callback):
        def on_batch_end(self, batch, logs=None):
            time.sleep(0.01)

    rng = np.random.default_rng(0)
    x, y = rng.random((4000, 1, 8, 8)).astype(np.float32), rng.integers(0, 3, 4000)
    model = Sequential([Flatten(), Dense(3), Softmax()], input_shape=(1, 8, 8), seed=0)
    model.compile("sgd", "crossentropy")
    recorder = runs.Recorder(name="doomed")
    print(recorder.run_id, flush=True)
    model.fit(x, y, epochs=50, batch_size=8, callbacks=[recorder, Slow()])
""")


def test_a_run_killed_mid_epoch_is_listed_as_interrupted_and_reads_back(runs_folder):
    child = subprocess.Popen([sys.executable, "-c", KILLED], stdout=subprocess.PIPE, text=True,
                             cwd=Path(__file__).parents[1])
    run_id = child.stdout.readline().strip()
    metrics = runs_folder / run_id / "metrics.csv"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and (not metrics.exists() or metrics.read_text().count("\n") < 3):
        time.sleep(0.1)
    child.kill()
    child.wait()
    [info] = runs.list()
    assert info["id"] == run_id and info["status"] == "interrupted" and info["name"] == "doomed"
    run = runs.load(run_id)
    assert len(run.metrics["step"]) >= 2 and run.metrics["epoch"][0] == 0 and len(run.epochs["epoch"]) == 0


def test_a_fit_that_fails_is_marked_interrupted_by_abort(tiny_data):
    """fit calls no on_train_end when it raises; a caller that lives on (the app) says what happened."""
    x, y = tiny_data

    class Boom(Callback):
        def on_batch_end(self, batch, logs=None):
            if batch == 1:
                raise RuntimeError("disk on fire")

    recorder = runs.Recorder()
    with pytest.raises(RuntimeError):
        _model().fit(x, y, epochs=2, batch_size=16, callbacks=[recorder, Boom()])
    assert runs.load(recorder.run_id).info["status"] == "running"   # this process still lives
    recorder.abort("RuntimeError: disk on fire")
    info = runs.load(recorder.run_id).info
    assert info["status"] == "interrupted" and info["summary"]["stop_reason"] == "RuntimeError: disk on fire"
    assert info["ended"] and len(runs.load(recorder.run_id).metrics["step"]) == 2


def test_the_runs_model_is_the_one_fit_leaves_after_early_stopping_restores_the_best(tiny_data):
    from core.callbacks import EarlyStopping
    x, y = tiny_data
    recorder, model = runs.Recorder(), _model()
    stop = EarlyStopping("loss", mode="max", patience=1, restore_best_weights=True)   # epoch 0's loss is highest
    model.fit(x, y, epochs=5, batch_size=16, callbacks=[recorder, stop])   # it restores after the save
    run = runs.load(recorder.run_id)
    assert run.info["status"] == "stopped" and run.info["epochs_done"] == 2
    _same_weights(run.load_model(), model)   # epoch 0's weights, put back after the last epoch's save


def test_loading_a_run_reads_its_csv_files_only_when_asked(tmp_path, monkeypatch):
    """Continuing a run needs its record, not its batches: load reads metrics.csv and epochs.csv lazily."""
    from core import run_files
    read = []
    real = run_files.read_csv
    monkeypatch.setattr(run_files, "read_csv", lambda path, columns: read.append(path.name) or real(path, columns))
    (tmp_path / "r1").mkdir()
    (tmp_path / "r1" / "run.json").write_text('{"id": "r1", "status": "finished"}')
    run = runs.load("r1", root=tmp_path)
    assert run.info["id"] == "r1" and read == []
    assert run.metrics is run.metrics   # read once, then kept
    assert read == ["metrics.csv"]
