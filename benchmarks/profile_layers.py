"""Forward and backward time per layer for one training batch, as a table.

    python benchmarks/profile_layers.py [--model lenet5] [--batch-size 128] [--repeats 20] [--products]

Random inputs suffice: the cost of a layer does not depend on the pixel values.
The loss and the optimizer step are timed too, so the rows add up to a step.

``--products`` adds a second table: each Dense and im2col Conv2D layer's
products (forward, dW, dx) as single matrix products on one thread, NumPy's
BLAS beside PyTorch's ``torch.mm`` when PyTorch is installed. A layer's time
above its products' is what it does besides BLAS; the two columns say whether
a gap to PyTorch lies in the BLAS or in the algorithm around it.
"""
import argparse
import functools
import math
import time

import numpy as np
from threadpoolctl import threadpool_limits

import machine
from core import parallel, zoo
from core.layers import Conv2D, Dense
from core.optimizers import SGD


@parallel.limited   # the threads fit uses
def profile(model, x, y, repeats):
    """Median seconds per layer for forward and backward, plus loss and update."""
    fwd = {i: [] for i in range(len(model.layers))}
    bwd = {i: [] for i in range(len(model.layers))}
    extra = {"loss": [], "optimizer step": []}
    body, head = model._loss_path()   # what a training step runs: a fused softmax is left to the loss
    stages = [(lambda a, layer=layer: layer.forward(a, True), layer.backward) for layer in body]
    if head is not None:
        stages.append((head.linear_forward, head.linear_backward))
    for _ in range(repeats + 2):
        out = x
        for i, (forward, _) in enumerate(stages):
            t = time.perf_counter()
            out = forward(out)
            fwd[i].append(time.perf_counter() - t)
        t = time.perf_counter()
        _, grad = model.loss.value_and_grad(out, y)
        extra["loss"].append(time.perf_counter() - t)
        for i in reversed(range(len(stages))):
            if grad is None:   # below the first layer with weights nothing needs a gradient (an MLP's Flatten)
                break
            t = time.perf_counter()
            grad = stages[i][1](grad)
            bwd[i].append(time.perf_counter() - t)
        t = time.perf_counter()
        model.optimizer.step(model._slots())
        extra["optimizer step"].append(time.perf_counter() - t)
    med = lambda v: float(np.median(v[2:])) if v else 0.0  # noqa: E731 (first two are warm-up)
    rows = [(layer.name, str(layer.output_shape), med(fwd[i]), med(bwd[i]))
            for i, layer in enumerate(model.layers) if fwd[i]]
    rows += [(k, "", med(v), 0.0) for k, v in extra.items()]
    return rows


def products(layer, batch):
    """(label, (m, k, n)) of each product a training step of ``layer`` runs on a batch, in im2col form;
    none for a layer of another kind or a Winograd convolution, whose products are not one GEMM each."""
    if isinstance(layer, Dense):
        fan_in, units = layer.params["W"].shape
        rows = batch
    elif isinstance(layer, Conv2D) and not layer.winograd:
        units, fan_in = layer.filters, math.prod(layer.params["W"].shape[1:])
        rows = batch * math.prod(layer.output_shape[1:])
    else:
        return []
    shapes = [("forward", (rows, fan_in, units)), ("dW", (fan_in, rows, units))]
    return shapes + ([("dx", (rows, units, fan_in))] if layer.need_input_grad else [])


def time_products(model, batch, repeats):
    """Rows (layer, product, shape, NumPy s, PyTorch s or None), each product timed alone on one thread."""
    try:
        import torch
        torch.set_num_threads(1)
    except ImportError:
        torch = None
    rng = np.random.default_rng(0)
    rows = []
    with threadpool_limits(1):
        for layer in model.layers:
            for label, (m, k, n) in products(layer, batch):
                a, b = rng.random((m, k), dtype=np.float32), rng.random((k, n), dtype=np.float32)
                mine = _median_time(functools.partial(np.matmul, a, b), repeats)
                theirs = None
                if torch is not None:
                    ta, tb = torch.from_numpy(a), torch.from_numpy(b)
                    theirs = _median_time(functools.partial(torch.mm, ta, tb), repeats)
                rows.append((layer.name, label, f"{m}x{k}x{n}", mine, theirs))
    return rows


def _median_time(fn, repeats):
    times = []
    for _ in range(repeats + 2):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times[2:]))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="lenet5", choices=zoo.names())
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--products", action="store_true", help="also time each layer's products alone, one thread")
    args = ap.parse_args()
    model = zoo.build(args.model, seed=0)
    model.compile(SGD(lr=0.01, momentum=0.9), "crossentropy")
    rng = np.random.default_rng(0)
    x = rng.random((args.batch_size, *model.input_shape), dtype=np.float32)
    y = rng.integers(0, 10, args.batch_size)
    print(machine.describe())
    rows = profile(model, x, y, args.repeats)
    total = sum(f + b for _, _, f, b in rows)
    print(f"{args.model}, batch {args.batch_size}: {total * 1e3:.2f} ms a step, "
          f"{args.batch_size / total:,.0f} samples/s\n")
    print(f"{'layer':<16}{'output':<16}{'forward ms':>11}{'backward ms':>12}{'share':>8}")
    for name, shape, f, b in rows:
        print(f"{name:<16}{shape:<16}{f * 1e3:>11.3f}{b * 1e3:>12.3f}{(f + b) / total:>8.1%}")
    if args.products:
        print(f"\n{'layer':<16}{'product':<9}{'m x k x n':<18}{'NumPy ms':>9}{'PyTorch ms':>11}   (one thread each)")
        for name, label, shape, mine, theirs in time_products(model, args.batch_size, args.repeats):
            torch_ms = "-" if theirs is None else f"{theirs * 1e3:.3f}"
            print(f"{name:<16}{label:<9}{shape:<18}{mine * 1e3:>9.3f}{torch_ms:>11}")


if __name__ == "__main__":
    main()
