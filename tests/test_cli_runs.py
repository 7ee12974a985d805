"""``numpynet train`` records runs and resumes them; ``numpynet runs`` lists, shows, removes and compares them."""
import json
import re
import sys

import numpy as np
import pytest

from core import cli, runs

SMALL = ("--model", "mlp", "--dataset", "mnist", "--limit", "300", "--batch-size", "100")


def run(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def train(capsys, *extra):
    code, out, err = run(capsys, "train", *SMALL, *extra)
    assert code == 0, err
    found = re.search(r"^run (\S+) recorded in (.+)$", out, re.M)
    return found and found.group(1), out


def test_train_records_a_run_and_says_where(capsys, mnist, runs_folder):
    run_id, out = train(capsys, "--epochs", "2", "--name", "baseline", "--quiet")
    assert f"recorded in {runs_folder / run_id}" in out
    [info] = runs.list()
    assert (info["id"], info["name"], info["source"], info["status"], info["epochs_done"]) == \
        (run_id, "baseline", "cli", "finished", 2)
    settings = info["settings"]
    assert (settings["preset"], settings["dataset"], settings["limit"], settings["batch_size"]) == \
        ("mlp", "mnist", 300, 100)
    assert (settings["train_samples"], settings["validation_samples"], settings["validation_split"]) == (270, 30, 0.1)
    assert settings["test_samples"] == len(mnist.x_test) and settings["command"].startswith("numpynet train")
    assert 0 < info["summary"]["test_accuracy"] <= 1 and info["summary"]["test_loss"] > 0
    run_ = runs.load(run_id)
    assert run_.metrics["step"].tolist() == list(range(1, 7)) and run_.best_path is not None   # 270 in 100s
    assert run_.load_model().meta["class_names"] == [str(i) for i in range(10)]


def test_no_record_records_nothing(capsys, mnist):
    run_id, out = train(capsys, "--epochs", "1", "--no-record")
    assert run_id is None and "recorded" not in out and runs.list() == []


def test_resume_continues_a_run_exactly_in_a_child_run(capsys, mnist, tmp_path):
    options = ("--schedule", "step", "--augment", "--seed", "4", "--optimizer", "adam")
    whole, _ = train(capsys, "--epochs", "3", *options)
    first, _ = train(capsys, "--epochs", "1", *options)
    code, out, err = run(capsys, "train", "--resume", first[:-1], "--epochs", "3", "--out", str(tmp_path / "m"))
    assert code == 0, err
    assert "epoch 2/3" in err and "epoch 3/3" in err and "epoch 1/3" not in err
    child = re.search(r"^run (\S+) recorded", out, re.M).group(1)
    info = runs.load(child).info
    assert info["parent"] == first and info["settings"]["initial_epoch"] == 1 and info["epochs_done"] == 3
    assert info["settings"]["augmentation"] == runs.load(first).info["settings"]["augmentation"]
    assert runs.load(child).metrics["step"][0] == 4   # 3 batches an epoch: its steps go on from the parent's
    resumed, straight = runs.load(child).load_model(), runs.load(whole).load_model()
    for key, value in straight.get_weights().items():
        np.testing.assert_allclose(resumed.get_weights()[key], value, atol=1e-6, err_msg=key)
    assert runs.load(first).info["epochs_done"] == 1   # the parent stays as it was


def test_resume_of_a_run_stopped_in_mid_epoch_says_what_is_not_trained(capsys, mnist):
    first, _ = train(capsys, "--epochs", "1")
    path = runs.load(first).folder / "run.json"
    info = json.loads(path.read_text())
    path.write_text(json.dumps({**info, "cut_short": {"epoch": 1, "fraction": 0.6667}}))   # as a Ctrl-C leaves it
    code, _, err = run(capsys, "train", "--resume", first, "--epochs", "2")
    assert code == 0, err
    assert f"run {first}: Epoch 1 was stopped after 67% of its batches: continuing starts epoch 2, so the rest " \
           "of epoch 1 is never trained" in err
    code, _, err = run(capsys, "train", "--resume", train(capsys, "--epochs", "1")[0], "--epochs", "2")
    assert code == 0 and "stopped after" not in err


def test_resume_past_the_end_of_a_cosine_grows_it_so_the_new_epochs_learn(capsys, mnist):
    first, _ = train(capsys, "--epochs", "1", "--schedule", "cosine", "--lr", "0.1")
    assert runs.load(first).metrics["lr"][-1] <= 0.025 + 1e-9, "the cosine ran down to its end"
    code, out, err = run(capsys, "train", "--resume", first, "--epochs", "3")
    assert code == 0, err
    child = runs.load(re.search(r"^run (\S+) recorded", out, re.M).group(1))
    np.testing.assert_allclose(child.metrics["lr"][0], 0.1 * 0.5 * (1 + np.cos(np.pi / 3)), rtol=1e-4)
    assert child.metrics["lr"][-1] < 0.02 and (np.diff(child.metrics["lr"]) <= 0).all()


def test_resume_refuses_what_it_cannot_continue(capsys, mnist):
    code, _, err = run(capsys, "train", "--resume", "nosuchrun", "--epochs", "3")
    assert code == 2 and "no run 'nosuchrun'" in err and "Traceback" not in err
    first, _ = train(capsys, "--epochs", "2")
    code, _, err = run(capsys, "train", "--resume", first, "--epochs", "2")
    assert code == 2 and "trained 2 epochs already" in err and "more than 2" in err


def test_runs_lists_shows_and_compares(capsys, mnist):
    first, _ = train(capsys, "--epochs", "1", "--name", "slow", "--lr", "0.01")
    second, _ = train(capsys, "--epochs", "1", "--name", "fast", "--lr", "0.1")
    code, out, _ = run(capsys, "runs")
    assert code == 0
    header, rule, *rows = out.splitlines()
    assert header.split()[:4] == ["id", "name", "status", "model"] and set(rule) <= {"-", " "}
    assert [row.split()[0] for row in rows] == [second, first] or [row.split()[0] for row in rows] == [first, second]
    assert all("finished" in row and "mlp (89,610)" in row and "SGD" in row for row in rows)

    code, out, _ = run(capsys, "runs", "show", first)
    assert code == 0 and f"run {first} (slow): finished" in out
    assert "optimizer.lr: 0.01" in out and "settings:" in out and "summary:" in out and "events (0):" in out

    code, out, _ = run(capsys, "runs", "compare", first, second)
    assert code == 0
    differ = out.split("results:")[0]
    assert re.search(r"optimizer\.lr\s+0\.01\s+0\.1", differ) and "batch_size" not in differ
    assert re.search(r"final\.val_accuracy\s+0\.\d+\s+0\.\d+", out) and "test_accuracy" in out


def test_runs_rm_asks_on_a_terminal_and_refuses_without_one(capsys, mnist, monkeypatch):
    run_id, _ = train(capsys, "--epochs", "1")
    code, _, err = run(capsys, "runs", "rm", run_id)
    assert code == 2 and "--yes" in err and runs.list()
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True, raising=False)
    monkeypatch.setattr("builtins.input", lambda prompt: "n")
    assert run(capsys, "runs", "rm", run_id)[0] == 1 and runs.list()
    monkeypatch.setattr("builtins.input", lambda prompt: "y")
    assert run(capsys, "runs", "rm", run_id)[0] == 0 and runs.list() == []


def test_runs_rm_yes_deletes_and_an_unknown_id_names_the_folder(capsys, mnist, runs_folder):
    run_id, _ = train(capsys, "--epochs", "1")
    code, out, _ = run(capsys, "runs", "rm", run_id, "--yes")
    assert code == 0 and f"deleted run {run_id}" in out and runs.list() == []
    code, _, err = run(capsys, "runs", "show", run_id)
    assert code == 2 and f"no run '{run_id}' in {runs_folder}" in err


def test_runs_with_none_says_where_it_looked(capsys, runs_folder):
    code, out, _ = run(capsys, "runs")
    assert code == 0 and out.strip() == f"no runs in {runs_folder}"


@pytest.mark.parametrize("argv", [("runs", "compare", "one"), ("runs", "rm")])
def test_runs_usage_errors(capsys, argv):
    with pytest.raises(SystemExit) as info:
        cli.main(list(argv))
    assert info.value.code == 2


def test_a_runs_folder_that_cannot_be_made_stops_train_before_it_trains_and_says_how_out(tmp_path, monkeypatch, capsys):
    """The run cannot be recorded under a file: exit 2 with the folder and the ways out, not a bare OSError."""
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("NUMPYNET_RUNS", str(blocker / "runs"))
    code = cli.main(["train", "--model", "mlp", "--dataset", "synthetic-digits", "--epochs", "1", "--limit", "64"])
    err = capsys.readouterr().err
    assert code == 2
    assert str(blocker / "runs") in err and "NUMPYNET_RUNS" in err and "--no-record" in err
