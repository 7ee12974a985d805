"""Percentages and shapes are written by their formatters only: ``core/text.py``'s ``percent`` for the
CLI and the window, ``gui/format.py`` for the window's shapes and escaping, ``fmt_shape``
(core/layers/base.py) for core's messages. A copy elsewhere drifts into its own style
(the issue counted four ways of printing a shape) and skips the escaping rich text needs."""
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HOMES = {"gui/format.py", "core/text.py", "core/layers/base.py"}
IN_PLACE = {   # what is written in place, and where it must not be
    "a percentage formatted in place (use core.text.percent)":
        (re.compile(r"%\}|\* ?100\b[^\n]*f\}%|\b100 \*[^\n]*f\}%"), ("core", "gui")),
    "a shape joined in place (use shape_text / fmt_shape)":
        (re.compile(r"\}\s?[x×]\s?\{|[\"'] ?[x×] ?[\"']\.join"), ("core", "gui")),
    "a shape printed as a Python tuple (use shape_text / fmt_shape)":
        (re.compile(r"\{tuple\([^}]*\)\}|\{[\w.\[\]]*\.\w*shape(\[[^\]]*:[^\]]*\])?\}"), ("core", "gui")),
}


def sources(packages):
    for package in packages:
        for path in sorted((ROOT / package).rglob("*.py")):
            name = path.relative_to(ROOT).as_posix()
            if name not in HOMES:
                yield name, path.read_text(encoding="utf-8")


@pytest.mark.parametrize("what", IN_PLACE)
def test_no_percentage_or_shape_is_formatted_outside_its_formatter(what):
    pattern, packages = IN_PLACE[what]
    found = [f"{name}:{text.count(chr(10), 0, m.start()) + 1}: {m.group(0)}"
             for name, text in sources(packages) for m in pattern.finditer(text)]
    assert not found, f"{what}:\n" + "\n".join(found)


def test_the_scan_catches_each_style_it_names():
    """The patterns above must match the styles they forbid, or the scan proves nothing."""
    styles = {"a percentage formatted in place (use core.text.percent)":
              ['f"{acc:.1%}"', 'f"{100 * v:.1f}%"', 'f"{p * 100:.2f}%"'],
              "a shape joined in place (use shape_text / fmt_shape)":
              ['f"{h}x{w}"', 'f"{h}×{w}"', '" x ".join(dims)', '"×".join(shape)'],
              "a shape printed as a Python tuple (use shape_text / fmt_shape)":
              ['f"{x.shape}"', 'f"{tuple(a.shape)}"', 'f"{self.input_shape}"', 'f"{x.shape[1:]}"']}
    assert not IN_PLACE["a shape printed as a Python tuple (use shape_text / fmt_shape)"][0].search(
        'f"{model.output_shape[-1]} classes"'), "a size taken from a shape is a number, not a shape"
    for what, examples in styles.items():
        assert all(IN_PLACE[what][0].search(e) for e in examples), what
