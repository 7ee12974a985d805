"""Forward and backward time per layer for one training batch, as a table.

    python benchmarks/profile_layers.py [--model lenet5] [--batch-size 128] [--repeats 20]

Random inputs suffice: the cost of a layer does not depend on the pixel values.
The loss and the optimizer step are timed too, so the rows add up to a step.
"""
import argparse
import time

import numpy as np

from core import parallel, zoo
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


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="lenet5", choices=zoo.names())
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--repeats", type=int, default=20)
    args = ap.parse_args()
    model = zoo.build(args.model, seed=0)
    model.compile(SGD(lr=0.01, momentum=0.9), "crossentropy")
    rng = np.random.default_rng(0)
    x = rng.random((args.batch_size, *model.input_shape), dtype=np.float32)
    y = rng.integers(0, 10, args.batch_size)
    rows = profile(model, x, y, args.repeats)
    total = sum(f + b for _, _, f, b in rows)
    print(f"{args.model}, batch {args.batch_size}: {total * 1e3:.2f} ms a step, "
          f"{args.batch_size / total:,.0f} samples/s\n")
    print(f"{'layer':<16}{'output':<16}{'forward ms':>11}{'backward ms':>12}{'share':>8}")
    for name, shape, f, b in rows:
        print(f"{name:<16}{shape:<16}{f * 1e3:>11.3f}{b * 1e3:>12.3f}{(f + b) / total:>8.1%}")


if __name__ == "__main__":
    main()
