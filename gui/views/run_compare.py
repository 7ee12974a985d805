"""Two runs side by side: their settings, the differing ones highlighted, and their confusion matrices.

The settings come straight from the two run.json dicts (``rows``), flattened
as ``numpynet runs compare`` flattens them; the matrices are computed by the
Runs panel on a worker and handed to ``show_matrix``, drawn by the
Evaluation view's own ``ConfusionMatrixView``.
"""
import json

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (QAbstractItemView, QCheckBox, QHBoxLayout, QHeaderView, QLabel, QSplitter, QTableWidget,
                               QTableWidgetItem, QVBoxLayout, QWidget)

from core.cli_runs import flatten

from .confusion_matrix import ConfusionMatrixView
from .runs_table import run_name

DIFFERS = QColor("#fef3c7")     # amber: the eye goes to what changed between the runs


def _text(value):
    if value is None:
        return "–"
    return value if isinstance(value, str) else json.dumps(value, separators=(", ", ": "))


def rows(a, b):
    """(setting, text in a, text in b, differs) for every setting of either run (run.json's ``settings``)."""
    fa, fb = flatten(a.get("settings") or {}), flatten(b.get("settings") or {})
    keys = list(fa) + [k for k in fb if k not in fa]
    return [(k, _text(fa.get(k)), _text(fb.get(k)), fa.get(k) != fb.get(k)) for k in keys]


class RunCompare(QWidget):
    """Settings of two runs in a table (differences highlighted) beside their two confusion matrices."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.settings = QTableWidget(0, 3)
        self.settings.setHorizontalHeaderLabels(["Setting", "", ""])
        self.settings.verticalHeader().hide()
        self.settings.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        self.settings.setEditTriggers(QAbstractItemView.NoEditTriggers)
        header = self.settings.horizontalHeader()   # the two runs share the width; long values elide (tooltip)
        header.setSectionResizeMode(0, QHeaderView.ResizeToContents)
        for column in (1, 2):
            header.setSectionResizeMode(column, QHeaderView.Stretch)
        self.settings.setTextElideMode(Qt.ElideMiddle)
        self.settings.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.matrices = [ConfusionMatrixView(), ConfusionMatrixView()]
        self.captions = [QLabel(textFormat=Qt.PlainText, wordWrap=True) for _ in self.matrices]
        self.note = QLabel(textFormat=Qt.PlainText)
        self.only_differences = QCheckBox("Only the differing settings")
        self.only_differences.toggled.connect(self._filter_rows)
        splitter = QSplitter()
        splitter.addWidget(self.settings)
        for caption, matrix in zip(self.captions, self.matrices):
            matrix.setMinimumSize(240, 240)
            column = QWidget()
            box = QVBoxLayout(column)
            box.setContentsMargins(0, 0, 0, 0)
            box.addWidget(caption)
            box.addWidget(matrix, 1)
            splitter.addWidget(column)
        splitter.setSizes([500, 300, 300])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        head = QHBoxLayout()
        head.addWidget(self.note, 1)
        head.addWidget(self.only_differences)
        layout.addLayout(head)
        layout.addWidget(splitter, 1)
        self.show_runs(None, None)

    def show_runs(self, a, b):
        """Compare run.json dicts ``a`` and ``b``; None: nothing to compare (not two runs selected)."""
        pair = a is not None and b is not None
        self.settings.setRowCount(0)
        for matrix, caption in zip(self.matrices, self.captions):
            matrix.hide()   # until its matrix is computed
            caption.setText("")
        if not pair:
            self.note.setText("Select two runs in the table to compare their settings and confusion matrices.")
            return
        found = rows(a, b)
        changed = sum(differs for *_, differs in found)
        names = run_name(a), run_name(b)
        self.note.setText(f"{names[0]} and {names[1]}: {changed} setting{'s' * (changed != 1)} differ "
                          "(highlighted).")
        self.settings.setHorizontalHeaderLabels(["Setting", *names])
        self.settings.setRowCount(len(found))
        for r, (key, ta, tb, differs) in enumerate(found):
            for c, text in enumerate((key, ta, tb)):
                self.settings.setItem(r, c, _cell(text, differs))
        self._filter_rows()
        for caption, name in zip(self.captions, names):
            caption.setText(f"{name}: computing the confusion matrix on the test set…")

    def _filter_rows(self):
        differing = set(self.differing())
        for r in range(self.settings.rowCount()):
            hide = self.only_differences.isChecked() and self.settings.item(r, 0).text() not in differing
            self.settings.setRowHidden(r, hide)

    def differing(self):
        """The settings shown as differing (for tests and the note)."""
        return [self.settings.item(r, 0).text() for r in range(self.settings.rowCount())
                if self.settings.item(r, 0).background().color() == DIFFERS]

    def show_matrix(self, i, name, cm, names, accuracy):
        self.matrices[i].set_matrix(cm, names)
        self.matrices[i].show()
        self.captions[i].setText(f"{name}: test accuracy {accuracy}")

    def show_matrix_error(self, i, name, message):
        self.matrices[i].hide()
        self.captions[i].setText(f"{name}: no confusion matrix ({message})")


def _cell(text, differs):
    item = QTableWidgetItem(text)
    item.setToolTip(text)
    if differs:
        item.setBackground(QBrush(DIFFERS))
        font = QFont()
        font.setBold(True)
        item.setFont(font)
    return item
