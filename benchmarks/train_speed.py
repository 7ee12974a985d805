"""Training speed on MNIST: numpynet against PyTorch (when installed) in the same run.

    NUMPYNET_DATA=../shared/data python benchmarks/train_speed.py [--epochs 1] [--models lenet5 mlp_wide]

Batch 128, SGD lr 0.05 momentum 0.9, float32, seed 0, the full 60,000 training
images per epoch. Prints seconds per epoch, samples/s, test accuracy, the
ratio to PyTorch, predict latency for one image, and the process's peak memory.
"""
import argparse
import platform
import resource
import time

import numpy as np

from core import datasets, zoo
from core.optimizers import SGD

BATCH, LR, MOMENTUM = 128, 0.05, 0.9


def numpynet_run(name, ds, epochs):
    model = zoo.build(name, seed=0)
    model.compile(SGD(lr=LR, momentum=MOMENTUM), "crossentropy")
    start = time.perf_counter()
    model.fit(ds.x_train, ds.y_train, epochs=epochs, batch_size=BATCH, seed=0)
    seconds = (time.perf_counter() - start) / epochs
    return model, seconds, model.evaluate(ds.x_test, ds.y_test)["accuracy"]


def predict_latency(model, image, repeats=200):
    model.predict(image)
    start = time.perf_counter()
    for _ in range(repeats):
        model.predict(image)
    return (time.perf_counter() - start) / repeats


def torch_model(name, torch):
    nn = torch.nn
    if name == "lenet5":
        return nn.Sequential(nn.Conv2d(1, 20, 5), nn.MaxPool2d(2), nn.Conv2d(20, 50, 5), nn.MaxPool2d(2),
                             nn.Flatten(), nn.Linear(800, 500), nn.ReLU(), nn.Linear(500, 10))
    if name == "mlp_wide":
        return nn.Sequential(nn.Flatten(), nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 1024), nn.ReLU(),
                             nn.Linear(1024, 10))
    return None


def torch_run(name, ds, epochs, torch):
    """The same model, data order and settings in PyTorch; None if it has no twin here."""
    torch.manual_seed(0)
    model = torch_model(name, torch)
    if model is None:
        return None
    opt = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    loss_fn = torch.nn.CrossEntropyLoss()
    x, y = torch.from_numpy(ds.x_train), torch.from_numpy(ds.y_train)
    rng = np.random.default_rng(0)
    start = time.perf_counter()
    for _ in range(epochs):
        order = torch.from_numpy(rng.permutation(len(x)))
        for i in range(0, len(x), BATCH):
            idx = order[i:i + BATCH]
            opt.zero_grad()
            loss_fn(model(x[idx]), y[idx]).backward()
            opt.step()
    seconds = (time.perf_counter() - start) / epochs
    with torch.no_grad():
        acc = (model(torch.from_numpy(ds.x_test)).argmax(1).numpy() == ds.y_test).mean()
    return seconds, float(acc)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--models", nargs="+", default=["lenet5", "mlp_wide"], choices=zoo.names())
    ap.add_argument("--no-torch", action="store_true", help="skip the PyTorch comparison")
    args = ap.parse_args()
    ds = datasets.load("mnist")
    n = len(ds.x_train)

    rows, latency = [], {}
    for name in args.models:
        model, sec, acc = numpynet_run(name, ds, args.epochs)
        rows.append((name, "numpynet", sec, acc))
        latency[name] = predict_latency(model, ds.x_test[:1])
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # before torch loads

    torch = None
    if not args.no_torch:
        try:
            import torch
        except ImportError:
            print("PyTorch is not installed: no comparison (pip install torch==2.13.0)\n")
    if torch is not None:
        for name in args.models:
            result = torch_run(name, ds, args.epochs, torch)
            if result:
                rows.append((name, f"PyTorch {torch.__version__}", *result))

    print(f"machine: {platform.processor() or platform.machine()}, {__import__('os').cpu_count()} cores, "
          f"Python {platform.python_version()}, NumPy {np.__version__}")
    print(f"MNIST, {n:,} images an epoch, batch {BATCH}, SGD lr {LR} momentum {MOMENTUM}, "
          f"{args.epochs} epoch(s)\n")
    print(f"{'model':<10}{'framework':<22}{'s/epoch':>9}{'samples/s':>11}{'test acc':>10}{'vs PyTorch':>12}")
    for name, fw, sec, acc in rows:
        ref = next((s for m, f, s, _ in rows if m == name and f.startswith("PyTorch")), None)
        ratio = f"{sec / ref:.2f}x" if ref and fw == "numpynet" else ""
        print(f"{name:<10}{fw:<22}{sec:>9.2f}{n / sec:>11,.0f}{acc:>10.4f}{ratio:>12}")
    print()
    for name, sec in latency.items():
        print(f"predict one image, {name}: {sec * 1e3:.2f} ms")
    print(f"peak memory (numpynet runs, MNIST loaded): {peak_mb:,.0f} MB")


if __name__ == "__main__":
    main()
