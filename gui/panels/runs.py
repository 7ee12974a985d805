"""Runs panel: every recorded training run in a table; overlay, compare, rename, tag, delete, open, continue.

Inputs: the runs folder (``core.runs``), ``state.dataset`` (a compared run's
test set when it is the loaded one), ``state.trainingStarted/Finished``
(the list is read again). Outputs: ``curvesChanged`` (the ticked runs'
curves, for the Training plots), ``openRequested`` (a run's model folder,
opened the way File > Open does), ``continueRequested`` (a run and the
epochs to add) and ``status`` lines. Reading the folder, the ticked runs'
curves and the two compared confusion matrices each happen on a background
job (``TaskWorker``): a runs folder can hold long runs, and a matrix needs a
model run over a test set.
"""
from pathlib import Path

from PySide6.QtCore import QItemSelectionModel, Qt, Signal
from PySide6.QtWidgets import (QAbstractItemView, QHBoxLayout, QHeaderView, QInputDialog, QLabel, QLineEdit,
                               QMessageBox, QPushButton, QSpinBox, QSplitter, QTableView, QVBoxLayout, QWidget)

from core import run_files, runs
from core.errors import NumpynetError, RunError

from ..hover_help import explain
from ..messages import show_error
from ..overlays import RunCurves
from ..run_tasks import confusion_matrices
from ..views.run_compare import RunCompare
from ..views.runs_table import COLUMNS, RUN_ID_ROLE, RunsProxy, RunsTableModel, run_name
from ..worker import Job, TaskWorker


def continue_tip(cut):
    """Continue training's tooltip for a run whose last epoch was ``cut`` short (run.json's cut_short) or not."""
    if not cut:
        return ("Train the selected run's model further with the run's own settings, exactly as if it had not "
                "stopped; recorded as a new run that names it")
    return ("Train the selected run's model further with the run's own settings; recorded as a new run that names "
            f"it. {runs.cut_short_note(cut['epoch'], cut['fraction'])}")


class RunsPanel(QWidget):
    curvesChanged = Signal(list)           # RunCurves of the ticked runs, in the order they were ticked
    openRequested = Signal(str)            # a run's model folder
    continueRequested = Signal(str, int)   # a run's id, epochs to add
    status = Signal(str)

    def __init__(self, state, parent=None):
        super().__init__(parent)
        self.state = state
        self.table_model = RunsTableModel(self)
        self.proxy = RunsProxy(self.table_model, self)
        self._curves = {}              # run id -> (what its curves were read from, RunCurves)
        self._pending = {"list": False, "compare": None}   # asked for while the job was busy
        self._restoring = False
        self._compared = None          # the pair of runs shown side by side, as (id, version) each
        self.list_job = Job(self, on_done=self._after_list)
        self.curves_job = Job(self, on_done=self._after_curves)
        self.compare_job = Job(self, on_done=self._after_compare)
        self._build()
        self.table_model.ticksChanged.connect(lambda _ids: self._update_curves())
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._on_selection_changed())
        state.trainingStarted.connect(self.refresh)
        state.trainingFinished.connect(self.refresh)
        self._on_selection_changed()
        self.refresh()

    # ---------------------------------------------------------------- layout
    def _build(self):
        self.filter = QLineEdit(placeholderText="Filter: any text of a row (name, tag, model, dataset, optimizer…)")
        self.filter.setClearButtonEnabled(True)
        explain(self.filter, "Show only the runs whose row contains this text, to find one among many")
        self.filter.textChanged.connect(self.proxy.setFilterFixedString)
        self.count_label = QLabel(textFormat=Qt.PlainText)
        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(len(COLUMNS) - 1, Qt.DescendingOrder)   # newest first
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.ExtendedSelection)
        self.table.verticalHeader().hide()
        self.table.setAlternatingRowColors(True)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.doubleClicked.connect(lambda _index: self.open_selected())
        self.compare = RunCompare()
        splitter = QSplitter(Qt.Vertical)
        splitter.addWidget(self.table)
        splitter.addWidget(self.compare)
        splitter.setSizes([300, 400])
        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        top.addWidget(self.filter, 1)
        top.addWidget(self.count_label)
        layout.addLayout(top)
        layout.addLayout(self._buttons())
        layout.addWidget(splitter, 1)

    def _buttons(self):
        row = QHBoxLayout()
        self.buttons = {}
        for key, text, tip, slot in (
                ("refresh", "Refresh", "Read the runs folder again", self.refresh),
                ("open", "Open model", "Open the selected run's model in the app, as File > Open does",
                 self.open_selected),
                ("rename", "Rename…", "Give the selected run a name", self.rename_selected),
                ("tag", "Tags…", "Set the selected run's tags (comma-separated)", self.tag_selected),
                ("delete", "Delete…", "Delete the selected runs and their files (asks first)", self.delete_selected),
                ("continue", "Continue training", continue_tip(None), self.continue_selected)):
            button = QPushButton(text)
            button.setToolTip(tip)
            button.clicked.connect(lambda _=False, s=slot: s())
            self.buttons[key] = button
            row.addWidget(button)
        self.more_epochs = QSpinBox(prefix="+", suffix=" epoch")
        self.more_epochs.setRange(1, 1000)
        self.more_epochs.valueChanged.connect(lambda n: self.more_epochs.setSuffix(" epoch" if n == 1 else " epochs"))
        self.more_epochs.setToolTip("Epochs that Continue training adds to the run")
        row.addWidget(self.more_epochs)
        row.addStretch(1)
        return row

    # ---------------------------------------------------------------- the list
    def showEvent(self, event):
        """Runs recorded elsewhere meanwhile (the CLI, a script) show up when the panel is looked at."""
        super().showEvent(event)
        self.refresh()

    def refresh(self):
        """Read the runs folder again, on a worker; a refresh asked meanwhile runs once that one ends."""
        if self.list_job.running:
            self._pending["list"] = True
            return
        worker = TaskWorker(lambda _progress: runs.list())
        worker.finished.connect(self._show_runs)
        worker.failed.connect(self._list_failed)
        self.list_job.start(worker)

    def _after_list(self):
        if self._pending["list"]:
            self._pending["list"] = False
            self.refresh()

    def _show_runs(self, infos):
        selected = self.selected_ids()
        self._restoring = True     # the reset clears the selection for a moment: not a new choice
        self.table_model.set_runs(infos)
        self.select_runs(selected)
        self._restoring = False
        self._on_selection_changed()
        shown = len(infos)
        self.count_label.setText(f"{shown} run{'s' * (shown != 1)} in {runs.root()}")
        self._update_curves()

    def _list_failed(self, message, _details):
        self.count_label.setText(f"Cannot read the runs folder: {message}")

    def select_runs(self, run_ids):
        """Select exactly these runs (by id), as a click and ctrl-clicks would."""
        selection = self.table.selectionModel()
        selection.clearSelection()
        for row in range(self.proxy.rowCount()):
            if self.proxy.index(row, 0).data(RUN_ID_ROLE) in run_ids:
                selection.select(self.proxy.index(row, 0), QItemSelectionModel.Select | QItemSelectionModel.Rows)

    def selected_ids(self):
        """The selected runs' ids, top to bottom as the table shows them."""
        rows = sorted(index.row() for index in self.table.selectionModel().selectedRows())
        return [self.proxy.index(row, 0).data(RUN_ID_ROLE) for row in rows]

    def selected_infos(self):
        by_id = {info["id"]: info for info in self.table_model.runs}
        return [by_id[run_id] for run_id in self.selected_ids()]

    def _on_selection_changed(self):
        if self._restoring:
            return
        chosen = self.selected_infos()
        one = len(chosen) == 1
        for key in ("open", "rename", "tag", "continue"):
            self.buttons[key].setEnabled(one)
        self.buttons["continue"].setToolTip(continue_tip(one and chosen[0].get("cut_short")))
        self.buttons["delete"].setEnabled(bool(chosen))
        self._compare(chosen if len(chosen) == 2 else None)

    # ---------------------------------------------------------------- overlaid curves
    def _update_curves(self):
        """Hand the ticked runs' curves to the plots, reading those not read yet (or grown since) first."""
        by_id = {info["id"]: info for info in self.table_model.runs}
        wanted = [by_id[run_id] for run_id in self.table_model.ticked if run_id in by_id]
        missing = [info for info in wanted if self._curves.get(info["id"], (None,))[0] != _version(info)]
        if not missing:
            self.curvesChanged.emit([self._curves[info["id"]][1] for info in wanted])
        elif not self.curves_job.running:   # else its end calls this again
            worker = TaskWorker(lambda _progress: {info["id"]: (_version(info), _read_curves(info))
                                                    for info in missing})
            worker.finished.connect(self._keep_curves)
            worker.failed.connect(self._curves_failed)
            self.curves_job.start(worker)

    def _keep_curves(self, read):
        self._curves.update(read)

    def _after_curves(self):
        """Runs ticked while the job read others are read now (one that failed to read was unticked)."""
        self._update_curves()

    def _curves_failed(self, message, _details):
        self.status.emit(f"Cannot draw the ticked runs: {message}")
        for run_id in list(self.table_model.ticked):
            if run_id not in self._curves:
                self.table_model.set_ticked(run_id, False)

    # ---------------------------------------------------------------- compare two runs
    def _compare(self, pair):
        """Show two runs side by side (None: not two selected); their matrices are computed once per pair."""
        key = pair and tuple((info["id"], _version(info)) for info in pair)
        if key == self._compared:
            return
        self._compared = key
        self.compare.show_runs(*(pair or (None, None)))
        if pair is None:
            self._pending["compare"] = None
            if self.compare_job.worker is not None:
                self.compare_job.worker.stop()
            return
        if self.compare_job.running:
            self._pending["compare"] = pair
            self.compare_job.worker.stop()
            return
        self._comparing = pair
        worker = TaskWorker(confusion_matrices(pair, self.state.dataset))
        worker.finished.connect(self._show_matrices)
        worker.failed.connect(self._matrices_failed)
        self.compare_job.start(worker)

    def _after_compare(self):
        pair, self._pending["compare"] = self._pending["compare"], None
        if pair is not None:
            self._compared = None   # shown already, its matrices not computed yet
            self._compare(pair)

    def _show_matrices(self, results):
        for i, (name, result) in enumerate(results):
            if isinstance(result, str):
                self.compare.show_matrix_error(i, name, result)
            else:
                self.compare.show_matrix(i, name, *result)

    def _matrices_failed(self, message, _details):
        for i, info in enumerate(self._comparing):
            self.compare.show_matrix_error(i, run_name(info), message)

    # ---------------------------------------------------------------- actions on a run
    def _one(self):
        chosen = self.selected_infos()
        return chosen[0] if len(chosen) == 1 else None

    def open_selected(self):
        info = self._one()
        if info is not None:
            try:
                folder = run_model_folder(info["id"])
            except NumpynetError as exc:
                show_error(self.window(), "Cannot open the run's model", str(exc))
            else:
                self.openRequested.emit(str(folder))

    def rename_selected(self):
        info = self._one()
        if info is None:
            return
        name, ok = QInputDialog.getText(self, "Rename run", f"New name for the run {run_name(info)}:",
                                        text=info.get("name") or "")
        if ok:
            self._edit(runs.rename, info, name.strip() or None)

    def tag_selected(self):
        info = self._one()
        if info is None:
            return
        text, ok = QInputDialog.getText(self, "Tags", f"Tags of the run {run_name(info)}, comma-separated:",
                                        text=", ".join(info.get("tags") or []))
        if ok:
            self._edit(runs.tag, info, [t.strip() for t in text.split(",") if t.strip()])

    def _edit(self, change, info, value):
        try:
            change(info["id"], value)
        except (NumpynetError, OSError) as exc:
            show_error(self.window(), "Cannot change the run", f"Run {run_name(info)}: {exc}")
        self.refresh()

    def delete_selected(self):
        chosen = self.selected_infos()
        running = [run_name(info) for info in chosen if info.get("status") == "running"]
        if running:
            show_error(self.window(), "Cannot delete a run while it trains",
                       f"The run {', '.join(running)} is still training.", advice="Stop it first, then delete it.")
            return
        if chosen and self._confirm_delete(chosen):
            for info in chosen:
                self._delete(info)
            self.refresh()

    def _confirm_delete(self, chosen):
        names = "\n".join(f"  {run_name(info)}  ({info['id']})" for info in chosen)
        box = QMessageBox(QMessageBox.Warning, "Delete runs?" if len(chosen) > 1 else "Delete the run?",
                          f"Delete {'these runs' if len(chosen) > 1 else 'the run'} and all their files "
                          f"(curves, settings, models)?\n\n{names}\n\nThis cannot be undone.",
                          QMessageBox.Yes | QMessageBox.No, self)
        box.setTextFormat(Qt.PlainText)
        box.setDefaultButton(QMessageBox.No)
        return box.exec() == QMessageBox.Yes

    def _delete(self, info):
        try:
            runs.delete(info["id"])
        except (NumpynetError, OSError) as exc:
            show_error(self.window(), "Cannot delete the run", f"Run {run_name(info)}: {exc}")
        else:
            self.table_model.set_ticked(info["id"], False)
            self.status.emit(f"Deleted the run {run_name(info)}")

    def continue_selected(self):
        info = self._one()
        if info is not None:
            self.continueRequested.emit(info["id"], self.more_epochs.value())


def _version(info):
    """What a run's record was read at: its curves grow while it trains, and its name labels them."""
    return info.get("status"), info.get("epochs_done"), info.get("ended"), info.get("name")


def _read_curves(info):
    return RunCurves.from_run(runs.load(info["id"]), run_name(info))


def run_model_folder(run_id):
    """The folder of the run's last model, as File > Open takes it; a RunError when the run saved none."""
    folder = runs.find(run_id) / run_files.MODEL
    if not folder.is_dir():
        raise RunError(f"the run {run_id} saved no model (it stopped before its first epoch ended)")
    return folder


def run_of_model_folder(path):
    """The id of the run whose last model is the folder ``path``; None for any other folder (or None)."""
    if path is None:
        return None
    folder = Path(path).resolve()
    if folder.name != run_files.MODEL or folder.parent.parent != runs.root().resolve():
        return None
    return folder.parent.name
