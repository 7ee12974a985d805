"""Hover help: every control says what it does, in a tooltip and in the status bar.

A tooltip needs the pointer to rest; the status tip (Qt shows it in the main
window's status bar the moment the pointer enters) reads while moving over a
form. One helper gives a widget both; ``add_status_tips`` gives every control
under a panel the status tip of its tooltip, so no control is left silent
and the two never say different things. ``silent_controls`` is the check.
"""
import re

from PySide6.QtWidgets import QAbstractButton, QAbstractSpinBox, QComboBox, QProgressBar, QSlider, QWidget

CONTROLS = (QAbstractButton, QAbstractSpinBox, QComboBox, QProgressBar, QSlider)


def explain(widget, text):
    """Give ``widget`` ``text`` as its tooltip and status tip; returns the widget."""
    widget.setToolTip(text)
    widget.setStatusTip(plain(text))
    return widget


def plain(text):
    """A tooltip as one status-bar line: tags dropped, entities and line breaks made plain."""
    text = re.sub(r"<br\s*/?>|</p>", " ", text or "")
    text = re.sub(r"<[^>]+>", "", text)
    for entity, char in (("&lt;", "<"), ("&gt;", ">"), ("&quot;", '"'), ("&#x27;", "'"), ("&#39;", "'"),
                         ("&nbsp;", " "), ("&amp;", "&")):
        text = text.replace(entity, char)
    return " ".join(text.split())


def controls(root):
    """The controls under ``root`` (buttons, spin boxes, combo boxes, progress bars, sliders)."""
    return [w for w in root.findChildren(QWidget) if isinstance(w, CONTROLS)]


def add_status_tips(root):
    """Give every control under ``root`` its tooltip as a status tip (a tooltip that changes later
    is followed by calling this again)."""
    for widget in controls(root):
        if widget.toolTip():
            widget.setStatusTip(plain(widget.toolTip()))


def silent_controls(root):
    """The controls under ``root`` that lack a tooltip or a status tip, for a test to list."""
    return [w for w in controls(root) if not (w.toolTip().strip() and w.statusTip().strip())]
