"""The ordered list of layers: drag and drop to reorder, a red mark on the invalid one.

The list model never reorders itself: a drop emits ``moveRequested`` and the
panel turns it into an undoable command, after which the list is refilled
from the document. So drag and drop, the Up/Down buttons and the shortcuts
are one code path.
"""
import json

from PySide6.QtCore import QAbstractListModel, QByteArray, QMimeData, QModelIndex, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPalette, QPen
from PySide6.QtWidgets import QAbstractItemView, QListView, QStyle, QStyledItemDelegate

from . import fields
from .diagram import ERROR_COLOR, layer_color

MIME = "application/x-numpynet-layer-rows"
ERROR_ROLE = Qt.UserRole + 1
SUMMARY_ROLE = Qt.UserRole + 2
TYPE_ROLE = Qt.UserRole + 3


class LayerListModel(QAbstractListModel):
    moveRequested = Signal(int, int)  # from row, to row (the dragged layer's final position)

    def __init__(self, parent=None):
        super().__init__(parent)
        self._items, self._rows = [], []

    def set_layers(self, items, rows):
        self.beginResetModel()
        self._items, self._rows = list(items), list(rows)
        self.endResetModel()

    def rowCount(self, parent=QModelIndex()):
        return 0 if parent.isValid() else len(self._items)

    def data(self, index, role=Qt.DisplayRole):
        if not index.isValid():
            return None
        item, row = self._items[index.row()], self._rows[index.row()]
        if role == Qt.DisplayRole:
            return f"{index.row() + 1}. {item.type}"
        if role == TYPE_ROLE:
            return item.type
        if role == SUMMARY_ROLE:
            return fields.summary(item.type, item.config)
        if role == ERROR_ROLE:
            return row.error
        if role == Qt.ToolTipRole:
            return row.error or fields.description(item.type)
        return None

    def flags(self, index):
        if not index.isValid():
            return Qt.ItemIsDropEnabled
        return Qt.ItemIsEnabled | Qt.ItemIsSelectable | Qt.ItemIsDragEnabled

    def supportedDropActions(self):
        return Qt.MoveAction

    def mimeTypes(self):
        return [MIME]

    def mimeData(self, indexes):
        data = QMimeData()
        data.setData(MIME, QByteArray(json.dumps(sorted({i.row() for i in indexes})).encode()))
        return data

    def dropMimeData(self, data, action, row, column, parent):
        """A drop before ``row`` (or on the item ``parent``, or at the end) asks to move the dragged layer."""
        if action != Qt.MoveAction or not data.hasFormat(MIME):
            return False
        rows = json.loads(bytes(data.data(MIME)).decode())
        if len(rows) != 1:
            return False
        source = rows[0]
        target = row if row >= 0 else (parent.row() if parent.isValid() else self.rowCount())
        final = target - 1 if target > source else target
        if final != source:
            self.moveRequested.emit(source, final)
        return True


class LayerDelegate(QStyledItemDelegate):
    """Number, colour chip, type in bold, its settings in grey; red with a '!' when invalid."""

    def sizeHint(self, option, index):
        return QSize(200, max(QFontMetrics(option.font).height() + 12, 26))

    def paint(self, painter, option, index):
        self.initStyleOption(option, index)
        option.text = ""
        style = option.widget.style() if option.widget else None
        error = index.data(ERROR_ROLE)
        painter.save()
        if error:
            painter.fillRect(option.rect, QColor("#fdecea"))
        if style:
            style.drawControl(QStyle.CE_ItemViewItem, option, painter, option.widget)
        r = option.rect.adjusted(6, 0, -6, 0)
        fm = QFontMetrics(option.font)
        num_w = fm.horizontalAdvance("00") + 4
        painter.setPen(QColor("#80868b"))
        painter.drawText(QRectF(r.left(), r.top(), num_w, r.height()), Qt.AlignRight | Qt.AlignVCenter,
                         str(index.row() + 1))
        color = layer_color(index.data(TYPE_ROLE))
        chip = QRectF(r.left() + num_w + 6, r.center().y() - 5, 10, 10)
        painter.setPen(QPen(color.darker(130), 1))
        painter.setBrush(color)
        painter.drawRoundedRect(chip, 2, 2)
        bold = QFont(option.font)
        bold.setBold(True)
        x = chip.right() + 7
        type_text = index.data(TYPE_ROLE)
        painter.setFont(bold)
        painter.setPen(ERROR_COLOR if error else QColor("#202124"))
        painter.drawText(QRectF(x, r.top(), r.right() - x, r.height()), Qt.AlignLeft | Qt.AlignVCenter, type_text)
        x += QFontMetrics(bold).horizontalAdvance(type_text) + 8
        painter.setFont(option.font)
        painter.setPen(ERROR_COLOR if error else QColor("#5f6368"))
        detail = fm.elidedText("⚠ invalid" if error else index.data(SUMMARY_ROLE), Qt.ElideRight, int(r.right() - x))
        painter.drawText(QRectF(x, r.top(), r.right() - x, r.height()), Qt.AlignLeft | Qt.AlignVCenter, detail)
        painter.restore()


def light_selection(view):
    """A pale selection with dark text, so red marks stay readable on a selected row."""
    palette = view.palette()
    for group in (QPalette.Active, QPalette.Inactive):
        palette.setColor(group, QPalette.Highlight, QColor("#d2e3fc"))
        palette.setColor(group, QPalette.HighlightedText, QColor("#202124"))
    view.setPalette(palette)


class LayerListView(QListView):
    """Single selection, internal drag and drop; the model is a LayerListModel."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setModel(LayerListModel(self))
        self.setItemDelegate(LayerDelegate(self))
        self.setSelectionMode(QAbstractItemView.SingleSelection)
        self.setDragDropMode(QAbstractItemView.InternalMove)
        self.setDefaultDropAction(Qt.MoveAction)
        self.setDropIndicatorShown(True)
        self.setUniformItemSizes(True)
        light_selection(self)

    def set_editable(self, on):
        self.setDragDropMode(QAbstractItemView.InternalMove if on else QAbstractItemView.NoDragDrop)

    def current_row(self):
        rows = self.selectionModel().selectedRows()
        return rows[0].row() if rows else None

    def select_row(self, row):
        if row is None or not 0 <= row < self.model().rowCount():
            self.clearSelection()
            return
        self.setCurrentIndex(self.model().index(row))
