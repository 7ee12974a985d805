"""How long does a point map take?

    python benchmarks/point_map.py [--model saved_models/lenet5-mnist] [--points 10000] [--tsne 5000]

For every layer of the model, times the activations of ``--points`` MNIST test
images (``core.embedding.layer_features``) and their PCA
(``core.embedding.pca``) apart, best of three, and prints a table. With
scikit-learn installed (``pip install "numpynet-studio[tsne]"``) it also times
t-SNE on ``--tsne`` points of the first Dense layer. MNIST comes from
$NUMPYNET_DATA or the usual places; the synthetic digits stand in without it.
"""
import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import machine  # noqa: E402
from core import DatasetError, datasets, load_model  # noqa: E402
from core.embedding import layer_features, layer_points, pca  # noqa: E402
from core.layers import Dense  # noqa: E402


def best_of(repeats, work):
    """(seconds of the fastest of ``repeats`` runs, the last result)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - start)
    return min(times), result


def images(n):
    try:
        return datasets.load("mnist", download=False).x_test[:n], "MNIST test"
    except DatasetError:
        return datasets.synthetic_digits(n).x_train[:n], "synthetic digits"


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", default=str(ROOT / "saved_models" / "lenet5-mnist"))
    p.add_argument("--points", type=int, default=10000)
    p.add_argument("--tsne", type=int, default=5000, help="points for t-SNE (0 skips it)")
    args = p.parse_args()
    model = load_model(args.model)
    x, source = images(args.points)
    print(machine.describe())
    print(f"{len(x):,} {source} images through {Path(args.model).name}; seconds, best of 3\n")
    print(f"{'layer':<14}{'features':>9}{'activations':>13}{'PCA':>8}")
    for i, layer in enumerate(model.layers):
        seconds, features = best_of(3, lambda i=i: layer_features(model, x, i))
        pca_seconds, _ = best_of(3, lambda features=features: pca(features))
        print(f"{layer.name:<14}{features.shape[1]:>9}{seconds:>13.3f}{pca_seconds:>8.3f}")
    if args.tsne:
        dense = next(i for i, layer in enumerate(model.layers) if isinstance(layer, Dense))
        try:
            cpu = time.process_time()
            seconds, _ = best_of(1, lambda: layer_points(model, x[:args.tsne], dense, method="tsne"))
            # CPU time as well: on a shared machine the wall time measures the neighbours too
            print(f"\nt-SNE of {min(args.tsne, len(x)):,} points of {model.layers[dense].name}: {seconds:.1f} s "
                  f"({time.process_time() - cpu:.1f} s of CPU time)")
        except ImportError as e:
            print(f"\nt-SNE skipped: {e}")


if __name__ == "__main__":
    main()
