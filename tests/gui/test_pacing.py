"""A run at a learner's pace (gui.pacing through TrainWorker): one batch at a time, slow motion, epochs added
on the way, dead units streamed with the snapshots; Stop and Pause never wait for a slow-motion pause."""
import threading
import time

from core import Sequential, runs
from core.layers import Dense, Flatten, ReLU, Softmax
from gui.pacing import EPOCH, Pace
from gui.worker import STOPPED
from tests.gui.test_worker import STEPS, Run, slow


def test_step_one_batch_before_the_start_and_again_from_the_pause(qtbot):
    run = Run(qtbot)
    run.worker.step_one()
    run.start()
    qtbot.waitUntil(lambda: run.worker.paused and run.steps == [1], timeout=5000)
    time.sleep(0.2)
    assert run.worker.step == 1 and run.steps == [1], "one batch, then it waits"
    run.worker.step_one()
    qtbot.waitUntil(lambda: run.steps == [1, 2] and run.worker.paused, timeout=5000)
    time.sleep(0.2)
    assert run.worker.step == 2 and run.progress[-1][2] == 2, "the progress line shows the batch stepped to"
    run.worker.stop()
    run.wait(3000)
    assert run.result[1] == STOPPED


def test_slow_motion_paces_batches_and_can_be_changed_while_training(qtbot):
    run = Run(qtbot, epochs=1)
    run.worker.slow_motion(150)
    started = time.perf_counter()
    run.start()
    qtbot.waitUntil(lambda: len(run.steps) >= 3, timeout=5000)
    assert time.perf_counter() - started >= 0.3, "two pauses of 150 ms between three batches"
    assert run.sends == len(run.steps), "each slowed batch is shown as it ends"
    epoch, _epochs, batch, steps, _rate, eta = run.progress[0]
    assert eta >= 0.15 * (steps - batch), "the ETA counts the slow-motion pauses ahead"
    run.worker.slow_motion(0)
    run.wait(5000)
    assert run.steps == list(range(1, STEPS + 1)) and run.result[1] == ""
    assert run.progress[-1][-1] == 0, "nothing ahead at the end"


def test_stop_and_pause_cut_a_long_slow_motion_pause_short(qtbot):
    run = Run(qtbot)
    run.worker.slow_motion(60_000)
    run.start()
    qtbot.waitUntil(lambda: run.steps == [1], timeout=5000)
    time.sleep(0.1)
    run.worker.pause()
    qtbot.waitUntil(lambda: run.messages[-1:] == ["Paused"], timeout=1000)   # not after the minute's pause
    run.worker.slow_motion(60_000, EPOCH)
    run.worker.resume()
    qtbot.waitUntil(lambda: len(run.epochs) == 1, timeout=5000)   # batches at full speed, then the epoch's pause
    started = time.perf_counter()
    run.worker.stop()
    run.wait(3000)
    assert time.perf_counter() - started < 1.0 and run.result[1] == STOPPED
    assert len(run.epochs) == 1


def test_pace_wait_follows_a_shorter_setting_at_once():
    pace = Pace()
    pace.set(60_000)
    started = time.perf_counter()
    threading.Timer(0.1, pace.set, (50,)).start()
    assert pace.wait("batch", lambda: False) < 1.0
    assert time.perf_counter() - started >= 0.05


def test_epochs_added_to_a_running_run_continue_the_same_run_and_history(qtbot):
    run = Run(qtbot, epochs=1, augment=slow(0.03), recorder=runs.Recorder(source="app"))
    run.start()
    qtbot.waitUntil(lambda: len(run.steps) >= 2, timeout=5000)
    assert run.worker.add_epochs(1)
    run.wait(10_000)
    result, reason = run.result
    assert reason == "" and [e for e, _ in run.epochs] == [1, 2]
    assert run.steps == list(range(1, 2 * STEPS + 1)), "steps go on through the added epoch"
    assert len(result["history"]["loss"]) == 2 and len(run.model.train_history["loss"]) == 2
    assert run.progress[-1][:2] == (2, 2), "the progress line counts the added epoch"
    recorded = runs.load(run.worker.job.recorder.run_id)
    assert recorded.info["status"] == "finished" and recorded.info["epochs_done"] == 2
    assert recorded.info["settings"]["epochs_planned"] == 2
    assert not run.worker.add_epochs(1), "a run that has ended takes no more epochs"


def test_dead_units_go_out_with_each_snapshot(qtbot, monkeypatch):
    from gui import worker as worker_mod
    monkeypatch.setattr(worker_mod, "SNAPSHOT_INTERVAL", 0.0)
    model = Sequential([Flatten(), Dense(6), ReLU(), Dense(3), Softmax()], input_shape=(1, 8, 8), seed=0)
    model.layers[1].params["b"][:3] = -1e3    # half the ReLU's units never fire: no gradient brings them back
    run = Run(qtbot, model=model, epochs=1)
    run.worker.deadUnits.connect(run.on_dead)
    run.start().wait()
    assert run.dead and all(shares == {"ReLU #3": 0.5} for _, shares in run.dead)
    assert [step for step, _ in run.dead] == sorted(step for step, _ in run.dead)


def test_an_epoch_added_to_a_cosine_run_is_inside_the_schedule_not_after_its_end(qtbot):
    run = Run(qtbot, epochs=1, schedule="cosine", augment=slow(0.03))
    run.start()
    qtbot.waitUntil(lambda: len(run.steps) >= 2, timeout=5000)
    assert run.worker.add_epochs(1)
    run.wait(10_000)
    lr = run.model.train_history["lr"]
    assert len(lr) == 2
    assert lr[0] > 0.3 * 0.1, "the first epoch now ends half way down the cosine, not at its bottom"
    assert lr[1] < lr[0] and run.model.optimizer.schedule.epochs == 2
