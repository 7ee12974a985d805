"""Can a network that never saw a handwritten digit read MNIST?

Trains the zoo's lenet5 on ``datasets.synthetic_digits`` only (rendered
offline from fonts) and measures it on the real MNIST test set, which is
what the app's offline first run relies on. Prints a table; the target is
at least 70% on MNIST.

    NUMPYNET_DATA=../shared/data python benchmarks/synthetic_to_mnist.py [--n 20000] [--epochs 2]
"""
import argparse
import sys
import time
from pathlib import Path


sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import machine
from core import datasets, zoo
from core.losses import CrossEntropy
from core.optimizers import SGD


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20000, help="synthetic training images")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    start = time.perf_counter()
    synthetic = datasets.synthetic_digits(args.n, seed=args.seed)
    made = time.perf_counter() - start
    mnist = datasets.load("mnist", download=False)

    model = zoo.build("lenet5", seed=args.seed)
    model.compile(SGD(lr=0.05, momentum=0.9), CrossEntropy())
    start = time.perf_counter()
    model.fit(synthetic.x_train, synthetic.y_train, epochs=args.epochs, batch_size=128, seed=args.seed)
    trained = time.perf_counter() - start

    on_synthetic = model.evaluate(synthetic.x_test, synthetic.y_test)["accuracy"]
    predicted = model.predict(mnist.x_test).argmax(axis=1)
    on_mnist = float((predicted == mnist.y_test).mean())
    per_class = [float((predicted[mnist.y_test == d] == d).mean()) for d in range(10)]

    print(machine.describe())
    rows = [("synthetic training images", f"{len(synthetic.x_train):,}"),
            ("generation time", f"{made:.1f} s"),
            ("lenet5 epochs (SGD 0.05, momentum 0.9, batch 128)", f"{args.epochs} in {trained:.0f} s"),
            ("accuracy on held-out synthetic digits", f"{on_synthetic:.1%}"),
            ("accuracy on real MNIST test (10,000)", f"{on_mnist:.1%}"),
            ("MNIST accuracy per digit 0-9", " ".join(f"{a:.0%}" for a in per_class))]
    width = max(len(r[0]) for r in rows)
    print("\n".join(f"{name:<{width}}  {value}" for name, value in rows))
    print(f"target >= 70% on MNIST: {'met' if on_mnist >= 0.70 else 'NOT met'}")
    return 0 if on_mnist >= 0.70 else 1


if __name__ == "__main__":
    sys.exit(main())
