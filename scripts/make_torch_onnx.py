"""Write the ONNX files PyTorch's own exporter makes, for the import tests (tests/data/onnx/).

    NUMPYNET_DATA=/path/to/data python scripts/make_torch_onnx.py [--out tests/data/onnx]

Needs PyTorch (not a numpynet dependency; the tests only read what this writes). Trains two small
networks briefly on MNIST and exports each in eval mode with a dynamic batch axis:

- ``lenet_torch.onnx``: LeNet-style Conv-ReLU-MaxPool twice, ``nn.Flatten``, three Linear layers
  (Conv, Relu, MaxPool, Flatten, Gemm with transB=1), ending in logits as PyTorch nets do;
- ``bn_torch.onnx``: convolutions with ``padding=1`` and BatchNorm2d, a max and an average pool,
  ``x.reshape(-1, features)`` (a Reshape node), Linear + BatchNorm1d + Dropout, logits;
- ``pools_torch.onnx``: overlapping max and average pools with padding (``count_include_pad`` as
  PyTorch's default), a strided conv, LeakyReLU and Tanh, and ``x.view(x.size(0), -1)``, which the
  exporter writes as Shape, Gather, Unsqueeze, Concat and Reshape.

Beside each, ``<name>.npz`` holds ``x`` (the first 64 MNIST test images) and ``logits``, what
PyTorch computed for them.
"""
import argparse
import sys
from pathlib import Path

import numpy as np
import torch
from torch import nn

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core import datasets  # noqa: E402

SAMPLES = 64


class BNNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
                                      nn.Conv2d(8, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.AvgPool2d(2))
        self.head = nn.Sequential(nn.Linear(16 * 7 * 7, 32), nn.BatchNorm1d(32), nn.ReLU(), nn.Dropout(0.3),
                                  nn.Linear(32, 10))

    def forward(self, x):
        return self.head(self.features(x).reshape(-1, 16 * 7 * 7))


class PoolNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, 6, 3, padding=1), nn.LeakyReLU(0.1), nn.MaxPool2d(3, 2, padding=1),
                                      nn.Conv2d(6, 8, 3, stride=2, padding=1), nn.Tanh(), nn.AvgPool2d(3, 2, padding=1))
        self.head = nn.Linear(8 * 4 * 4, 10)

    def forward(self, x):
        x = self.features(x)
        return self.head(x.view(x.size(0), -1))


def lenet():
    return nn.Sequential(nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Flatten(), nn.Linear(16 * 4 * 4, 120), nn.ReLU(), nn.Linear(120, 84),
                         nn.ReLU(), nn.Linear(84, 10))


def train(net, x, y, steps=600, batch=64):
    """A short Adam run: enough for sensible predictions and BatchNorm statistics that are not the defaults."""
    opt = torch.optim.Adam(net.parameters(), lr=2e-3)
    gen = torch.Generator().manual_seed(0)
    net.train()
    for _ in range(steps):
        idx = torch.randint(len(x), (batch,), generator=gen)
        loss = nn.functional.cross_entropy(net(x[idx]), y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    return net.eval()


def export(net, x_test, path):
    torch.onnx.export(net, (x_test[:2],), str(path), dynamo=False, opset_version=17, input_names=["input"],
                      output_names=["logits"], dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}})
    with torch.no_grad():
        logits = net(x_test).numpy()
    np.savez_compressed(path.with_suffix(".npz"), x=x_test.numpy(), logits=logits)
    print(f"wrote {path} ({path.stat().st_size:,} bytes) and {path.with_suffix('.npz').name}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "tests" / "data" / "onnx")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    ds = datasets.load("mnist", download=False)
    x, y = torch.from_numpy(ds.x_train), torch.from_numpy(ds.y_train)
    x_test = torch.from_numpy(ds.x_test[:SAMPLES])
    export(train(lenet(), x, y), x_test, args.out / "lenet_torch.onnx")
    export(train(BNNet(), x, y), x_test, args.out / "bn_torch.onnx")
    export(train(PoolNet(), x, y), x_test, args.out / "pools_torch.onnx")


if __name__ == "__main__":
    main()
