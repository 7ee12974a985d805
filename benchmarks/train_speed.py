"""Training and prediction speed on MNIST: numpynet against PyTorch, alternated in one run.

    NUMPYNET_DATA=../shared/data python benchmarks/train_speed.py [--runs 3] [--steps 30]
        [--models vgg_mini lenet5] [--batch-sizes 64 128] [--before /tmp/speed-before]
        [--threads 1 2] [--busy 1] [--memory] [--no-torch] [--torch-malloc numpynet]

Every zoo preset, batch 64 and 128, SGD lr 0.05 momentum 0.9, float32, real
MNIST in one shuffled order. PyTorch runs the same network (its own initial
weights). The runner writes the data as .npy files and the workers load them
with NumPy, so the PyTorch worker never imports ``core``: that would give it
numpynet's malloc settings (``core/allocator.py``), which PyTorch as it comes
does not have. ``--torch-malloc numpynet`` gives them to it, to see what they
are worth there. Each framework lives in its own worker process that stays up for the
whole run; the runner sends them the same job in turn, alternating which goes
first, and repeats the table ``--runs`` times: on a shared machine only
alternation makes two timings comparable. Each job starts half a second after
the last ended, time for the last worker's idle threads to stop spinning
(without the pause, numpynet's 50 ms prediction pass read half the speed it
had alone, in a run of six workers). A job times ``--steps`` training
batches, and at least a second of them, after three warm-up batches (not
whole epochs, to keep a run short); seconds per epoch are 60,000 images at
that speed. ``--before TREE`` adds a
worker running numpynet from another checkout (``git worktree add TREE main``),
for before/after figures from the same run.

Threads: each framework runs at every count of ``--threads`` (1 and the
machine's cores by default; NUMPYNET_THREADS for numpynet,
torch.set_num_threads for PyTorch), and ratios compare the two at the same
count. Both use all cores by default (``core/parallel.py`` for numpynet), and
on a quiet machine that is each one's fastest. ``--busy N`` keeps N other
processes spinning on the CPU for the whole run, as another program would:
what a second thread is worth on a machine that is not quiet.

Printed: samples/s, s/epoch and numpynet/PyTorch time ratio per preset and
batch size, median over runs and "quietest" (each side's fastest run); predict
throughput (batches of 256, 2,000 test images). With ``--memory``, the peak RSS
of a vgg_mini training process with MNIST loaded.
"""
import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import types

import numpy as np

import machine

LR, MOMENTUM, WARMUP, PREDICT_N = 0.05, 0.9, 3, 2000
PREDICT_REPEATS = 5   # one pass over PREDICT_N images takes 20-300 ms: the median of several
SETTLE = 0.5   # seconds between jobs: the last worker's idle threads (OpenMP's, OpenBLAS's) spin for a while
MIN_SECONDS = 1.0   # a job trains at least this long after its warm-up: 20 batches of mlp take 10 ms
HERE = os.path.dirname(os.path.abspath(__file__))
TORCH_MALLOC = "TRAIN_SPEED_TORCH_MALLOC"   # tells a PyTorch worker whose malloc settings to train with
MALLOC_WORDS = {"default": "glibc's malloc as it comes", "numpynet": "numpynet's malloc settings"}


# ----- the workers: one process per framework, jobs on stdin, results on stdout --------------------

def numpynet_train(ds, job):
    from core import zoo
    from core.callbacks import Callback
    from core.optimizers import SGD

    class Clock(Callback):
        def __init__(self):
            super().__init__()
            self.ends = []

        def on_train_batch_end(self, batch, logs=None):
            self.ends.append(time.perf_counter())
            timed = len(self.ends) - WARMUP
            self.model.stop_training = timed > 0 and _timed_enough(timed, self.ends[-1] - self.ends[WARMUP - 1], job)

    model = zoo.build(job["model"], seed=0)
    model.compile(SGD(lr=LR, momentum=MOMENTUM), "crossentropy")
    x, y = ds.x_train, ds.y_train   # in the one shuffled order the runner wrote (``write_data``)
    clock = Clock()
    model.fit(x, y, epochs=1, batch_size=job["batch"], shuffle=False, callbacks=[clock], verbose=0)
    return (clock.ends[-1] - clock.ends[WARMUP - 1]) / (len(clock.ends) - WARMUP)


def _timed_enough(steps, seconds, job):
    """Whether a job has timed its ``steps`` batches and ``MIN_SECONDS`` of them (the warm-up not counted)."""
    return steps >= job["steps"] and seconds >= MIN_SECONDS


def numpynet_predict(ds, job):
    from core import zoo
    model = zoo.build(job["model"], seed=0)
    x = ds.x_test[:PREDICT_N]
    model.predict(x[:256])
    return _median_seconds(lambda: model.predict(x, batch_size=256))


def _median_seconds(fn):
    times = []
    for _ in range(PREDICT_REPEATS):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def torch_model(name, torch):
    """PyTorch's twin of zoo preset ``name`` (core/zoo.py), ending in logits: the loss applies softmax."""
    nn = torch.nn
    conv = {
        "cnn_small": [nn.Conv2d(1, 5, 3), nn.ReLU(), nn.MaxPool2d(2)],
        "lenet5": [nn.Conv2d(1, 20, 5), nn.MaxPool2d(2), nn.Conv2d(20, 50, 5), nn.MaxPool2d(2)],
        "alexnet_mini": [nn.Conv2d(1, 32, 4, 2), nn.ReLU(), nn.Conv2d(32, 64, 3, 2, 1), nn.ReLU(),
                         nn.Conv2d(64, 128, 3, 2, 1), nn.ReLU()],
        "vgg_mini": [*_torch_vgg_block(nn, 1, 32), *_torch_vgg_block(nn, 32, 64)],
    }.get(name, [])
    head = {
        "mlp": [nn.Linear(784, 100), nn.ReLU(), nn.Linear(100, 100), nn.ReLU(), nn.Linear(100, 10)],
        "mlp_wide": [nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 1024), nn.ReLU(), nn.Linear(1024, 10)],
        "cnn_small": [nn.Linear(845, 100), nn.ReLU(), nn.Linear(100, 10)],
        "lenet5": [nn.Linear(800, 500), nn.ReLU(), nn.Linear(500, 10)],
        "alexnet_mini": [nn.Linear(2048, 1024), nn.ReLU(), nn.Linear(1024, 10)],
        "vgg_mini": [nn.Linear(3136, 256), nn.BatchNorm1d(256), nn.ReLU(), nn.Dropout(0.5), nn.Linear(256, 10)],
    }[name]
    return nn.Sequential(*conv, nn.Flatten(), *head)


def _torch_vgg_block(nn, c, f):
    """numpynet's BatchNorm momentum 0.9 is PyTorch's 0.1 (the weight of the new batch)."""
    return [nn.Conv2d(c, f, 3, padding=1), nn.BatchNorm2d(f, momentum=0.1), nn.ReLU(),
            nn.Conv2d(f, f, 3, padding=1), nn.BatchNorm2d(f, momentum=0.1), nn.ReLU(),
            nn.MaxPool2d(2), nn.Dropout(0.25)]


def torch_train(ds, job):
    import torch
    torch.manual_seed(0)
    model = torch_model(job["model"], torch)
    opt = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    loss_fn = torch.nn.CrossEntropyLoss()
    x, y = torch.from_numpy(ds.x_train), torch.from_numpy(ds.y_train)
    b = job["batch"]
    for step, i in enumerate(range(0, len(x) - b + 1, b)):
        opt.zero_grad()
        loss = loss_fn(model(x[i:i + b]), y[i:i + b])
        loss.backward()
        opt.step()
        loss.item()   # as numpynet hands each batch's loss to its callbacks
        if step + 1 == WARMUP:
            start = time.perf_counter()
        elif step >= WARMUP and _timed_enough(step + 1 - WARMUP, time.perf_counter() - start, job):
            break
    return (time.perf_counter() - start) / (step + 1 - WARMUP)


def torch_predict(ds, job):
    import torch
    torch.manual_seed(0)
    model = torch_model(job["model"], torch).eval()
    x = torch.from_numpy(ds.x_test[:PREDICT_N])
    with torch.no_grad():
        model(x[:256])
        return _median_seconds(lambda: [torch.softmax(model(x[i:i + 256]), 1).numpy() for i in range(0, len(x), 256)])


def write_data(folder):
    """MNIST as .npy files in ``folder``, the training set in one shuffled order, for the workers to load with
    NumPy alone: a PyTorch worker that imported ``core`` to load it would train with numpynet's malloc settings
    (``core/allocator.py``), which made its alexnet_mini steps 27-29 ms -> 23-24 ms at batch 128."""
    from core import datasets
    ds = datasets.load("mnist")
    order = np.random.default_rng(0).permutation(len(ds.x_train))
    arrays = {"x_train": ds.x_train[order], "y_train": ds.y_train[order], "x_test": ds.x_test}
    for name, a in arrays.items():
        np.save(os.path.join(folder, name + ".npy"), a)
    return folder


def worker(framework, folder):
    """Answer jobs from the runner until stdin closes: ``{"kind", "model", "batch", "steps"}`` -> seconds."""
    if framework == "torch":
        import torch
        torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", os.cpu_count())))
    if framework == "numpynet" or os.environ.get(TORCH_MALLOC) == "numpynet":
        import core   # noqa: F401  (as in a user's process, before any data: it sets the allocator)
    ds = types.SimpleNamespace(**{name: np.load(os.path.join(folder, name + ".npy"))
                                  for name in ("x_train", "y_train", "x_test")})
    jobs = {("numpynet", "train"): numpynet_train, ("numpynet", "predict"): numpynet_predict,
            ("torch", "train"): torch_train, ("torch", "predict"): torch_predict}
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        job = json.loads(line)
        seconds = jobs[framework, job["kind"]](ds, job)
        print(json.dumps({"seconds": seconds, "peak_mb": peak_mb()}), flush=True)


def peak_mb():
    """This process's peak resident memory since it started, in MB.

    Linux's VmHWM belongs to the program the process runs; ``ru_maxrss`` also
    keeps the peak of the runner it was forked from, which has loaded MNIST
    (every worker read 695 MB that way, idle or training).
    """
    try:
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) / 1024
    except OSError:   # not Linux
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ----- the runner -----------------------------------------------------------------------------------

class Worker:
    """A worker process for one framework (numpynet from ``tree``, or PyTorch) with its BLAS threads."""

    def __init__(self, label, framework, tree, args, threads=None):
        env = {**os.environ, "PYTHONPATH": tree, TORCH_MALLOC: args.torch_malloc}
        if threads:
            env.update(OPENBLAS_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads),
                       NUMPYNET_THREADS=str(threads), NUMPYNET_BLAS_THREADS=str(threads))   # the latter: --before
                                                                                           # trees before parallel.py
        self.label = label
        self.proc = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--worker", framework,
                                      "--data", args.data],
                                     cwd=tree, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self._read()

    def run(self, **job):
        self.proc.stdin.write(json.dumps(job) + "\n")
        self.proc.stdin.flush()
        return self._read()

    def _read(self):
        line = self.proc.stdout.readline()
        if not line:
            raise SystemExit(f"the {self.label} worker died (see its error above)")
        return json.loads(line)

    def close(self):
        self.proc.stdin.close()
        self.proc.wait()


def alternate(workers, runs, job):
    """{label: [seconds per run]}: the job on every worker, in an order rotated each run."""
    times = {w.label: [] for w in workers}
    for r in range(runs):
        for w in workers[r % len(workers):] + workers[:r % len(workers)]:
            time.sleep(SETTLE)
            times[w.label].append(w.run(**job)["seconds"])
    return times


def ratios(mine, ref):
    """(median of the per-run ratios, ratio of the two fastest runs)."""
    return statistics.median(a / b for a, b in zip(mine, ref)), min(mine) / min(ref)


def training_table(workers, pairs, args):
    """Samples/s and s/epoch of every worker, and the time ratio of each (mine, reference) pair."""
    print(f"Training: at least {args.steps} batches and {MIN_SECONDS:g} s timed after {WARMUP} warm-up batches, "
          f"{args.runs} alternated runs; "
          "s/epoch = 60,000 images at the median speed. Ratio = numpynet time / PyTorch time (below 1: faster)")
    print(f"{'model':<13}{'batch':>6}" + "".join(f"{w.label + ' samples/s':>24}{'s/epoch':>9}" for w in workers)
          + _ratio_heads(pairs))
    for model in args.models:
        for batch in args.batch_sizes:
            t = alternate(workers, args.runs, {"kind": "train", "model": model, "batch": batch, "steps": args.steps})
            row = f"{model:<13}{batch:>6}"
            for w in workers:
                sec = statistics.median(t[w.label])
                row += f"{batch / sec:>24,.0f}{60000 * sec / batch:>9.2f}"   # mlp: about a second
            print(row + _ratio_cells(t, pairs), flush=True)


def predict_table(workers, pairs, args):
    print(f"\nPrediction: {PREDICT_N:,} test images in batches of 256, probabilities out, the median of "
          f"{PREDICT_REPEATS} passes, {args.runs} alternated runs")
    print(f"{'model':<13}" + "".join(f"{w.label + ' samples/s':>24}" for w in workers) + _ratio_heads(pairs))
    for model in args.models:
        t = alternate(workers, args.runs, {"kind": "predict", "model": model})
        row = f"{model:<13}" + "".join(f"{PREDICT_N / statistics.median(t[w.label]):>24,.0f}" for w in workers)
        print(row + _ratio_cells(t, pairs), flush=True)


def _ratio_heads(pairs):
    return "".join(f"{mine + '/' + ref + ' med':>28}{'quiet':>7}" for mine, ref in pairs)


def _ratio_cells(times, pairs):
    return "".join(f"{med:>27.2f}x{quiet:>6.2f}x" for med, quiet in (ratios(times[m], times[r]) for m, r in pairs))


def memory_table(frameworks, args):
    """Peak RSS of a fresh process (MNIST loaded) training vgg_mini at batch 128: a training epoch's peak
    is reached in its first batches, since every batch allocates the same; ``--steps`` batches are run."""
    print(f"\nPeak memory, vgg_mini, batch 128, fresh process with MNIST loaded, {args.steps} batches:")
    for label, framework in frameworks:
        w = Worker(label, framework, args.tree, args)
        idle = w.run(kind="predict", model="mlp")["peak_mb"]
        peak = w.run(kind="train", model="vgg_mini", batch=128, steps=args.steps)["peak_mb"]
        w.close()
        print(f"  {label:<10} {peak:,.0f} MB (the process with MNIST and a tiny model: "
              f"{idle:,.0f} MB; training added {peak - idle:,.0f})", flush=True)


def main():
    from core import zoo
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--worker", choices=["numpynet", "torch"], help=argparse.SUPPRESS)
    ap.add_argument("--models", nargs="+", default=zoo.names(), choices=zoo.names())
    ap.add_argument("--batch-sizes", nargs="+", type=int, default=[64, 128])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--steps", type=int, default=30, help="training batches timed per job")
    ap.add_argument("--before", metavar="TREE", help="also time numpynet from this checkout")
    ap.add_argument("--memory", action="store_true", help="peak memory of vgg_mini training, each framework")
    ap.add_argument("--threads", nargs="+", type=int, default=[1, os.cpu_count()],
                    help="thread counts: each framework runs with each, and is compared at the same count")
    ap.add_argument("--busy", type=int, default=0, metavar="N", help="N processes spinning on the CPU meanwhile")
    ap.add_argument("--no-torch", action="store_true", help="skip PyTorch")
    ap.add_argument("--torch-malloc", choices=["default", "numpynet"], default="default",
                    help="PyTorch with glibc's malloc as it comes, or with numpynet's settings (core/allocator.py)")
    ap.add_argument("--data", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        return worker(args.worker, args.data)
    args.tree = os.path.dirname(HERE)
    if not args.no_torch:
        try:
            import torch
            torch_version = torch.__version__
        except ImportError:
            print("PyTorch is not installed: no comparison (pip install torch==2.13.0)\n")
            args.no_torch = True
    print(machine.describe("" if args.no_torch else f", PyTorch {torch_version}"))
    busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(args.busy)]
    try:
        with tempfile.TemporaryDirectory(prefix="train_speed-") as folder:
            args.data = write_data(folder)
            run_tables(args)
    finally:
        for p in busy:
            p.kill()


def run_tables(args):
    """The training and prediction tables (and ``--memory``'s), every framework at every thread count."""
    threads = sorted(set(args.threads))
    print(f"MNIST, SGD lr {LR} momentum {MOMENTUM}, float32; each framework with {' and '.join(map(str, threads))} "
          "thread(s): NUMPYNET_THREADS for numpynet, torch.set_num_threads for PyTorch"
          + (f"; {args.busy} other process(es) spinning on the CPU meanwhile" if args.busy else "")
          + f"; PyTorch with {MALLOC_WORDS[args.torch_malloc]}\n")
    workers, pairs = [], []
    for n in threads:
        mine = [Worker(f"np-{n}t", "numpynet", args.tree, args, threads=n)]
        if args.before:
            mine.insert(0, Worker(f"before-{n}t", "numpynet", os.path.abspath(args.before), args, threads=n))
        workers += mine
        if not args.no_torch:
            workers.append(Worker(f"torch-{n}t", "torch", args.tree, args, threads=n))
            pairs += [(w.label, f"torch-{n}t") for w in mine]
    training_table(workers, pairs, args)
    predict_table(workers, pairs, args)
    for w in workers:
        w.close()
    if args.memory:
        memory_table([("numpynet", "numpynet")] + ([] if args.no_torch else [("PyTorch", "torch")]), args)


if __name__ == "__main__":
    main()
