"""ONNX export: every layer, preset and pretrained model runs in onnxruntime as ``predict`` does."""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from core import MissingPackageError, ModelFileError, Sequential, datasets, load_model, zoo
from core.interop import export_onnx, import_onnx
from core.layers import (AvgPool2D, BatchNorm, Conv2D, Dense, Dropout, Flatten, LeakyReLU, MaxPool2D, ReLU, Sigmoid,
                         Softmax, Tanh)

SAVED = Path(__file__).resolve().parents[1] / "saved_models"
PRETRAINED = ("lenet5-mnist", "mlp-mnist", "cnn-fashion-mnist")
IMAGES = 300


def run_onnx(path, x):
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: x})[0]


def assert_runs_as_predict(model, x, tmp_path, atol=1e-5):
    path = export_onnx(model, tmp_path / "model.onnx")
    got, want = run_onnx(path, x), model.predict(x)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, atol=atol, rtol=0)
    assert (got.argmax(axis=1) == want.argmax(axis=1)).all()
    return path


def metadata(path):
    return {p.key: p.value for p in onnx.load(str(path)).metadata_props}


@pytest.mark.parametrize("name", zoo.names())
def test_every_preset_runs_in_onnxruntime_as_predict(name, mnist, tmp_path):
    model = zoo.build(name, seed=3)
    assert_runs_as_predict(model, mnist.x_test[:IMAGES], tmp_path)


@pytest.mark.parametrize("name", PRETRAINED)
def test_pretrained_models_run_in_onnxruntime_on_their_test_images(name, mnist, tmp_path):
    model = load_model(SAVED / name)
    ds = datasets.load(model.meta["dataset"], root=os.environ["NUMPYNET_DATA"], download=False)
    path = assert_runs_as_predict(model, ds.x_test[:IMAGES], tmp_path)
    meta = metadata(path)
    assert json.loads(meta["class_names"]) == model.meta["class_names"]
    assert meta["preprocessing"] == model.meta["preprocessing"]
    assert json.loads(meta["input_shape"]) == [1, 28, 28]
    assert meta["dataset"] == model.meta["dataset"]


def test_the_batch_axis_is_dynamic(rng, tmp_path):
    model = zoo.build("cnn_small", seed=0)
    path = export_onnx(model, tmp_path / "m.onnx")
    dims = onnx.load(str(path)).graph.input[0].type.tensor_type.shape.dim
    assert dims[0].dim_param and not dims[0].dim_value
    for n in (1, 7, 33):
        x = rng.random((n, 1, 28, 28), dtype=np.float32)
        np.testing.assert_allclose(run_onnx(path, x), model.predict(x), atol=1e-5)


POOLS = [  # (pool, stride, padding) on a 9x11 input: tiled, overlapping, gaps, padded, partial windows dropped
    (2, None, 0), (3, 2, 1), (2, 3, 0), (3, 3, 1), (3, 1, 1), ((2, 3), (1, 2), 0), (4, 3, 2), ((3, 2), (2, 3), 1)]


@pytest.mark.parametrize("pool_cls", [MaxPool2D, AvgPool2D])
@pytest.mark.parametrize("pool, stride, padding", POOLS)
def test_pools_with_padding_overlaps_and_gaps_match_onnxruntime(pool_cls, pool, stride, padding, rng, tmp_path):
    # Negative inputs: a padded max must never pick the padding, an average must count it.
    model = Sequential([pool_cls(pool, stride, padding), Flatten(), Sigmoid()], input_shape=(2, 9, 11))
    x = rng.normal(size=(5, 2, 9, 11)).astype(np.float32) - 1
    assert_runs_as_predict(model, x, tmp_path)


CONVS = [("valid", 1, 3), ("same", 1, 3), ("same", 2, 3), ("same", 2, 4), ("same", (2, 1), (3, 5)),
         (2, 1, 3), (1, 3, 2), (0, (1, 2), (5, 3)), ("valid", 2, 4)]


@pytest.mark.parametrize("padding, stride, kernel", CONVS)
def test_conv_paddings_and_strides_match_onnxruntime(padding, stride, kernel, rng, tmp_path):
    model = Sequential([Conv2D(4, kernel, stride=stride, padding=padding), Flatten(), Tanh()],
                       input_shape=(3, 9, 11), seed=1)
    model.layers[0].params["b"][:] = rng.normal(size=4)
    x = rng.random((4, 3, 9, 11), dtype=np.float32)
    assert_runs_as_predict(model, x, tmp_path)


ACTIVATIONS = [ReLU(), LeakyReLU(0.2), Sigmoid(), Tanh(), Softmax()]


@pytest.mark.parametrize("act", ACTIVATIONS, ids=lambda a: type(a).__name__)
def test_every_activation_layer_matches_onnxruntime(act, rng, tmp_path):
    layers = [Dense(6), act] + ([Dense(4)] if not isinstance(act, Softmax) else [])
    model = Sequential(layers, input_shape=(5,), seed=0)
    x = rng.normal(size=(8, 5)).astype(np.float32) * 3
    assert_runs_as_predict(model, x, tmp_path)


@pytest.mark.parametrize("activation", ["relu", "leaky_relu", "sigmoid", "tanh", "softmax"])
def test_every_fused_activation_matches_onnxruntime(activation, rng, tmp_path):
    model = Sequential([Conv2D(3, 3, activation="tanh" if activation == "softmax" else activation),
                        Flatten(), Dense(4, activation=activation)], input_shape=(1, 6, 6), seed=0)
    x = rng.normal(size=(8, 1, 6, 6)).astype(np.float32)
    assert_runs_as_predict(model, x, tmp_path)


def test_batchnorm_uses_inference_statistics_and_dropout_is_identity(rng, tmp_path):
    model = Sequential([Conv2D(4, 3), BatchNorm(), ReLU(), Dropout(0.5), Flatten(), Dense(8), BatchNorm(momentum=0.8),
                        Dropout(0.3), Dense(3), Softmax()], input_shape=(2, 7, 7), seed=0)
    for layer in (model.layers[1], model.layers[6]):   # running statistics far from the defaults
        c = layer.params["gamma"].shape
        layer.params["gamma"][:], layer.params["beta"][:] = rng.normal(size=c), rng.normal(size=c)
        layer.buffers["mean"][:], layer.buffers["var"][:] = rng.normal(size=c), rng.random(c) * 3 + 0.1
    assert_runs_as_predict(model, rng.random((6, 2, 7, 7), dtype=np.float32), tmp_path)


def test_a_logits_network_gets_the_softmax_predict_applies(rng, tmp_path):
    model = Sequential([Flatten(), Dense(5)], input_shape=(1, 4, 4), seed=0)
    path = assert_runs_as_predict(model, rng.random((6, 1, 4, 4), dtype=np.float32), tmp_path)
    assert [n.op_type for n in onnx.load(str(path)).graph.node][-1] == "Softmax"
    assert metadata(path)["softmax_added"] == "true"


def test_export_refuses_a_folder_and_an_unbuilt_model_and_leaves_nothing(tmp_path):
    model = zoo.build("mlp", seed=0)
    with pytest.raises(ModelFileError, match="is a folder"):
        export_onnx(model, tmp_path)
    with pytest.raises(ModelFileError, match="cannot write"):
        export_onnx(model, tmp_path / "missing" / "m.onnx")
    with pytest.raises(ModelFileError, match="not built"):
        export_onnx(Sequential([Dense(3)]), tmp_path / "m.onnx")
    with pytest.raises(ModelFileError, match="no layers"):
        export_onnx(Sequential([], input_shape=(4,)), tmp_path / "m.onnx")
    assert list(tmp_path.iterdir()) == []


def test_without_onnx_the_core_imports_and_says_how_to_install_it(monkeypatch, tmp_path):
    code = ("import sys; sys.modules['onnx'] = None; import core, core.interop, core.cli; "
            "print('onnx' in sys.modules and sys.modules['onnx'] is not None)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
    monkeypatch.setitem(sys.modules, "onnx", None)   # `import onnx` now raises ImportError
    with pytest.raises(MissingPackageError, match=r'pip install "numpynet-studio\[onnx\]"'):
        export_onnx(zoo.build("mlp", seed=0), tmp_path / "m.onnx")
    with pytest.raises(MissingPackageError, match=r'pip install "numpynet-studio\[onnx\]"'):
        import_onnx(tmp_path / "m.onnx")
    assert not (tmp_path / "m.onnx").exists()
