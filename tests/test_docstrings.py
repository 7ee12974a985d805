"""Every public name of the headless core is documented, in Keras's layout, and the API reference builds.

The public names are found by walking the public modules (their ``__all__``,
else what they define without a leading underscore), so a name added later
is checked without touching this file.
"""
import importlib
import importlib.util
import inspect
import subprocess
import sys
from pathlib import Path

import pytest

import core
from core import docstrings
from core.layers import Layer, layer_types

ROOT = Path(__file__).resolve().parents[1]

# The modules a user imports (DESIGN.md's public API); core's own __all__ adds any it re-exports (runs, ...).
PUBLIC_MODULES = ["core", "core.layers", "core.optimizers", "core.losses", "core.callbacks", "core.schedules",
                  "core.datasets", "core.zoo", "core.inspect", "core.interop", "core.runs",
                  "core.stress", "core.embedding", "core.surgery", "core.surgery_history", "core.calibration"]


def public_modules():
    names = PUBLIC_MODULES + [f"core.{n}" for n in core.__all__ if inspect.ismodule(getattr(core, n))]
    return [importlib.import_module(n) for n in dict.fromkeys(names) if importlib.util.find_spec(n)]


def public_objects():
    """(qualified name, object) of every public class and function, each once."""
    seen, found = set(), []
    for module in public_modules():
        names = getattr(module, "__all__", None)
        if names is None:
            names = [n for n, obj in vars(module).items() if not n.startswith("_")
                     and getattr(obj, "__module__", None) == module.__name__]
        for name in names:
            obj = getattr(module, name)
            if (inspect.isclass(obj) or inspect.isfunction(obj)) and id(obj) not in seen:
                seen.add(id(obj))
                found.append((f"{module.__name__}.{name}", obj))
    return found


def public_members(cls):
    """(name, member) of the public methods and properties ``cls`` itself defines."""
    for name, member in vars(cls).items():
        if not name.startswith("_") and (inspect.isfunction(member) or isinstance(member, (property,
                                                                                            staticmethod,
                                                                                            classmethod))):
            yield name, member


def test_the_walk_finds_the_public_api():
    names = {name for name, _ in public_objects()}
    assert {"core.Sequential", "core.load_model", "core.layers.MaxPool2D", "core.optimizers.SGD",
            "core.losses.CrossEntropy", "core.callbacks.Callback", "core.schedules.StepDecay",
            "core.datasets.load", "core.zoo.build", "core.inspect.saliency"} <= names
    assert len(names) > 80


def test_every_public_class_function_and_method_has_its_own_docstring():
    missing = []
    for name, obj in public_objects():
        if not docstrings.summary(obj):
            missing.append(name)
        if inspect.isclass(obj):
            missing += [f"{name}.{m}" for m, member in public_members(obj)
                        if not inspect.getdoc(getattr(obj, m) if not isinstance(member, property) else member)]
    assert not missing, "no docstring: " + ", ".join(missing)


def test_docstrings_open_with_one_summary_line():
    long = [name for name, obj in public_objects()
            if len(docstrings.own_doc(obj).split("\n\n", 1)[0].split("\n")) > 1]
    assert not long, "summary runs over one line: " + ", ".join(long)


def undocumented_arguments(obj, doc):
    """Parameters of ``obj`` its docstring's ``Args:`` (or, for a record or an exception, ``Attributes:``)
    does not name."""
    try:
        takes = [p for p in inspect.signature(obj).parameters if p not in ("self", "cls")]
    except ValueError:   # a builtin's slot wrapper
        return []
    doc = doc or ""
    named = {**docstrings.entries(doc, "Args"), **docstrings.entries(doc, "Attributes")}
    return [p for p in takes if p not in named]


def test_every_argument_is_documented():
    bad = []
    for name, obj in public_objects():
        bad += [f"{name}({a})" for a in undocumented_arguments(obj, docstrings.own_doc(obj))]
        if inspect.isclass(obj):
            for m, member in public_members(obj):
                function = member.fget if isinstance(member, property) else getattr(obj, m)
                bad += [f"{name}.{m}({a})" for a in undocumented_arguments(function, inspect.getdoc(function))]
    assert not bad, "arguments missing from Args: " + ", ".join(bad)


def test_every_layer_type_documents_its_shapes():
    bad = []
    for name, obj in public_objects():
        if inspect.isclass(obj) and issubclass(obj, Layer) and obj.__name__ in layer_types():
            doc = docstrings.own_doc(obj)
            sections = ["Input shape:", "Output shape:"] + (["Args:"] if inspect.signature(obj).parameters else [])
            bad += [f"{name}: no {s}" for s in sections if f"\n{s}\n" not in f"\n{doc}\n"]
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("name", ["Sequential", "Sequential.fit", "datasets.load"])
def test_the_entry_points_carry_an_example(name):
    obj = core
    for part in name.split("."):
        obj = getattr(obj, part)
    assert "Example:" in inspect.getdoc(obj) and ">>> " in inspect.getdoc(obj), name


def test_help_on_fit_answers_a_first_script_s_questions():
    doc = inspect.getdoc(core.Sequential.fit)
    args = docstrings.arg_help(core.Sequential.fit)
    for arg in ("x", "y", "epochs", "batch_size", "validation_data", "callbacks", "shuffle", "seed"):
        assert arg in args, arg
    assert "(N, C, H, W)" in args["x"] and "float32" in args["x"] and "[0, 1]" in args["x"]
    assert "int" in args["y"] and "one-hot" in args["y"]
    assert "on_epoch_end" in args["callbacks"]
    for section in ("Returns:", "Raises:", "Example:"):
        assert f"\n{section}\n" in f"\n{doc}\n", section


def test_maxpool_shows_its_own_text_not_its_base_class_s():
    from core.layers import AvgPool2D, MaxPool2D
    from core.layers.pooling import Pool2D
    assert inspect.getdoc(MaxPool2D) not in (inspect.getdoc(Pool2D), inspect.getdoc(AvgPool2D))
    assert docstrings.summary(MaxPool2D).startswith("Max pooling")


def readme_docs_command():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    return next(line for line in readme.splitlines() if line.startswith(".venv/bin/pdoc "))


def test_the_readme_builds_an_api_reference_of_every_public_module(tmp_path):
    command = readme_docs_command().split()
    documented = command[command.index("-o") + 2:]
    with_core = [f"core.{n}" for n in core.__all__ if inspect.ismodule(getattr(core, n))]   # pdoc adds them
    assert sorted(set(documented + with_core)) == sorted(m.__name__ for m in public_modules())
    pdoc = Path(sys.executable).parent / "pdoc"
    command[0], command[command.index("-o") + 1] = str(pdoc), str(tmp_path)
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "Warn" not in result.stderr, result.stderr
    page = (tmp_path / "core" / "layers.html").read_text(encoding="utf-8")
    assert "Max pooling: keeps the largest value of each window" in page and "Input shape" in page
    assert "validation_data" in (tmp_path / "core.html").read_text(encoding="utf-8")   # Sequential.fit
