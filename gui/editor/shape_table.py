"""The live table: each layer's output shape and parameters, totals, the memory of one batch,
and whether the network can be trained (with the reason when not)."""
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QPalette
from PySide6.QtWidgets import (QAbstractItemView, QHBoxLayout, QHeaderView, QLabel, QSpinBox, QStyledItemDelegate,
                               QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from ..format import esc, shape_text
from .form import ERROR_STYLE
from .layer_list import light_selection

OK_STYLE = "background:#e6f4ea; color:#0d652d; border:1px solid #a8dab5; border-radius:4px; padding:6px;"
ERROR_BG, ERROR_FG, UNKNOWN_FG = QColor("#fdecea"), QColor("#b3261e"), QColor("#9aa0a6")
MEMORY_TIP = ("What one training step holds, in float32: the input and every layer's output (kept for "
              "backpropagation) and a gradient of the same size for each, times the batch size; plus the "
              "weights and their gradients. Not counted: im2col buffers of convolutions and the optimizer's "
              "state (Adam keeps two more copies of the weights).")


MARK_ROLE = Qt.UserRole + 1


class _MarkedRows(QStyledItemDelegate):
    """Keeps a red row red when it is selected too."""

    def initStyleOption(self, option, index):
        super().initStyleOption(option, index)
        if index.data(MARK_ROLE):
            option.palette.setColor(QPalette.Highlight, QColor("#f6c7c2"))
            option.palette.setColor(QPalette.HighlightedText, ERROR_FG)


def human_bytes(n):
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:,.0f} {unit}" if unit == "bytes" else f"{n:,.1f} {unit}"
        n /= 1024


class ShapeTable(QWidget):
    rowSelected = Signal(int)   # 0-based layer, -1 for the input row

    def __init__(self, parent=None):
        super().__init__(parent)
        self.table = QTableWidget(0, 3)
        self.table.setHorizontalHeaderLabels(["Layer", "Output shape", "Parameters"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SingleSelection)
        self.table.setWordWrap(True)
        light_selection(self.table)
        self.table.setItemDelegate(_MarkedRows(self.table))
        header = self.table.horizontalHeader()
        for column, mode in enumerate((QHeaderView.ResizeToContents, QHeaderView.Stretch,
                                       QHeaderView.ResizeToContents)):
            header.setSectionResizeMode(column, mode)
        header.setDefaultAlignment(Qt.AlignLeft | Qt.AlignVCenter)
        self.table.setMinimumWidth(320)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        self.totals = QLabel()
        self.batch = QSpinBox(minimum=1, maximum=65536, value=128, keyboardTracking=False)
        self.batch.setToolTip("Batch size the memory estimate is for")
        self.batch.valueChanged.connect(lambda _: self._show_totals(self._analysis))
        self._analysis = None
        self.memory = QLabel()
        for w in (self.memory, self.batch):
            w.setToolTip(MEMORY_TIP)
        memory_row = QHBoxLayout()
        memory_row.addWidget(QLabel("Memory for a batch of"))
        memory_row.addWidget(self.batch)
        memory_row.addWidget(self.memory, 1)
        note = QLabel("activations + gradients and weights + gradients, float32 (hover for details)")
        note.setStyleSheet("color:#5f6368; font-size:11px;")
        note.setWordWrap(True)
        note.setToolTip(MEMORY_TIP)
        self.banner = QLabel(wordWrap=True, textFormat=Qt.PlainText)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.totals)
        layout.addLayout(memory_row)
        layout.addWidget(note)
        layout.addWidget(self.banner)

    def show_analysis(self, items, analysis, selected=None):
        self._analysis = analysis
        t = self.table
        t.blockSignals(True)
        t.clearSpans()
        t.setRowCount(len(items) + 1)
        self._set_row(0, "Input", shape_text(analysis.input_shape), "", analysis.problem_row == -1, False)
        for i, (item, row) in enumerate(zip(items, analysis.rows)):
            marked = analysis.problem_row == i
            if row.error:
                self._set_row(i + 1, f"{i + 1}. {item.type}", row.error, None, True, False)
                t.setSpan(i + 1, 1, 1, 2)
            elif row.output_shape is None:
                self._set_row(i + 1, f"{i + 1}. {item.type}", "?", "?", False, True)
            else:
                self._set_row(i + 1, f"{i + 1}. {item.type}", shape_text(row.output_shape), f"{row.params:,}",
                              marked, False)
        t.resizeRowsToContents()
        t.blockSignals(False)
        self.select_layer(selected)
        self._show_totals(analysis)
        self._show_verdict(analysis)

    def _set_row(self, r, name, shape, params, marked, unknown):
        cells = [QTableWidgetItem(name), QTableWidgetItem(shape)]
        if params is not None:
            cells.append(QTableWidgetItem(params))
            cells[2].setTextAlignment(Qt.AlignRight | Qt.AlignVCenter)
        for c, cell in enumerate(cells):
            if marked:
                cell.setData(MARK_ROLE, True)
                cell.setBackground(QBrush(ERROR_BG))
                cell.setForeground(QBrush(ERROR_FG))
                cell.setToolTip(shape)
            elif unknown:
                cell.setForeground(QBrush(UNKNOWN_FG))
            self.table.setItem(r, c, cell)
        if params is None:
            self.table.takeItem(r, 2)
        if marked:
            bold = QFont(cells[0].font())
            bold.setBold(True)
            cells[0].setFont(bold)

    def select_layer(self, index):
        """Highlight layer ``index`` (0-based; None: nothing) without emitting ``rowSelected``."""
        self.table.blockSignals(True)
        self.table.clearSelection()
        if index is not None:
            self.table.selectRow(index + 1)
        self.table.blockSignals(False)

    def _show_totals(self, analysis):
        if analysis is None:
            return
        if analysis.complete:
            self.totals.setText(f"<b>Total parameters: {esc(f'{analysis.total_params:,}')}</b> "
                                f"({esc(human_bytes(4 * analysis.total_params))} as float32)")
            self.memory.setText(f"≈ <b>{esc(human_bytes(analysis.batch_memory(self.batch.value())))}</b>")
        else:
            self.totals.setText("<b>Total parameters: ?</b> (until the layer in red is fixed)")
            self.memory.setText("≈ ?")

    def _show_verdict(self, analysis):
        if analysis.valid:
            self.banner.setStyleSheet(OK_STYLE)
            self.banner.setText("✓ The network is valid and can be trained.")
        else:
            self.banner.setStyleSheet(ERROR_STYLE)
            self.banner.setText(f"✗ {analysis.problem}")

    def _selection_changed(self):
        rows = self.table.selectionModel().selectedRows()
        if rows:
            self.rowSelected.emit(rows[0].row() - 1)
