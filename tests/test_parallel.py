"""numpynet computes on its own threads, NUMPYNET_THREADS of them (else the cores), with BLAS held to one, and
puts the caller's settings back afterwards (core/parallel.py says why). The split work gives what one thread gives:
test_gradients.py checks every layer's backward on one thread and on two."""
import os
import threading
import time

import numpy as np
import pytest
from numpy.testing import assert_allclose
from threadpoolctl import threadpool_info, threadpool_limits

from core import conv_ops, parallel, winograd, zoo
from core import model as model_module
from core.callbacks import Callback


def _blas_threads():
    return {lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"}


class SeesThreads(Callback):
    def __init__(self):
        super().__init__()
        self.blas, self.numpynet = set(), set()

    def on_train_batch_end(self, batch, logs=None):
        self.blas |= _blas_threads()
        self.numpynet.add(parallel.threads())


def _model(name="mlp"):
    model = zoo.build(name, seed=0)
    model.compile("sgd", "crossentropy")
    return model


def _data(n=64):
    rng = np.random.default_rng(0)
    return rng.random((n, 1, 28, 28), dtype=np.float32), rng.integers(0, 10, n)


@pytest.fixture
def two_threads():
    with parallel.using(2):
        yield


@pytest.mark.parametrize("env, expected", [(None, len(os.sched_getaffinity(0))), ("1", 1), ("3", 3)])
def test_fit_computes_on_the_chosen_threads_with_one_blas_thread_and_restores_the_callers(monkeypatch, env, expected):
    if env is None:
        monkeypatch.delenv("NUMPYNET_THREADS", raising=False)
    else:
        monkeypatch.setenv("NUMPYNET_THREADS", env)
    seen = SeesThreads()
    x, y = _data()
    with threadpool_limits(limits=4, user_api="blas"):   # the caller's own setting
        _model().fit(x, y, batch_size=16, callbacks=[seen])
        after = _blas_threads()
    assert seen.numpynet == {expected} and seen.blas == {1}
    assert after == {4} and parallel.threads() == 1


@pytest.mark.parametrize("call", ["predict", "evaluate", "train_on_batch", "test_on_batch", "predict_on_batch"])
def test_every_compute_entry_point_sets_the_threads(monkeypatch, call):
    monkeypatch.setenv("NUMPYNET_THREADS", "2")
    model = _model()
    seen = set()
    first = model.layers[0]   # every path runs it: predict's and evaluate's fold no BatchNorm into a Flatten
    original = first.forward

    def forward(*args, **kwargs):
        seen.add((frozenset(_blas_threads()), parallel.threads()))
        return original(*args, **kwargs)
    monkeypatch.setattr(first, "forward", forward)
    x, y = _data(8)
    with threadpool_limits(limits=3, user_api="blas"):
        getattr(model, call)(*((x,) if "predict" in call else (x, y)))
    assert seen == {(frozenset({1}), 2)}


@pytest.mark.parametrize("bad", ["0", "-1", "two", "1.5", ""])
def test_a_bad_thread_count_is_refused_naming_the_variable(monkeypatch, bad):
    monkeypatch.setenv("NUMPYNET_THREADS", bad)
    x, y = _data(8)
    with pytest.raises(ValueError, match="NUMPYNET_THREADS"):
        _model().fit(x, y)


def test_a_point_map_computes_on_numpynets_threads(monkeypatch):
    from core.embedding import layer_points, pca
    monkeypatch.setenv("NUMPYNET_THREADS", "3")
    model, seen = _model(), []
    first = model.layers[0]
    monkeypatch.setattr(first, "forward", lambda x, training=False: seen.append(parallel.threads()) or
                        type(first).forward(first, x, training))
    with threadpool_limits(limits=2, user_api="blas"):
        layer_points(model, _data()[0], 1)
        monkeypatch.setattr(np.linalg, "qr", lambda *a, _qr=np.linalg.qr: seen.append(parallel.threads()) or _qr(*a))
        pca(np.random.default_rng(0).random((50, 8)))
        assert _blas_threads() == {2}           # the caller's limit is back
    assert seen and all(threads == 3 for threads in seen)


def test_run_returns_results_in_order_and_spreads_them_over_the_threads(two_threads):
    names = []

    def task(i):
        names.append(threading.current_thread().name)
        time.sleep(0.01)   # long enough that the caller cannot finish every task before the pool starts
        return i * i

    assert parallel.run([lambda i=i: task(i) for i in range(6)]) == [i * i for i in range(6)]
    assert len(set(names)) == 2


def test_outside_a_limited_call_everything_runs_on_the_caller():
    names = set()
    parallel.run([lambda: names.add(threading.current_thread().name) for _ in range(4)])
    assert names == {threading.current_thread().name}


def test_a_task_that_runs_tasks_runs_them_inline_without_deadlock(two_threads):
    inner = lambda: parallel.run([lambda: 1, lambda: 2])   # noqa: E731
    assert parallel.run([inner, inner, inner]) == [[1, 2]] * 3


def test_a_failing_task_raises_after_every_task_has_finished(two_threads):
    done = []

    def slow():
        time.sleep(0.05)
        done.append(True)

    def fail():
        raise RuntimeError("chunk 0 broke")

    with pytest.raises(RuntimeError, match="chunk 0 broke"):
        parallel.run([fail, slow, slow])
    assert done == [True, True]


def test_a_thread_held_up_takes_fewer_tasks_and_the_others_take_the_rest(two_threads):
    """Tasks go to whichever thread asks next: a helper stuck in its first task for 0.3 s leaves the other
    five to the caller. Cut into fixed halves, the caller would do three and wait for the helper's other two."""
    caller, ran_by = threading.current_thread().name, {}

    def task(i):
        ran_by[i] = threading.current_thread().name
        if ran_by[i] != caller and list(ran_by.values()).count(ran_by[i]) == 1:
            time.sleep(0.3)   # the helper's first task: as if another program had its core
        else:
            time.sleep(0.005)
        return i

    assert parallel.run([lambda i=i: task(i) for i in range(6)]) == list(range(6))
    assert list(ran_by.values()).count(caller) >= 5


def test_of_several_failing_tasks_the_first_in_task_order_is_raised(two_threads):
    done = []

    def fail(i):
        time.sleep(0.01 * (3 - i))   # the later task fails first
        raise RuntimeError(f"chunk {i} broke")

    tasks = [lambda: done.append(0), lambda: fail(1), lambda: fail(2), lambda: done.append(3)]
    with pytest.raises(RuntimeError, match="chunk 1 broke"):
        parallel.run(tasks)
    assert sorted(done) == [0, 3]   # the tasks after a failure still ran
    assert parallel.run([lambda: 1, lambda: 2]) == [1, 2]   # and the helpers serve the next run


def test_ctrl_c_in_a_task_ends_the_hand_out_and_is_what_the_run_raises(two_threads):
    """An ordinary failure leaves the other tasks to run; Ctrl+C does not: no thread takes a task after it, and
    it is raised even when a task before it failed (the user asked to stop, not to hear of a broken chunk)."""
    done = []

    def fail():
        raise RuntimeError("chunk 0 broke")

    def interrupted():
        time.sleep(0.02)   # after the broken chunk, whichever thread took it
        raise KeyboardInterrupt

    def later(i):
        time.sleep(0.01)
        done.append(i)

    with pytest.raises(KeyboardInterrupt):
        parallel.run([fail, interrupted] + [lambda i=i: later(i) for i in range(20)])
    assert len(done) < 10   # only those taken while the interrupted task slept, not all 20
    assert parallel.run([lambda: 1, lambda: 2]) == [1, 2]


def _matrices(m, k, n, transposed, dtype):
    """Random (M, K) and (K, N) matrices, contiguous or transposed views of (K, M) and (N, K) ones."""
    rng = np.random.default_rng(0)
    if transposed:
        return rng.standard_normal((k, m)).astype(dtype).T, rng.standard_normal((n, k)).astype(dtype).T
    return rng.standard_normal((m, k)).astype(dtype), rng.standard_normal((k, n)).astype(dtype)


BOTH_LAYOUTS = pytest.mark.parametrize("transposed", [False, True], ids=["contiguous", "transposed views"])


@pytest.mark.parametrize("m, k, n", [(300, 40, 20), (20, 40, 300), (1, 5, 7), (64, 8, 64)],
                         ids=["rows", "columns", "tiny", "square"])
@BOTH_LAYOUTS
def test_matmul_in_blocks_equals_one_product(two_threads, monkeypatch, m, k, n, transposed):
    monkeypatch.setattr(parallel, "MIN_SPLIT_FLOPS", 0)
    a, b = _matrices(m, k, n, transposed, np.float32)
    got = parallel.matmul(a, b)
    assert got.dtype == np.float32 and got.shape == (m, n)
    assert_allclose(got, a @ b, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("m, n", [(300, 20), (20, 300), (2048, 1024)], ids=["rows", "columns", "alexnet_mini"])
@BOTH_LAYOUTS
def test_an_outer_product_equals_one_product(monkeypatch, threads, m, n, transposed):
    """An inner axis of 1 (a dense layer's weight gradient for one image) goes by ``einsum``, whole or in
    blocks written into strided views of the result, each block finished once; so do a batch of one's two
    gradients side by side."""
    monkeypatch.setattr(parallel, "MIN_SPLIT_FLOPS", 0)
    a, b = _matrices(m, 1, n, transposed, np.float32)
    with parallel.using(threads):
        got = parallel.matmul(a, b, lambda block, cols: block.__iadd__(1))
        x, g, w = a.T, b, np.ones((m, n), np.float32)   # a dense layer's input, output gradient and weights
        dw, dx = parallel.matmuls((x.T, g), (g, w.T))
    assert got.dtype == np.float32 and got.shape == (m, n)
    assert_allclose(got, a @ b + 1, rtol=1e-6)
    assert_allclose(dw, a @ b, rtol=1e-6)
    assert_allclose(dx, np.full((1, m), g.sum()), rtol=1e-5)


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_two_products_side_by_side_equal_each_alone(monkeypatch, threads):
    """A dense layer's two gradients go to a thread each when they are as many as the threads, else one by one."""
    monkeypatch.setattr(parallel, "MIN_SPLIT_FLOPS", 0)
    rng = np.random.default_rng(2)
    x, g, w = (rng.standard_normal(shape).astype(np.float32) for shape in [(64, 300), (64, 200), (300, 200)])
    runs = []
    run = parallel.run
    monkeypatch.setattr(parallel, "run", lambda tasks: runs.append(len(tasks)) or run(tasks))
    with parallel.using(threads):
        dw, dx = parallel.matmuls((x.T, g), (g, w.T))
    assert_allclose(dw, x.T @ g, rtol=1e-5, atol=1e-5)
    assert_allclose(dx, g @ w.T, rtol=1e-5, atol=1e-5)
    assert runs == {1: [], 2: [2], 3: [3, 3]}[threads]   # none, side by side, or each split among the threads


@pytest.mark.parametrize("threads", [1, 2, 3])
@pytest.mark.parametrize("m, k, n", [(5, 86_528, 9), (32, 4096, 32), (1, 4097, 7), (25, 5000, 20)],
                         ids=["cnn_small's dW", "blocks only", "short last block", "odd blocks"])
@BOTH_LAYOUTS
def test_a_long_sum_in_blocks_equals_one_product(monkeypatch, threads, m, k, n, transposed):
    """A small result over a long inner axis is a sum of products over blocks of it, shared among the threads."""
    monkeypatch.setattr(parallel, "MIN_SPLIT_FLOPS", 0)
    a, b = _matrices(m, k, n, transposed, np.float64)
    calls = []
    block_sums = parallel._block_sums
    monkeypatch.setattr(parallel, "_block_sums", lambda *args: calls.append(args[2:]) or block_sums(*args))
    with parallel.using(threads):
        got = parallel.matmul(a, b)
    assert got.shape == (m, n) and got.dtype == np.float64
    assert_allclose(got, a @ b, rtol=1e-10, atol=1e-10)
    whole_blocks = k // parallel.LONG_SUM_BLOCK * parallel.LONG_SUM_BLOCK
    assert len(calls) == threads and max(stop for _, stop in calls) == whole_blocks


@pytest.mark.parametrize("threads", [1, 2, 3])
@pytest.mark.parametrize("n, per_sample", [(128, 41_000), (128, 29_000), (5, 1 << 30), (1, 100), (200, 1)])
def test_batch_chunks_cover_the_batch_in_a_multiple_of_the_threads(monkeypatch, threads, n, per_sample):
    """More than one chunk come in a multiple of the threads; a batch that fits one chunk stays one."""
    with parallel.using(threads):
        chunks = conv_ops.batch_chunks(n, per_sample)
    assert chunks[0][0] == 0 and chunks[-1][1] == n
    assert all(a[1] == b[0] for a, b in zip(chunks, chunks[1:]))
    sizes = [b - a for a, b in chunks]
    assert min(sizes) > 0 and max(sizes) - min(sizes) <= max(sizes[-1], 1)
    assert len(chunks) % threads == 0 or len(chunks) in (1, n)
    assert max(sizes) * per_sample <= max(conv_ops.CHUNK_BYTES, per_sample)


def _updates(monkeypatch, name, threads):
    """The change one training step on ``threads`` makes to each of preset ``name``'s parameters."""
    monkeypatch.setenv("NUMPYNET_THREADS", threads)
    model = _model(name)
    before = [p.copy() for layer in model.layers for p in layer.params.values()]
    model.train_on_batch(*_data(32))
    return [p - b for p, b in zip([p for layer in model.layers for p in layer.params.values()], before)]


@pytest.mark.parametrize("name", ["alexnet_mini", "lenet5", "cnn_small"])
def test_a_training_step_on_two_threads_equals_one_on_one(monkeypatch, name):
    """The threads may cut the batch into other chunks, so sums may add in another order: round-off apart,
    measured against the parameter's largest change (an element near zero has no digits of its own to keep:
    OpenBLAS's Haswell kernels left 3e-8 between two of 5e-5, in a weight whose changes reach 1e-4)."""
    for one, two in zip(_updates(monkeypatch, name, "1"), _updates(monkeypatch, name, "2")):
        assert_allclose(two, one, rtol=1e-4, atol=1e-4 * np.abs(one).max())


def test_a_vgg_mini_step_on_two_threads_agrees_with_one_on_one(monkeypatch):
    """vgg_mini's BatchNorm and Winograd sums add in another order on two threads, F4 rounding about 6e-6 of a
    layer's largest output (``winograd.F4``). A difference that small can tip a max-pool window or a ReLU
    near zero the other way: the window then hands its gradient to another pixel, and every layer below
    feels it. Here a few ReLUs and one window tip, and the updates come 1-3e-3 apart in norm. A chunk
    left out of a convolution's weight gradient moved that update 0.57 apart; a chunk of images left out
    of a padded input moved every update 0.07-1.6 apart. The biases before each BatchNorm get only
    round-off (a bias there changes nothing), hence the floor."""
    for one, two in zip(_updates(monkeypatch, "vgg_mini", "1"), _updates(monkeypatch, "vgg_mini", "2")):
        assert np.linalg.norm(two - one) <= 1e-2 * np.linalg.norm(one) + 1e-7 * np.sqrt(one.size)


def test_a_chunk_loop_on_two_threads_runs_on_both(two_threads, monkeypatch):
    """vgg_mini's first wide convolution at batch 32: its chunks go to both threads (each made to take 20 ms
    longer, so that the helper is awake before the caller could take them all)."""
    names = []
    original = winograd._conv_chunk

    def chunk(*args):
        names.append(threading.current_thread().name)
        time.sleep(0.02)
        return original(*args)
    monkeypatch.setattr(winograd, "_conv_chunk", chunk)
    layer = zoo.build("vgg_mini", seed=0).layers[3]
    assert layer.winograd
    layer.forward(np.zeros((32, *layer.input_shape), np.float32))
    assert len(names) > 1 and len(set(names)) == 2


@pytest.mark.parametrize("name, kwargs", [("sgd", {}), ("sgd", {"momentum": 0.9, "nesterov": True}),
                                          ("adagrad", {}), ("rmsprop", {}), ("adadelta", {}), ("adam", {}),
                                          ("sgd", {"momentum": 0.9, "weight_decay": 0.01})])
def test_an_optimizer_step_in_stretches_on_two_threads_equals_one_on_one(monkeypatch, name, kwargs):
    """A weight matrix above SPLIT_SIZE is updated a stretch per thread (core/optimizers.py): the same numbers."""
    from core import optimizers
    rng = np.random.default_rng(0)
    w0 = rng.standard_normal((700, 600)).astype(np.float32)
    grads = [rng.standard_normal(w0.shape).astype(np.float32) for _ in range(3)]
    assert w0.size >= optimizers.SPLIT_SIZE
    results, stretches = [], []
    original = optimizers.Optimizer._update_block
    monkeypatch.setattr(optimizers.Optimizer, "_update_block",
                        lambda self, *a: stretches.append(a[-1]) or original(self, *a))
    for threads in (1, 2):
        opt, w, b = optimizers.optimizer_class(name)(**kwargs), w0.copy(), np.zeros(3, np.float32)
        with parallel.using(threads):
            for g in grads:
                opt.step([("dense/W", "W", w, g), ("dense/b", "b", b, g[0, :3])])
        results.append((w, {k: v.copy() for k, v in opt.state["dense/W"].items()}))
    (w1, s1), (w2, s2) = results
    # the first step makes the state whole; each later one goes in one stretch on one thread, two on two
    assert len(stretches) == 2 * 1 + 2 * 2
    assert not np.array_equal(w1, w0)
    np.testing.assert_array_equal(w2, w1)
    assert s2.keys() == s1.keys() and all(np.array_equal(s2[k], s1[k]) for k in s1)


def test_two_callers_at_once_both_get_their_results():
    """The app predicts on the GUI thread while its worker trains: a second caller runs its tasks itself."""
    results, errors = {}, []

    def caller(key):
        try:
            with parallel.using(2):
                for _ in range(20):
                    results[key] = parallel.run([lambda i=i: (time.sleep(0.001), key * 10 + i)[1] for i in range(4)])
        except Exception as e:   # noqa: BLE001 (reported below)
            errors.append(e)
    callers = [threading.Thread(target=caller, args=(k,)) for k in (1, 2)]
    for t in callers:
        t.start()
    for t in callers:
        t.join(timeout=10)
    assert not errors and not any(t.is_alive() for t in callers)
    assert results == {1: [10, 11, 12, 13], 2: [20, 21, 22, 23]}


def test_each_thread_has_its_own_count():
    """A call ending on one thread leaves another thread's count as it was."""
    seen = {}

    def worker():
        with parallel.using(3):
            time.sleep(0.05)
            seen["worker"] = parallel.threads()
    with parallel.using(2):
        t = threading.Thread(target=worker)
        t.start()
        time.sleep(0.01)
        seen["main"] = parallel.threads()
        t.join()
    assert seen == {"worker": 3, "main": 2} and parallel.threads() == 1


def test_ctrl_c_while_waiting_for_a_helper_still_waits_and_the_next_run_gets_its_own_results(two_threads):
    """A KeyboardInterrupt that lands while the caller waits is raised only once the helper is done."""
    helper = parallel._helpers_for(1)[0]
    real_done = helper._done

    class InterruptedOnce:
        calls = 0

        def acquire(self):
            InterruptedOnce.calls += 1
            if InterruptedOnce.calls == 1:
                raise KeyboardInterrupt
            return real_done.acquire()

        def release(self):
            real_done.release()
    finished = []
    helper._done = InterruptedOnce()
    try:
        with pytest.raises(KeyboardInterrupt):
            parallel.run([lambda: "mine", lambda: (time.sleep(0.05), finished.append(True), "helper's")[2]])
    finally:
        helper._done = real_done
    assert finished == [True] and InterruptedOnce.calls == 2
    assert parallel.run([lambda: 1, lambda: 2]) == [1, 2]


@pytest.mark.parametrize("threads, work, expected", [(2, 24, 1), (2, 25, 2), (2, 1000, 2), (16, 25, 2),
                                                     (16, 100, 8), (16, 10_000, 16), (1, 1000, 1)])
def test_each_thread_gets_a_share_worth_handing_out(threads, work, expected):
    """On a many-core machine a product is cut in as many parts as have half the split threshold each."""
    with parallel.using(threads):
        assert parallel.parts_for(work, 12.5) == expected


def test_row_parts_of_an_empty_or_small_array_is_the_whole(two_threads):
    assert parallel.row_parts(np.zeros((0, 3), np.float32)) == [slice(0, 0)]
    assert parallel.row_parts(np.zeros((4, 3), np.float32)) == [slice(0, 4)]
    big = np.zeros((parallel.MIN_SPLIT_ELEMENTS // 8, 8), np.float32)
    assert parallel.row_parts(big) == [slice(0, len(big) // 2), slice(len(big) // 2, len(big))]


def test_a_batch_that_fits_one_chunk_stays_one_and_a_share_of_a_run_is_not_cut_for_threads(two_threads):
    assert conv_ops.batch_chunks(64, 100) == [(0, 64)]            # 6.4 KB: handing half of it out costs more
    assert len(conv_ops.batch_chunks(128, 29_000)) == 2
    chunk_counts = parallel.run([lambda: len(conv_ops.batch_chunks(128, 41_000))] * 2)
    assert chunk_counts == [3, 3]   # inside a run: 3 chunks of 2 MB, not rounded up to the threads


def _piece_runs(monkeypatch, model):
    """The number of pieces of each run of inference pieces (``Sequential._side_by_side``) on ``model``."""
    def is_piece(task):   # a piece is the inference path (``Sequential._inference``) given a slice of a batch
        return getattr(task, "func", None) is model_module._forward_path
    runs, run = [], parallel.run
    monkeypatch.setattr(parallel, "run", lambda tasks: (runs.append(len(tasks)) if all(map(is_piece, tasks)) else None)
                        or run(tasks))
    return runs


@pytest.mark.parametrize("name", ["cnn_small", "vgg_mini", "alexnet_mini"])
def test_inference_in_pieces_side_by_side_equals_one_thread(monkeypatch, name):
    """predict and evaluate run pieces of each batch through the layers on two threads at once (each with
    its own scratch arrays); the outputs and the logs are those of one thread."""
    x, y = _data(160)
    model = _model(name)
    results = {}
    for threads in ("1", "2"):
        monkeypatch.setenv("NUMPYNET_THREADS", threads)
        runs = _piece_runs(monkeypatch, model)
        results[threads] = model.predict(x, batch_size=128), model.evaluate(x, y, batch_size=128)
        assert runs == [] if threads == "1" else len(runs) >= 2 and set(runs) == {2}   # predict's and evaluate's
    assert_allclose(results["2"][0], results["1"][0], rtol=1e-5, atol=1e-6)
    assert results["2"][1] == pytest.approx(results["1"][1], rel=1e-5)


def test_a_small_network_predicts_without_pieces(monkeypatch):
    """mlp's layer outputs are 220 floats an image: a piece of a 256-image batch would be too little work."""
    monkeypatch.setenv("NUMPYNET_THREADS", "2")
    model = _model("mlp")
    runs = _piece_runs(monkeypatch, model)
    model.predict(_data(256)[0], batch_size=256)
    assert runs == []


@pytest.mark.parametrize("name, batch, whole", [("mlp", 256, True), ("mlp_wide", 128, True),
                                                ("mlp_wide", 512, False), ("lenet5", 64, False)])
def test_batches_that_fit_a_cache_go_whole_and_side_by_side(monkeypatch, name, batch, whole):
    """predict and evaluate hand a run of whole batches to each thread when a batch's layer outputs fit
    CHUNK_BYTES (mlp_wide's 1,556 floats an image at 128 do, at 512 not; LeNet-5's 18,910 at 64 not), with
    the outputs and the logs of one thread."""
    x, y = _data(5 * batch + 7)   # six batches, the last short
    model = _model(name)
    results, on = {}, set()
    first = model.layers[0]   # a Flatten: every inference path runs it as it is
    forward = first.forward

    def seen(xb, training=False):   # a few ms a batch: on a busy machine the caller took all six of mlp's
        on.add((threading.get_ident(), len(xb)))  # 0.1 ms batches before the helper woke (one full run in five)
        time.sleep(0.003)
        return forward(xb, training)
    monkeypatch.setattr(first, "forward", seen)
    runs, run = [], parallel.run
    monkeypatch.setattr(parallel, "run", lambda tasks: runs.append(len(tasks)) or run(tasks))
    for threads in ("1", "2"):
        monkeypatch.setenv("NUMPYNET_THREADS", threads)
        runs.clear()
        on.clear()
        results[threads] = model.predict(x, batch_size=batch), model.evaluate(x, y, batch_size=batch)
        assert (6 in runs) == (whole and threads == "2")   # one run of the six batches each call
        if whole:   # predict's first layer saw whole batches, on both threads when there were two
            assert {n for _, n in on} == {batch, 7} and len({t for t, _ in on}) == int(threads)
    assert_allclose(results["2"][0], results["1"][0], rtol=1e-5, atol=1e-6)
    assert results["2"][1] == pytest.approx(results["1"][1], rel=1e-5)


def test_evaluate_calls_the_metrics_in_order_on_the_callers_thread(monkeypatch):
    """A user's metric may keep a running state: the batches' outputs come side by side, the metrics do not."""
    monkeypatch.setenv("NUMPYNET_THREADS", "2")
    calls = []

    def seen(out, y):
        calls.append((threading.get_ident(), len(out)))
        return 0.0
    seen.name = "seen"
    model = zoo.build("mlp", seed=0)
    model.compile("sgd", "crossentropy", metrics=[seen])
    x, y = _data(5 * 64 + 7)
    model.evaluate(x, y, batch_size=64)
    assert calls == [(threading.get_ident(), n) for n in [64] * 5 + [7]]


def test_a_model_with_a_layer_of_a_users_predicts_without_pieces(monkeypatch, registry):
    """A user's layer may read back in forward what it kept on self: pieces on two threads could mix them."""
    from layer_types import define_scale
    from core.layers import Conv2D, Dense, Flatten, MaxPool2D, ReLU
    from core.model import Sequential
    monkeypatch.setenv("NUMPYNET_THREADS", "2")
    scale = define_scale()
    for middle, pieces in ((scale(), []), (ReLU(), [2])):   # the same network of numpynet's own layers: in pieces
        model = Sequential([Conv2D(8, 3), middle, MaxPool2D(2), Flatten(), Dense(10)], input_shape=(1, 28, 28))
        runs = _piece_runs(monkeypatch, model)
        model.predict(_data(256)[0], batch_size=256)
        assert runs == pieces, type(middle).__name__
