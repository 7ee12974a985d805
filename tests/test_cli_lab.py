"""``numpynet evaluate MODEL --robustness [KIND ...]``: the table of accuracy against damage strength."""
import numpy as np
import pytest

from core import cli, zoo
from core.datasets import Dataset
from core.stress import DEFAULT_STRENGTHS, KINDS


@pytest.fixture
def saved(tmp_path, monkeypatch):
    """A saved 10-class model of 12x12 images, and `datasets.load` giving 40 test images for it."""
    rng = np.random.default_rng(0)
    x = rng.random((40, 1, 12, 12)).astype(np.float32)
    y = rng.integers(0, 10, 40)
    data = Dataset("tiny", x, y, x, y, [str(i) for i in range(10)], "test")
    monkeypatch.setattr(cli.datasets, "load", lambda name, root=None: data)
    model = zoo.build("cnn_small", input_shape=(1, 12, 12), classes=10, seed=0)
    model.compile("sgd", "crossentropy")
    model.meta.update(dataset="tiny", class_names=data.class_names)
    model.save(tmp_path / "m")
    return str(tmp_path / "m"), model, data


def run(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def blocks(out):
    """{kind: (strengths, accuracies)} read back from the printed table."""
    lines = out.splitlines()
    found = {}
    for head, acc in zip(lines, lines[1:]):
        kind = head.split(" ", 1)[0]
        if kind in KINDS and acc.strip().startswith("accuracy"):
            found[kind] = ([float(v) for v in head.split(")", 1)[1].split()],
                           [float(v) for v in acc.split()[1:]])
    return found


def test_robustness_prints_accuracy_against_strength_for_the_kinds_named(capsys, saved):
    path, model, data = saved
    code, out, err = run(capsys, "evaluate", path, "--robustness", "noise", "rotation", "--limit", "30")
    assert code == 0, err
    table = blocks(out)
    assert list(table) == ["noise", "rotation"]
    strengths, accuracy = table["noise"]
    np.testing.assert_allclose(strengths, DEFAULT_STRENGTHS["noise"], atol=1e-3)
    assert len(accuracy) == 11
    headline = model.evaluate(data.x_test[:30], data.y_test[:30])["accuracy"]
    assert f"accuracy {headline:.4f}" in out and "(30 images)" in out
    assert accuracy[0] == pytest.approx(headline, abs=1e-4) == table["rotation"][1][0]
    assert table["rotation"][0][-1] == 60
    assert "noise (sigma)" in out and "rotation (degrees)" in out


def test_robustness_without_kinds_prints_every_kind(capsys, saved):
    code, out, err = run(capsys, "evaluate", saved[0], "--robustness", "--limit", "8")
    assert code == 0, err
    assert list(blocks(out)) == list(KINDS)


def test_evaluate_without_robustness_prints_no_table(capsys, saved):
    code, out, _ = run(capsys, "evaluate", saved[0])
    assert code == 0 and "(40 images)" in out
    assert blocks(out) == {} and "robustness" not in out


def test_an_unknown_kind_is_a_usage_error_naming_the_kinds(capsys, saved):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["evaluate", saved[0], "--robustness", "smudge"])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and "smudge" in err and "occlusion" in err
