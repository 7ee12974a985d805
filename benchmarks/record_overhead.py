"""What recording a run costs: headless MNIST epochs with and without a ``runs.Recorder``.

    NUMPYNET_DATA=../shared/data python benchmarks/record_overhead.py [--repeats 5] [--models mlp lenet5]

Epochs with and without the Recorder alternate (so a busy machine slows both
alike) on fresh models, batch 128, SGD momentum 0.9, seed 0. Prints the median
seconds per epoch of each, the overhead, and the time spent inside the
Recorder's own hooks (its CSV rows, run.json and model saves), which a noisy
machine does not blur. The target is at most 2%.
"""
import argparse
import statistics
import tempfile
import time

import machine
from core import datasets, runs, zoo
from core.callbacks import Callback
from core.optimizers import SGD

HOOKS = ("on_train_begin", "on_epoch_begin", "on_batch_end", "on_epoch_end", "on_train_end")


class Timed(Callback):
    """Forwards every hook to ``inner`` and adds up the seconds spent in it."""

    def __init__(self, inner):
        self.inner, self.seconds = inner, 0.0
        for hook in HOOKS:
            setattr(self, hook, self._timed(getattr(inner, hook)))

    def _timed(self, method):
        def call(*args, **kwargs):
            self.inner.model, self.inner.params = self.model, self.params
            start = time.perf_counter()
            method(*args, **kwargs)
            self.seconds += time.perf_counter() - start
        return call


def one_epoch(name, ds, root):
    """Seconds for one epoch; with ``root``, recorded there (and the seconds inside the Recorder)."""
    model = zoo.build(name, seed=0)
    model.compile(SGD(lr=0.05, momentum=0.9), "crossentropy")
    timed = [Timed(runs.Recorder(root=root))] if root else []
    start = time.perf_counter()
    model.fit(ds.x_train, ds.y_train, epochs=1, batch_size=128, seed=0, callbacks=timed)
    return time.perf_counter() - start, timed[0].seconds if timed else 0.0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--models", nargs="+", default=["mlp", "lenet5"], choices=zoo.names())
    ap.add_argument("--limit", type=int, help="train on the first N images (default: all 60,000)")
    args = ap.parse_args()
    ds = datasets.load("mnist")
    ds.x_train, ds.y_train = ds.x_train[:args.limit], ds.y_train[:args.limit]
    print(machine.describe())
    print(f"MNIST, {len(ds.x_train):,} images an epoch, batch 128, {args.repeats} alternating repeats each\n")
    print(f"{'model':<10}{'plain s/epoch':>14}{'recorded':>10}{'overhead':>10}{'in Recorder':>13}{'share':>8}")
    with tempfile.TemporaryDirectory() as root:
        for name in args.models:
            plain, recorded, inside = [], [], []
            for _ in range(args.repeats):
                plain.append(one_epoch(name, ds, None)[0])
                seconds, hooks = one_epoch(name, ds, root)
                recorded.append(seconds)
                inside.append(hooks)
            p, r, i = statistics.median(plain), statistics.median(recorded), statistics.median(inside)
            print(f"{name:<10}{p:>14.3f}{r:>10.3f}{(r / p - 1):>+10.1%}{i:>12.3f}s{i / r:>8.2%}")


if __name__ == "__main__":
    main()
