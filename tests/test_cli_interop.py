"""``numpynet export`` and ``numpynet import``: end to end, and failures as one line."""
from pathlib import Path

import numpy as np
import onnxruntime as ort

from core import cli, load_model

ROOT = Path(__file__).resolve().parents[1]
TORCH = ROOT / "tests" / "data" / "onnx"


def run(capsys, *argv):
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_export_writes_a_file_onnxruntime_runs_and_never_replaces_one_unasked(capsys, tmp_path, rng):
    out = tmp_path / "lenet.onnx"
    code, stdout, err = run(capsys, "export", ROOT / "saved_models" / "lenet5-mnist", out)
    assert code == 0, err
    assert f"wrote {out}" in stdout
    model = load_model(ROOT / "saved_models" / "lenet5-mnist")
    x = rng.random((5, 1, 28, 28), dtype=np.float32)
    got = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"]).run(None, {"input": x})[0]
    np.testing.assert_allclose(got, model.predict(x), atol=1e-5)

    out.write_bytes(b"mine")
    code, _, err = run(capsys, "export", ROOT / "saved_models" / "mlp-mnist", out)
    assert code == 2 and "already exists" in err and "--force" in err and err.count("\n") == 1
    assert out.read_bytes() == b"mine"
    code, _, err = run(capsys, "export", ROOT / "saved_models" / "mlp-mnist", out, "--force")
    assert code == 0, err
    assert out.stat().st_size > 100_000


def test_import_saves_a_model_that_evaluates_and_predicts_as_pytorch(capsys, tmp_path):
    folder = tmp_path / "lenet"
    code, out, err = run(capsys, "import", TORCH / "lenet_torch.onnx", folder)
    assert code == 0, err
    assert "Softmax #13 was added for prediction" in out and f"saved {folder}" in out
    model = load_model(folder)
    saved = np.load(TORCH / "lenet_torch.npz")
    assert (model.predict(saved["x"]).argmax(axis=1) == saved["logits"].argmax(axis=1)).all()
    assert model.evaluate(saved["x"], saved["logits"].argmax(axis=1))["accuracy"] == 1.0


def test_import_failures_are_one_line_and_write_nothing(capsys, tmp_path):
    (tmp_path / "notes.txt").write_text("keep")
    code, out, err = run(capsys, "import", TORCH / "lenet_torch.onnx", tmp_path)
    assert code == 2 and out == "" and "not a saved numpynet model" in err
    code, out, err = run(capsys, "import", tmp_path / "notes.txt", tmp_path / "m")
    assert code == 2 and "notes.txt: not an ONNX model" in err and err.count("\n") == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]
