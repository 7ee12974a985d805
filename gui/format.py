"""How the window writes numbers, shapes and names: one place, so every view says them alike.

Rich text (a QLabel in ``Qt.RichText``, an HTML tooltip, a pyqtgraph title)
reads "<" as the start of a tag and "&" as an entity: "<0.1%" or a class
named "<cat>" would vanish or turn into markup. Every value put into rich
text goes through ``esc``; text from these helpers is plain until then.
"""
import html

from core.text import counted as counted
from core.text import percent as percent   # one percentage for the CLI and the window
from core.text import probability as probability


def esc(value):
    """``value`` as rich text that shows literally (numbers, names, paths, reasons)."""
    return html.escape(str(value), quote=False)


def rich_tooltip(text):
    """A tooltip that shows ``text`` literally, line breaks kept (Qt guesses plain or rich, and a
    name like "<b>" would fool it)."""
    return f"<p>{esc(text).replace(chr(10), '<br>')}</p>" if text else ""


def shape_text(shape, compact=False):
    """An array's shape as the window writes it everywhere: "1 × 28 × 28"; ``compact`` for a short
    label such as a kernel in the layer list ("5×5")."""
    return (" × ", "×")[compact].join(str(d) for d in (shape or ()))
