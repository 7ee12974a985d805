"""Fuzz: every field of real model.json files, mutated every way, gives a model or a ModelFileError.

The mutants come from a small model saved here and from the shipped ``saved_models/*``: each field,
recursively, made null, missing, of the wrong type, negative, zero, huge, fractional, text, nested
wrongly, with an extra key. ``load_model`` must return a model or raise ``ModelFileError``, nothing
else, and the CLI (summary, predict, evaluate) must answer with a line, never a traceback.
"""
import functools
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from core import ModelFileError, Sequential, load_model
from core import cli
from core.cli import main
from core.datasets.dataset import Dataset
from core.layers import BatchNorm, Conv2D, Dense, Dropout, Flatten, MaxPool2D, Softmax
from core.optimizers import SGD

ROOT = Path(__file__).resolve().parent.parent
# Smallest first: the fields all models share are mutated on the one that loads fastest.
SHIPPED = sorted((ROOT / "saved_models").iterdir(), key=lambda p: (p / "weights.npz").stat().st_size)
MISSING = object()


def _is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def fields(value, path=()):
    """(path, value) of ``value`` and of everything inside it; one number stands for a list of numbers."""
    yield path, value
    if isinstance(value, dict):
        for key, item in value.items():
            yield from fields(item, path + (key,))
    elif isinstance(value, list):
        items = value[:1] if value and all(map(_is_number, value)) else value
        for i, item in enumerate(items):
            yield from fields(item, path + (i,))


def variants(value):
    """(name, replacement) for a field holding ``value``."""
    yield from [("missing", MISSING), ("null", None), ("text", "x"), ("true", True), ("zero", 0),
                ("negative", -3), ("huge", 10 ** 12), ("in a list", [value]), ("in a mapping", {"x": value})]
    if _is_number(value):
        yield from [("as text", str(value)), ("negated", -value), ("plus a half", value + 0.5)]
    if isinstance(value, str):
        yield "other text", value + "?"
    if isinstance(value, dict):
        yield "extra key", {**value, "extra": 1}
    if isinstance(value, list) and value:
        yield from [("longer", value + value[-1:]), ("shorter", value[:-1])]


def mutants(doc):
    """(path, variant name, mutated model.json document) for every field of ``doc``, every way."""
    text = json.dumps(doc)
    for path, value in fields(doc):
        if not path:
            continue
        for name, new in variants(value):
            mutant = json.loads(text)   # a deep copy, faster than copy.deepcopy
            *parents, last = path
            holder = mutant
            for key in parents:
                holder = holder[key]
            if new is MISSING:
                del holder[last]
            else:
                holder[last] = new
            yield path, name, mutant


def kind_of(path, doc):
    """``path`` with a layer's position replaced by its type: the same field of the same kind of layer."""
    if path[:2] == ("architecture", "layers") and len(path) > 2:
        return ("layer", doc["architecture"]["layers"][path[2]]["type"], *path[3:])
    return path


def small_model(path):
    model = Sequential([Conv2D(2, 3, padding="same", activation="relu"), BatchNorm(), MaxPool2D(2), Flatten(),
                        Dropout(0.2), Dense(3), Softmax()], input_shape=(1, 8, 8), seed=0)
    model.compile(SGD(lr=0.1, momentum=0.9, nesterov=True), "crossentropy")
    model.train_history = {"loss": [1.0, 0.5], "accuracy": [0.3, 0.6]}
    model.meta.update(class_names=["a", "b", "c"], dataset="tiny", preprocessing="fit",
                      metrics={"test_accuracy": 0.5})
    return model.save(path)


def mutant_folders(source, tmp_path, seen=None):
    """(description, folder) with the folder's model.json replaced by each mutant in turn.

    A mutation already in ``seen`` (the same field of the same kind of layer, the same way) is skipped.
    """
    folder = tmp_path / f"fuzz-{source.name}"
    shutil.copytree(source, folder)
    doc = json.loads((source / "model.json").read_text())
    for path, name, mutant in mutants(doc):
        if seen is not None:
            if (kind_of(path, doc), name) in seen:
                continue
            seen.add((kind_of(path, doc), name))
        (folder / "model.json").unlink()   # a new file: rewriting one in place makes ext4 flush it (slow)
        (folder / "model.json").write_text(json.dumps(mutant))
        yield f"{source.name}: {'.'.join(map(str, path))} {name}", folder


def load_or_refuse(folder, description):
    try:
        return load_model(folder)
    except ModelFileError:
        return None
    except Exception as e:   # noqa: BLE001 - the point: nothing but ModelFileError may escape
        pytest.fail(f"{description}: load_model raised {type(e).__name__}: {e}")


def test_every_mutant_of_the_shipped_models_loads_or_is_refused(tmp_path):
    seen = set()
    outcomes = [load_or_refuse(folder, what) is not None
                for source in SHIPPED for what, folder in mutant_folders(source, tmp_path, seen)]
    assert len(outcomes) > 500 and any(outcomes) and not all(outcomes)


@pytest.fixture
def cli_inputs(tmp_path, monkeypatch):
    """An image for predict, and a tiny test set that evaluate loads instead of a real one."""
    image = tmp_path / "digit.png"
    pixels = np.zeros((28, 28), np.uint8)
    pixels[6:22, 12:16] = 255
    Image.fromarray(pixels).save(image)

    def tiny(name, root=None, **kwargs):
        rng = np.random.default_rng(0)
        x = rng.random((6, 1, 8, 8), dtype=np.float32)
        return Dataset(name, x, np.arange(6) % 3, x, np.arange(6) % 3, ["a", "b", "c"], "test")

    monkeypatch.setattr("core.cli.datasets.load", tiny)
    monkeypatch.setattr("core.cli.build_parser", functools.cache(cli.build_parser))   # argparse is slow to build
    return image


def run_cli(capsys, description, *argv):
    try:
        code = main(list(argv))
    except BaseException as e:   # noqa: BLE001 - SystemExit from argparse included
        pytest.fail(f"{description}: numpynet {argv[0]} raised {type(e).__name__}: {e}")
    err = capsys.readouterr().err
    assert code in (0, 2) and "Traceback" not in err, f"{description}: exit {code}\n{err}"
    return code


def test_the_cli_answers_every_mutant_with_a_line(tmp_path, capsys, cli_inputs):
    """summary on every mutant; predict and evaluate too on each that loads (the rest fail in load_model)."""
    source = small_model(tmp_path / "small")
    loaded = 0
    for what, folder in mutant_folders(source, tmp_path):
        if run_cli(capsys, what, "summary", "--model", str(folder)) == 0:
            loaded += 1
            run_cli(capsys, what, "predict", str(folder), str(cli_inputs))
            run_cli(capsys, what, "evaluate", str(folder), "--dataset", "tiny")
    assert loaded > 50


@pytest.mark.parametrize("change", [lambda d: d.update(class_names=5), lambda d: d.update(history=[1, 2])],
                         ids=["class_names 5", "history [1, 2]"])
def test_the_cli_in_a_real_process_prints_no_traceback(tmp_path, cli_inputs, change):
    folder = tmp_path / "m"
    shutil.copytree(small_model(tmp_path / "small"), folder)
    doc = json.loads((folder / "model.json").read_text())
    change(doc)
    (folder / "model.json").write_text(json.dumps(doc))
    for argv in (["summary", "--model", str(folder)], ["predict", str(folder), str(cli_inputs)]):
        done = subprocess.run([sys.executable, "-m", "core.cli", *argv], capture_output=True, text=True,
                              cwd=ROOT, timeout=60)
        assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
        assert str(folder / "model.json") in done.stderr
