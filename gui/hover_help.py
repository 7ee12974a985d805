"""Hover help: every control says what it does, in a tooltip and in the status bar.

A tooltip needs the pointer to rest; the status tip (Qt shows it in the main
window's status bar the moment the pointer enters) reads while moving over a
form. One helper gives a widget both; ``add_status_tips`` gives every control
under a panel the status tip of its tooltip, so no control is left silent
and the two never say different things. ``silent_controls`` is the check.
"""
import re

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import (QAbstractButton, QAbstractSpinBox, QComboBox, QLineEdit, QProgressBar, QSlider,
                               QTabBar, QWidget)

CONTROLS = (QAbstractButton, QAbstractSpinBox, QComboBox, QLineEdit, QProgressBar, QSlider)


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
    """The controls under ``root`` (buttons and check boxes, spin boxes, combo boxes, line edits, progress bars,
    sliders)."""
    return [w for w in root.findChildren(QWidget) if isinstance(w, CONTROLS) and not _part_of_a_control(w)]


def _part_of_a_control(widget):
    """Qt's own parts of a widget are not controls of ours: a spin box's line edit, a line edit's clear button,
    a tab bar's scroll arrows, a dock's close and float buttons, a table's corner button."""
    return (isinstance(widget.parentWidget(), (QAbstractSpinBox, QComboBox, QLineEdit, QTabBar))
            or widget.objectName().startswith("qt_"))


class _StatusTipFollower(QObject):
    """Keeps a control's status tip equal to its tooltip when the tooltip changes later (a button whose tooltip
    says why it is greyed out), so the status bar never says something older than the tooltip."""

    def eventFilter(self, watched, event):
        if event.type() == QEvent.ToolTipChange:
            watched.setStatusTip(plain(watched.toolTip()))
        return False


_FOLLOWER = _StatusTipFollower()


def add_status_tips(root):
    """Give every control under ``root`` its tooltip as a status tip, now and whenever the tooltip changes
    (controls created later under ``root`` need another call)."""
    for widget in controls(root):
        if widget.toolTip():
            widget.setStatusTip(plain(widget.toolTip()))
        widget.removeEventFilter(_FOLLOWER)
        widget.installEventFilter(_FOLLOWER)


def silent_controls(root):
    """The controls under ``root`` that lack a tooltip or a status tip, for a test to list."""
    return [w for w in controls(root) if not (w.toolTip().strip() and w.statusTip().strip())]
