"""Reading a docstring written in Keras's layout: its summary line and its ``Args:`` entries.

A class's documentation is the one place its arguments are described; the
editor's palette shows the summary and its form's tooltips show the ``Args:``
help, so neither is written twice. The layout is Google's (as Keras writes
it): a section title alone on a line ending in ``:``, each argument as
``name: help`` one level deeper, continuation lines deeper still.
"""
import inspect
import re

_ENTRY = re.compile(r"(\*{0,2}\w+)(?: \([^)]*\))?: ?(.*)")


def summary(obj):
    """The first line of ``obj``'s own docstring, or "" when it has none (a base class's does not count)."""
    doc = own_doc(obj)
    return doc.split("\n", 1)[0].strip()


def own_doc(obj):
    """``obj``'s docstring, cleaned; "" when it has none. A class does not inherit its base's text."""
    doc = obj.__dict__.get("__doc__") if inspect.isclass(obj) else getattr(obj, "__doc__", None)
    return inspect.cleandoc(doc) if doc else ""


def arg_help(obj):
    """``{argument: help}`` from the ``Args:`` section of ``obj``'s own docstring, help joined into one line."""
    return entries(own_doc(obj), "Args")


def entries(doc, title):
    """``{name: text}`` of the section ``title`` ("Args", "Attributes", ...) of a cleaned docstring."""
    found, current, indent = {}, None, None
    for line in _section(doc, title):
        depth = len(line) - len(line.lstrip())
        match = _ENTRY.fullmatch(line.strip())
        if match and (indent is None or depth <= indent):
            indent, current = depth, match.group(1).lstrip("*")
            found[current] = match.group(2)
        elif current and line.strip():
            found[current] = f"{found[current]} {line.strip()}".strip()
    return found


def _section(doc, title):
    """The lines under ``title:`` up to the next section title or the end of the docstring."""
    lines = doc.split("\n")
    try:
        start = lines.index(f"{title}:") + 1
    except ValueError:
        return []
    body = []
    for line in lines[start:]:
        if line and not line[0].isspace():   # the next section's title, at the docstring's own indent
            break
        body.append(line)
    return body
