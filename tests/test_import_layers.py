"""The modules of ``core`` form layers: no module needs, even lazily, one that needs it back."""
import ast
from pathlib import Path

CORE = Path(__file__).resolve().parents[1] / "core"


def _module_name(path):
    parts = path.relative_to(CORE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path, modules):
    """Every core module that ``path`` imports, at its top or inside a function."""
    package = _module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = ".".join(package[:len(package) - node.level + 1] + ([node.module] if node.module else []))
            found |= {f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names}
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module]
            found |= {n for n in names if n in modules}
    return found - {_module_name(path)}


def _graph():
    paths = {_module_name(p): p for p in CORE.rglob("*.py")}
    return {name: _imports(path, paths) for name, path in paths.items()}


def _cycle(graph):
    """One import cycle as a list of module names, or None."""
    done, stack = set(), []

    def visit(name):
        if name in stack:
            return stack[stack.index(name):] + [name]
        if name in done:
            return None
        stack.append(name)
        cycle = next(filter(None, (visit(d) for d in sorted(graph.get(name, ())))), None)
        stack.pop()
        done.add(name)
        return cycle

    return next(filter(None, (visit(name) for name in sorted(graph))), None)


def test_the_graph_sees_lazy_imports():
    """The check reads imports inside functions too (a lazy import only hides a circle)."""
    graph = _graph()
    assert "core.model" in graph["core.zoo"]            # zoo.build imports Sequential inside the function
    assert "core.layers.base" in graph["core.layers.dense"]


def test_core_has_no_import_circle():
    cycle = _cycle(_graph())
    assert cycle is None, " -> ".join(cycle)


def test_the_file_format_sits_above_the_model_and_the_writer_below_it():
    graph = _graph()
    assert "core.model" in graph["core.serialization"]
    assert "core.serialization" not in graph["core.model"]
    assert "core.saving" in graph["core.model"] and "core.model" not in graph["core.saving"]
