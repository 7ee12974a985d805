"""A panel's settings, each declared once: its name, its default and what reads it (Orange3's ``Setting``, ours).

A panel lists its settings at the top of its file in one ``PanelSettings``;
the control that shows a setting is the panel's attribute of the same name
(a spin box, check box, combo box, line edit, or a dict of them). From that
one table come the form's values (``values``, which the job is built from),
what is remembered (``save``, under the table's key in ``gui.settings``) and
what a new panel starts from (``restore``: the saved value, else the default).
So a default is written in exactly one place, and no control can be left out
of saving or of the job.
"""
import math
from dataclasses import dataclass

from PySide6.QtWidgets import QAbstractButton, QComboBox, QLineEdit


@dataclass(frozen=True)
class Setting:
    """One remembered choice. ``default`` may be a function of the panel (an optimizer's own starting
    values); ``reads`` says what uses it (for the reader of the table); ``scale`` is how many control
    units make one stored unit (a percent shown for a stored fraction)."""
    default: object
    reads: str
    scale: float = 1

    def default_for(self, panel):
        return self.default(panel) if callable(self.default) else self.default


class PanelSettings:
    def __init__(self, key, **settings):
        self.key, self.settings = key, settings

    def __iter__(self):
        return iter(self.settings.items())

    def values(self, panel):
        """{name: value} as the controls show it now: the one place the form is read."""
        return {name: _read(getattr(panel, name), s.scale) for name, s in self}

    def apply(self, panel, values):
        """Show ``values`` in the controls, in declaration order; what is missing takes its default."""
        for name, setting in self:
            default = setting.default_for(panel)
            value = values.get(name, default)
            if isinstance(default, dict):   # a group of controls: a saved value fills in, key by key
                value = {**default, **(value if isinstance(value, dict) else {})}
            _write(getattr(panel, name), value, default, setting.scale)

    def save(self, panel, settings):
        settings.set(self.key, self.values(panel))

    def restore(self, panel, settings):
        saved = settings.get(self.key, {})
        self.apply(panel, saved if isinstance(saved, dict) else {})


def _read(control, scale):
    if isinstance(control, dict):
        return {k: _read(c, scale) for k, c in control.items()}
    if isinstance(control, QAbstractButton):
        return control.isChecked()
    if isinstance(control, QComboBox):
        return control.currentData() if _keyed(control) else control.currentText()
    if isinstance(control, QLineEdit):
        return control.text()
    return control.value() / scale if scale != 1 else control.value()


def _write(control, value, default, scale):
    """Show ``value``; one the control cannot hold (an item it lacks, a wrong type) shows ``default``."""
    if isinstance(control, dict):
        for k, c in control.items():
            if k in value:
                _write(c, value[k], default.get(k, value[k]), scale)
    elif isinstance(control, QAbstractButton):
        control.setChecked(bool(value))
    elif isinstance(control, QComboBox):
        find = control.findData if _keyed(control) else control.findText
        index = find(value)
        control.setCurrentIndex(index if index >= 0 else max(find(default), 0))
    elif isinstance(control, QLineEdit):
        control.setText(value if isinstance(value, str) else default)
    else:
        number = value if _finite_number(value) else default
        scaled = min(max(number * scale, control.minimum()), control.maximum())
        control.setValue(round(scaled) if isinstance(control.value(), int) else scaled)


def _keyed(combo):
    """A combo whose items carry data (a key behind a label) stores the key."""
    return combo.count() > 0 and combo.itemData(0) is not None


def _finite_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
