"""The table of recorded runs: one row per run.json, a tick per row to overlay its curves.

``RunsTableModel`` holds the runs' ``info`` dicts (what ``core.runs.list``
returns) and says, per column, what to show and what to sort by (the
``SORT_ROLE``: numbers sort as numbers, a missing value below every real
one). ``RunsProxy`` sorts and filters it; the filter matches any column, so
"adam" finds the runs by optimizer and "baseline" by tag. Ticks are kept by
run id, so they survive a refresh of the list.
"""
import datetime

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QSortFilterProxyModel, Qt, Signal

from core.callbacks import format_eta

from ..format import percent

SORT_ROLE = Qt.UserRole + 1
RUN_ID_ROLE = Qt.UserRole + 2
MISSING = float("-inf")     # sorts below every value, whichever way a column is sorted


def _number(value):
    return MISSING if value is None else float(value)


def _accuracy(value):
    return ("–" if value is None else percent(value, 2)), _number(value)


def _timestamp(text):
    """A run.json time (ISO 8601) as a datetime, or None when absent or unreadable."""
    try:
        return datetime.datetime.fromisoformat(text) if text else None
    except ValueError:
        return None


def _settings(info):
    return info.get("settings") or {}


def _summary(info):
    return info.get("summary") or {}


def _duration(info):
    seconds = _summary(info).get("seconds")
    return ("–", MISSING) if seconds is None else (format_eta(seconds), float(seconds))


def _date(info):
    when = _timestamp(info.get("created"))
    return ("–", "") if when is None else (when.strftime("%Y-%m-%d %H:%M"), when.isoformat())


def run_name(info):
    """What the window calls a run: its name, else its id."""
    return info.get("name") or info["id"]


def _name(info):
    text = run_name(info)
    return text, text.lower()


def _model(info):
    """"lenet5 · 431,080 params", or "custom · 7,850 params" for an architecture built by hand."""
    settings = _settings(info)
    if not settings:
        return "–", ""     # a record that could not be read says nothing of its model
    text = settings.get("preset") or "custom"
    if settings.get("parameters") is not None:
        text += f" · {settings['parameters']:,} params"
    return text, text.lower()


def _dataset(info):
    settings = _settings(info)
    text = settings.get("dataset") or "–"
    if settings.get("train_samples"):
        text += f" · {settings['train_samples']:,}"
    return text, text.lower()


def _optimizer(info):
    opt = _settings(info).get("optimizer") or {}
    kind = opt.get("type", "–")
    text = f"{kind} · lr {opt['lr']:g}" if "lr" in opt else kind
    return text, text.lower()


def _epochs(info):
    done, planned = info.get("epochs_done"), _settings(info).get("epochs_planned")
    if done is None:
        return "–", MISSING
    return (f"{done}/{planned}" if planned not in (None, done) else f"{done}"), float(done)


def _status(info):
    text = info.get("status") or "–"
    return text, text


def _tags(info):
    text = ", ".join(info.get("tags") or [])
    return text, text.lower()


def _best_validation(info):
    return _accuracy((_summary(info).get("best") or {}).get("val_accuracy"))


def _test(info):
    return _accuracy(_summary(info).get("test_accuracy"))


# (header, info -> (text shown, sort value)); the first column carries the tick.
COLUMNS = (("Name", _name), ("Tags", _tags), ("Status", _status), ("Model", _model), ("Dataset", _dataset),
           ("Optimizer", _optimizer), ("Epochs", _epochs), ("Best val. acc.", _best_validation),
           ("Test acc.", _test), ("Duration", _duration), ("Date", _date))


class RunsTableModel(QAbstractTableModel):
    """The runs as rows; ``ticksChanged`` gives the ticked run ids, in the order they were ticked."""
    ticksChanged = Signal(list)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.runs = []          # info dicts
        self.ticked = []        # run ids, in ticking order (their colours follow it)

    def set_runs(self, infos):
        """Show these runs; ticks of runs that are gone are dropped (and said so)."""
        self.beginResetModel()
        self.runs = list(infos)
        self.endResetModel()
        ids = {info["id"] for info in self.runs}
        kept = [run_id for run_id in self.ticked if run_id in ids]
        if kept != self.ticked:
            self.ticked = kept
            self.ticksChanged.emit(list(kept))

    def info(self, row):
        return self.runs[row]

    def rowCount(self, parent=QModelIndex()):
        return 0 if parent.isValid() else len(self.runs)

    def columnCount(self, parent=QModelIndex()):
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section, orientation, role=Qt.DisplayRole):
        if orientation == Qt.Horizontal and role == Qt.DisplayRole:
            return COLUMNS[section][0]
        return None

    def data(self, index, role=Qt.DisplayRole):
        info = self.runs[index.row()]
        if role in (Qt.DisplayRole, SORT_ROLE):
            text, key = COLUMNS[index.column()][1](info)
            return text if role == Qt.DisplayRole else key
        if role == Qt.CheckStateRole and index.column() == 0:
            return Qt.Checked if info["id"] in self.ticked else Qt.Unchecked
        if role == RUN_ID_ROLE:
            return info["id"]
        if role == Qt.ToolTipRole and index.column() == 0:
            return _tooltip(info)
        return None

    def flags(self, index):
        flags = super().flags(index)
        return flags | Qt.ItemIsUserCheckable if index.column() == 0 else flags

    def setData(self, index, value, role=Qt.EditRole):
        if role != Qt.CheckStateRole or index.column() != 0:
            return False
        self.set_ticked(self.runs[index.row()]["id"], Qt.CheckState(value) == Qt.Checked)
        return True

    def set_ticked(self, run_id, on):
        if on == (run_id in self.ticked):
            return
        self.ticked = self.ticked + [run_id] if on else [t for t in self.ticked if t != run_id]
        row = next(i for i, info in enumerate(self.runs) if info["id"] == run_id)
        self.dataChanged.emit(self.index(row, 0), self.index(row, 0), [Qt.CheckStateRole])
        self.ticksChanged.emit(list(self.ticked))


class RunsProxy(QSortFilterProxyModel):
    """Sorted by each column's sort value; the filter text is matched against every column."""

    def __init__(self, source, parent=None):
        super().__init__(parent)
        self.setSourceModel(source)
        self.setSortRole(SORT_ROLE)
        self.setFilterKeyColumn(-1)
        self.setFilterCaseSensitivity(Qt.CaseInsensitive)


def _tooltip(info):
    if info.get("error"):
        return info["error"]
    parent = f", continued from {info['parent']}" if info.get("parent") else ""
    return f"Run {info['id']} (from the {info.get('source') or '?'}{parent}): tick it to draw its curves in the " \
           "Training plots"
