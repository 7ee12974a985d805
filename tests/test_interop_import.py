"""ONNX import: PyTorch's files, round trips of every preset, every supported operator, and clear refusals."""
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from core import ModelFileError, load_model, zoo
from core.interop import export_onnx, import_onnx
from core.layers import BatchNorm, Conv2D, Dense, Dropout, Flatten, Softmax
from core.layers.activations import softmax

TORCH = Path(__file__).resolve().parent / "data" / "onnx"


# ----- files written by PyTorch's exporter (scripts/make_torch_onnx.py) -----------------------

@pytest.mark.parametrize("name", ["lenet_torch", "bn_torch", "pools_torch"])
def test_pytorch_files_predict_what_pytorch_computed(name):
    model = import_onnx(TORCH / f"{name}.onnx")
    saved = np.load(TORCH / f"{name}.npz")
    probs = model.predict(saved["x"])
    np.testing.assert_allclose(probs, softmax(saved["logits"]), atol=1e-5, rtol=0)
    assert (probs.argmax(axis=1) == saved["logits"].argmax(axis=1)).all()
    assert model.input_shape == (1, 28, 28)


def test_a_logits_network_gets_a_softmax_recorded_in_meta_and_summary():
    model = import_onnx(TORCH / "lenet_torch.onnx")
    assert isinstance(model.layers[-1], Softmax) and model.meta["softmax_added"] is True
    assert "Softmax #13 was added for prediction" in model.summary()
    assert model.meta["imported_from"] == "lenet_torch.onnx" and model.meta["producer"] == "pytorch"


def test_pytorch_batchnorm_and_padding_become_layers():
    model = import_onnx(TORCH / "bn_torch.onnx")
    convs = [layer for layer in model.layers if isinstance(layer, Conv2D)]
    assert [c.padding for c in convs] == [1, 1]
    assert any(isinstance(layer, BatchNorm) for layer in model.layers)


def test_pytorch_pools_and_view_by_the_batch_size_become_layers():
    model = import_onnx(TORCH / "pools_torch.onnx")
    assert [type(layer).__name__ for layer in model.layers] == \
        ["Conv2D", "LeakyReLU", "MaxPool2D", "Conv2D", "Tanh", "AvgPool2D", "Flatten", "Dense", "Softmax"]
    assert [(p.pool, p.stride, p.padding) for p in (model.layers[2], model.layers[5])] == [((3, 3), (2, 2), 1)] * 2


def test_an_imported_model_trains_further_and_saves(tmp_path, rng):
    model = import_onnx(TORCH / "bn_torch.onnx")
    saved = np.load(TORCH / "bn_torch.npz")
    x, y = saved["x"], saved["logits"].argmax(axis=1)
    model.compile("sgd", "crossentropy")
    before = model.evaluate(x, y)["loss"]
    model.fit(x, y, epochs=3, batch_size=16, seed=0)
    assert model.evaluate(x, y)["loss"] < before
    model.save(tmp_path / "m")
    again = load_model(tmp_path / "m")
    assert again.meta["softmax_added"] is True
    np.testing.assert_allclose(again.predict(x), model.predict(x), atol=1e-6)


# ----- round trips --------------------------------------------------------------------------

@pytest.mark.parametrize("name", zoo.names())
def test_every_preset_round_trips(name, rng, tmp_path):
    model = zoo.build(name, seed=5)
    model.meta.update(class_names=[f"c{i}" for i in range(10)], preprocessing="fit", dataset="fashion-mnist")
    back = import_onnx(export_onnx(model, tmp_path / f"{name}.onnx"))
    x = rng.random((20, 1, 28, 28), dtype=np.float32)
    np.testing.assert_allclose(back.predict(x), model.predict(x), atol=1e-6)
    assert back.count_params() == model.count_params()
    assert back.meta["class_names"] == model.meta["class_names"]
    assert back.meta["preprocessing"] == "fit" and back.meta["dataset"] == "fashion-mnist"
    assert "softmax_added" not in back.meta
    assert [layer.rate for layer in back.layers if isinstance(layer, Dropout)] == \
           [layer.rate for layer in model.layers if isinstance(layer, Dropout)]


# ----- graphs written by hand, checked against onnxruntime ----------------------------------

def make_model(nodes, input_shape, weights, output="y", opset=13, **props):
    inputs = [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", *input_shape])]
    outputs = [helper.make_tensor_value_info(output, TensorProto.FLOAT, None)]
    inits = [numpy_helper.from_array(np.asarray(v, np.float32 if np.asarray(v).dtype.kind == "f" else np.int64), k)
             for k, v in weights.items()]
    model = helper.make_model(helper.make_graph(nodes, "g", inputs, outputs, inits),
                              opset_imports=[helper.make_opsetid("", opset)], ir_version=8)
    helper.set_model_props(model, props)
    return model


def write(model, tmp_path, name="m.onnx"):
    path = tmp_path / name
    onnx.save(model, str(path))
    return path


def assert_imports_as_onnxruntime_runs(model, tmp_path, x):
    path = write(model, tmp_path)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    want = session.run(None, {"x": x})[0]
    imported = import_onnx(path)
    got = imported.forward(x) if not imported.meta.get("softmax_added") else imported.scores(x)
    np.testing.assert_allclose(got, want, atol=1e-5, rtol=0)
    return imported


def node(op, inputs, name, output=None, **attrs):
    return helper.make_node(op, inputs, [output or name], name=name, **attrs)


def conv_chain(rng, conv_attrs, in_shape=(2, 9, 11), kernel=(3, 3), tail=()):
    w = {"w": rng.normal(size=(3, in_shape[0], *kernel)), "b": rng.normal(size=3)}
    nodes = [node("Conv", ["x", "w", "b"], "conv", **conv_attrs), node("Flatten", ["conv"], "flat"),
             node("Sigmoid", ["flat"], "y")]
    return make_model(nodes, in_shape, w)


@pytest.mark.parametrize("attrs, padding", [
    ({"pads": [0, 0, 0, 0]}, "valid"), ({"pads": [2, 2, 2, 2]}, 2), ({"auto_pad": "VALID"}, "valid"),
    ({"auto_pad": "SAME_UPPER", "strides": [2, 2], "kernel_shape": [2, 2]}, "same"), ({"auto_pad": "SAME_UPPER"}, 1),
    ({"pads": [0, 0, 1, 1], "strides": [2, 2], "kernel_shape": [2, 2]}, "same"),
    ({"auto_pad": "SAME_LOWER"}, 1), ({"pads": [1, 1, 1, 1], "strides": [2, 1]}, 1)])
def test_conv_padding_as_pads_or_auto_pad(attrs, padding, rng, tmp_path):
    kernel = tuple(attrs.get("kernel_shape", (3, 3)))
    model = conv_chain(rng, attrs, kernel=kernel)
    x = rng.random((3, 2, 9, 11), dtype=np.float32)
    imported = assert_imports_as_onnxruntime_runs(model, tmp_path, x)
    assert imported.layers[0].padding == padding


@pytest.mark.parametrize("op, attrs", [
    ("MaxPool", {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1]}),
    ("MaxPool", {"kernel_shape": [2, 2], "strides": [3, 3]}),
    ("MaxPool", {"kernel_shape": [3, 2], "strides": [1, 2], "auto_pad": "VALID"}),
    ("MaxPool", {"kernel_shape": [2, 2], "strides": [2, 2], "ceil_mode": 1}),
    ("AveragePool", {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1], "count_include_pad": 1}),
    ("AveragePool", {"kernel_shape": [3, 3], "strides": [1, 1], "auto_pad": "SAME_UPPER", "count_include_pad": 1}),
    ("AveragePool", {"kernel_shape": [2, 2], "strides": [3, 2]}),
    ("AveragePool", {"kernel_shape": [4, 4], "strides": [2, 2], "ceil_mode": 1})])
def test_pools_with_padding_overlap_gaps_and_harmless_ceil_mode(op, attrs, rng, tmp_path):
    shape = (2, 10, 12) if attrs.get("ceil_mode") else (2, 9, 11)
    nodes = [node(op, ["x"], "pool", **attrs), node("Flatten", ["pool"], "y")]
    x = rng.normal(size=(3, *shape)).astype(np.float32) - 1
    assert_imports_as_onnxruntime_runs(make_model(nodes, shape, {}), tmp_path, x)


@pytest.mark.parametrize("bias_first", [False, True])
def test_matmul_then_add_is_a_dense_layer(bias_first, rng, tmp_path):
    w = {"w": rng.normal(size=(12, 5)), "b": rng.normal(size=5)}
    add = ["b", "mm"] if bias_first else ["mm", "b"]
    nodes = [node("Flatten", ["x"], "flat"), node("MatMul", ["flat", "w"], "mm"), node("Add", add, "add"),
             node("Tanh", ["add"], "y")]
    imported = assert_imports_as_onnxruntime_runs(make_model(nodes, (3, 2, 2), w), tmp_path,
                                                  rng.random((4, 3, 2, 2), dtype=np.float32))
    assert [type(layer).__name__ for layer in imported.layers] == ["Flatten", "Dense", "Tanh", "Softmax"]


def test_gemm_with_transposed_weight_alpha_and_beta(rng, tmp_path):
    w = {"w": rng.normal(size=(4, 6)), "b": rng.normal(size=(1, 4))}
    nodes = [node("Gemm", ["x", "w", "b"], "y", transB=1, alpha=0.5, beta=2.0)]
    assert_imports_as_onnxruntime_runs(make_model(nodes, (6,), w), tmp_path, rng.random((3, 6), dtype=np.float32))


@pytest.mark.parametrize("target", [[0, -1], [-1, 48], [0, 48]])
def test_reshape_to_batch_by_features(target, rng, tmp_path):
    nodes = [node("Reshape", ["x", "shape"], "r"), node("Gemm", ["r", "w"], "y")]
    model = make_model(nodes, (3, 4, 4), {"shape": np.array(target), "w": rng.normal(size=(48, 2))})
    assert_imports_as_onnxruntime_runs(model, tmp_path, rng.random((2, 3, 4, 4), dtype=np.float32))


def test_a_reshape_whose_shape_is_a_constant_node_of_ints(rng, tmp_path):
    shape = helper.make_node("Constant", [], ["shape"], value_ints=[0, -1])
    nodes = [shape, node("Reshape", ["x", "shape"], "r"), node("Gemm", ["r", "w"], "y")]
    model = make_model(nodes, (2, 3, 3), {"w": rng.normal(size=(18, 4))})
    assert_imports_as_onnxruntime_runs(model, tmp_path, rng.random((2, 2, 3, 3), dtype=np.float32))


@pytest.mark.parametrize("opset", [11, 13])
def test_a_reshape_by_the_batch_size_read_from_shape(opset, rng, tmp_path):
    """x.view(x.size(0), -1) as exporters write it: a side branch that reads only x's shape."""
    axes = {"axes": [0]} if opset < 13 else {}
    unsqueeze_in = ["n"] if opset < 13 else ["n", "zero_axes"]
    nodes = [node("Relu", ["x"], "r"), node("Shape", ["r"], "s"), node("Gather", ["s", "zero"], "n", axis=0),
             node("Unsqueeze", unsqueeze_in, "n1", **axes), node("Concat", ["n1", "minus1"], "target", axis=0),
             node("Reshape", ["r", "target"], "flat"), node("Gemm", ["flat", "w"], "y")]
    weights = {"zero": np.array(0), "zero_axes": np.array([0]), "minus1": np.array([-1]),
               "w": rng.normal(size=(18, 3))}
    model = make_model(nodes, (2, 3, 3), weights, opset=opset)
    imported = assert_imports_as_onnxruntime_runs(model, tmp_path, rng.normal(size=(4, 2, 3, 3)).astype(np.float32))
    assert [type(layer).__name__ for layer in imported.layers] == ["ReLU", "Flatten", "Dense", "Softmax"]


def test_a_reshape_that_keeps_more_than_the_batch_is_refused_naming_it(rng, tmp_path):
    nodes = [node("Shape", ["x"], "s"), node("Gather", ["s", "first2"], "n", axis=0),
             node("Concat", ["n", "minus1"], "target", axis=0), node("Reshape", ["x", "target"], "y")]
    model = make_model(nodes, (2, 3, 3), {"first2": np.array([0, 1]), "minus1": np.array([-1])})
    refused(model, tmp_path, "'y' (Reshape)", "reshapes to ['N', 2, -1]")


def test_activations_batchnorm_dropout_identity_and_constant_weights(rng, tmp_path):
    const = helper.make_node("Constant", [], ["w2"], value=numpy_helper.from_array(
        rng.normal(size=(8, 3)).astype(np.float32)))
    nodes = [node("Gemm", ["x", "w1", "b1"], "g1"), node("BatchNormalization", ["g1", "s", "bb", "m", "v"], "bn",
                                                          epsilon=1e-3),
             node("LeakyRelu", ["bn"], "lr", alpha=0.2), node("Dropout", ["lr", "ratio"], "do"),
             node("Identity", ["do"], "id"), node("Relu", ["id"], "re"), node("Sigmoid", ["re"], "sg"), const,
             node("MatMul", ["sg", "w2"], "mm"), node("Softmax", ["mm"], "y", axis=1)]
    weights = {"w1": rng.normal(size=(5, 8)), "b1": rng.normal(size=8), "s": rng.normal(size=8),
               "bb": rng.normal(size=8), "m": rng.normal(size=8), "v": rng.random(8) + 0.5, "ratio": np.float32(0.4)}
    model = assert_imports_as_onnxruntime_runs(make_model(nodes, (5,), weights), tmp_path,
                                               rng.normal(size=(6, 5)).astype(np.float32))
    assert [type(layer).__name__ for layer in model.layers] == \
        ["Dense", "BatchNorm", "LeakyReLU", "Dropout", "ReLU", "Sigmoid", "Dense", "Softmax"]
    assert model.layers[3].rate == pytest.approx(0.4) and model.layers[2].alpha == pytest.approx(0.2)
    assert "softmax_added" not in model.meta


def test_metadata_that_does_not_fit_is_left_out(rng, tmp_path):
    nodes = [node("Gemm", ["x", "w"], "y")]
    model = make_model(nodes, (3,), {"w": rng.normal(size=(3, 2))}, class_names='["a", "b", "c"]',
                       preprocessing="sideways", dataset="mine")
    meta = import_onnx(write(model, tmp_path)).meta
    assert "class_names" not in meta and "preprocessing" not in meta and meta["dataset"] == "mine"


# ----- refusals: each names the node, the operator and what is supported ----------------------

def refused(model, tmp_path, *phrases):
    path = write(model, tmp_path)
    with pytest.raises(ModelFileError) as info:
        import_onnx(path)
    message = str(info.value)
    assert str(path) in message
    for phrase in phrases:
        assert phrase in message, message
    return message


def test_an_unsupported_operator_is_named_with_what_is_supported(rng, tmp_path):
    nodes = [node("Transpose", ["x"], "to_nhwc", perm=[0, 2, 3, 1]), node("Flatten", ["to_nhwc"], "y")]
    message = refused(make_model(nodes, (1, 4, 4), {}), tmp_path, "'to_nhwc'", "Transpose", "not supported")
    for op in ("Conv", "MaxPool", "AveragePool", "Gemm", "MatMul", "BatchNormalization", "Reshape", "Identity"):
        assert op in message


def test_a_branching_graph_is_refused_naming_the_nodes(rng, tmp_path):
    nodes = [node("Relu", ["x"], "a"), node("Sigmoid", ["a"], "b"), node("Add", ["a", "b"], "y")]
    refused(make_model(nodes, (4,), {}), tmp_path, "branches", "'b' (Sigmoid)", "'y' (Add)")


def test_a_dangling_node_off_the_chain_is_refused(rng, tmp_path):
    nodes = [node("Relu", ["x"], "y"), node("Sigmoid", ["x2"], "side")]
    model = make_model(nodes, (4,), {})
    model.graph.value_info.append(helper.make_tensor_value_info("x2", TensorProto.FLOAT, None))
    refused(model, tmp_path, "'side' (Sigmoid)", "off the chain")


@pytest.mark.parametrize("nodes, weights, phrases", [
    ([node("Conv", ["x", "w"], "y", pads=[0, 0, 1, 0])], {"w": np.ones((2, 1, 3, 3))}, ["'y' (Conv)", "pads"]),
    ([node("Conv", ["x", "w"], "y", auto_pad="SAME_LOWER", strides=[2, 2])], {"w": np.ones((2, 1, 2, 2))},
     ["'y' (Conv)", "uneven"]),
    ([node("Conv", ["x", "w"], "y", group=1, dilations=[2, 2])], {"w": np.ones((2, 1, 3, 3))}, ["dilations"]),
    ([node("Conv", ["x", "w"], "y", group=2)], {"w": np.ones((2, 1, 3, 3))}, ["group"]),
    ([node("Conv", ["x", "x"], "y")], {}, ["computed tensor", "initializers"]),
    ([node("AveragePool", ["x"], "y", kernel_shape=[3, 3], pads=[1, 1, 1, 1])], {}, ["count_include_pad=0"]),
    ([node("MaxPool", ["x"], "y", kernel_shape=[3, 3], pads=[1, 0, 1, 0])], {}, ["'y' (MaxPool)", "pads"]),
    ([node("MaxPool", ["x"], "y", kernel_shape=[2, 2], strides=[2, 2], ceil_mode=1)], {}, ["ceil_mode"]),
    ([node("Reshape", ["x", "s"], "y")], {"s": np.array([0, 1, -1])}, ["'y' (Reshape)", "[0, 1, -1]", "(N, -1)"]),
    ([node("Flatten", ["x"], "y", axis=2)], {}, ["axis 2"]),
    ([node("Softmax", ["x"], "y", axis=1)], {}, ["'y' (Softmax)", "softmax over axis"]),
    ([node("Flatten", ["x"], "f"), node("Gemm", ["f", "w"], "y")], {"w": np.ones((10, 2))},
     ["'y' (Gemm)", "shape (10, 2)", "(25, 2)"]),
    ([node("LeakyRelu", ["x"], "y", alpha=1.5)], {}, ["'y' (LeakyRelu)", "alpha"]),
])
def test_what_a_sequential_cannot_hold_is_refused_naming_the_node(nodes, weights, phrases, tmp_path):
    refused(make_model(nodes, (1, 5, 5), weights), tmp_path, *phrases)


def test_a_cycle_and_odd_shape_arithmetic_are_refused_not_followed_forever(tmp_path):
    nodes = [node("Relu", ["x"], "a"), node("Sigmoid", ["a"], "b", output="a2"), node("Tanh", ["a2"], "y")]
    model = make_model(nodes, (4,), {})
    model.graph.node[1].output[0] = "a"   # Sigmoid writes back the tensor it reads
    refused(model, tmp_path, "cycle through node 'b' (Sigmoid)")
    nodes = [node("Shape", ["x"], "s"), node("Gather", ["s", "nine"], "n", axis=0), node("Reshape", ["x", "n"], "y")]
    refused(make_model(nodes, (2, 3, 3), {"nine": np.array([9])}), tmp_path, "'s' (Shape)", "cannot be followed")
    nodes = [node("MatMul", ["x", "w"], "mm"), node("Add", ["mm", "mm"], "y")]
    refused(make_model(nodes, (3,), {"w": np.ones((3, 3))}), tmp_path, "'y' (Add)", "only a bias")


def test_inputs_that_are_not_one_image_or_vector_are_refused(tmp_path):
    model = make_model([node("Relu", ["x"], "y")], (5, 5), {})
    refused(model, tmp_path, "'x' has shape", "(N, channels, height, width)")
    model = make_model([node("Relu", ["x"], "y")], ("H", 5, 5), {})
    refused(model, tmp_path, "every size but the batch fixed")


def test_an_input_of_integers_is_refused(tmp_path):
    model = make_model([node("Relu", ["x"], "y")], (1, 5, 5), {})
    model.graph.input[0].type.tensor_type.elem_type = TensorProto.UINT8
    refused(model, tmp_path, "'x' is not a float tensor")


def test_a_file_that_is_not_onnx_or_missing_names_the_file(tmp_path):
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"\x00\xffnot a protobuf" * 10)
    with pytest.raises(ModelFileError, match="bad.onnx: not an ONNX model"):
        import_onnx(bad)
    with pytest.raises(ModelFileError, match="missing.onnx: no such ONNX file"):
        import_onnx(tmp_path / "missing.onnx")


def test_layers_built_by_hand_import_with_their_kinds(rng, tmp_path):
    from core import Sequential
    model = Sequential([Conv2D(3, 3, padding="same"), BatchNorm(), Flatten(), Dense(4), Softmax()],
                       input_shape=(1, 5, 5), seed=0)
    back = import_onnx(export_onnx(model, tmp_path / "m.onnx"))
    assert [type(layer) for layer in back.layers] == [Conv2D, BatchNorm, Flatten, Dense, Softmax]
