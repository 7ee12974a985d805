"""How the window writes numbers, shapes and names: one place, so every view says them alike.

Rich text (a QLabel in ``Qt.RichText``, an HTML tooltip, a pyqtgraph title)
reads "<" as the start of a tag and "&" as an entity: "<0.1%" or a class
named "<cat>" would vanish or turn into markup. Every value put into rich
text goes through ``esc``; text from these helpers is plain until then.
"""
import html


def esc(value):
    """``value`` as rich text that shows literally (numbers, names, paths, reasons)."""
    return html.escape(str(value), quote=False)


def rich_tooltip(text):
    """A tooltip that shows ``text`` literally, line breaks kept (Qt guesses plain or rich, and a
    name like "<b>" would fool it)."""
    return f"<p>{esc(text).replace(chr(10), '<br>')}</p>" if text else ""


def percent(p):
    """A probability with one decimal; never a misleading "100.0%" or "0.0%" for what is not certain."""
    p = float(p)
    if p < 0.0005:
        return "<0.1%" if p > 0 else "0%"
    if p > 0.9995:
        return ">99.9%" if p < 1 else "100%"
    return f"{100 * p:.1f}%"


def shape_text(shape):
    """An array's shape as the window writes it everywhere: "1 × 28 × 28"."""
    return " × ".join(str(d) for d in (shape or ()))
