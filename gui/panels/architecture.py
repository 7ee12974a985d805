"""The Architecture panel: palette, layer list, live shape table, form and drawing.

Every edit is one undoable command on a ``Document``. After each one the
document is analysed by the core; a valid network becomes the app's model
(``state.set_model``) with the weights of every layer whose shapes did not
change, an invalid one is reported through ``state.set_architecture_valid``
and the current model is left alone. While training runs, editing is off.

``ask(title, text) -> bool`` and ``warn(title, text)`` are attributes, so tests
and scripts can answer the questions a user would.
"""
import copy
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence, QUndoStack
from PySide6.QtWidgets import (QFileDialog, QGroupBox, QHBoxLayout, QLabel, QMenu, QMessageBox, QScrollArea,
                               QSplitter, QStyle, QToolButton, QVBoxLayout, QWidget)

from core import optimizers, zoo
from core.errors import ModelFileError
from core.serialization import load_architecture, save_architecture

from ..editor.commands import EditCommand
from ..editor.diagram import NetworkDiagram
from ..editor.document import Document, Expectation, WeightBank
from ..editor.form import LayerForm, ShapeEditor
from ..editor.layer_list import LayerListView
from ..editor.palette import Palette
from ..editor.shape_table import ShapeTable
from ..format import shape_text
from ..hover_help import explain

TRAINING_NOTE = "Training is running: the architecture is read-only until it stops."


class ArchitecturePanel(QWidget):
    def __init__(self, state, parent=None):
        super().__init__(parent)
        self.state = state
        self.doc = Document()
        self.bank = WeightBank()
        self.undo_stack = QUndoStack(self)
        self.analysis = self.doc.analyse()
        self.selected_uid = None
        self.ask = self._ask_user
        self.warn = self._warn_user
        self._model = None       # the model the document last matched (handed out or adopted) ...
        self._model_uids = []    # ... the uids of its layers ...
        self._model_path = None  # ... and the folder it came from
        self._consented = None   # the trained model the user agreed to change
        self._dataset_pending = False
        self._build_ui()
        self._connect()
        if state.model is not None:
            self._adopt(state.model)
        elif state.dataset is not None:
            self.doc.follow(Expectation.of(state.dataset))
        self._refresh()

    # ----- construction -------------------------------------------------------------
    def _build_ui(self):
        self._make_actions()
        self.palette = Palette()
        self.list = LayerListView()
        self.layer_model = self.list.model()
        self.input_editor = ShapeEditor()
        self.table = ShapeTable()
        self.form = LayerForm()
        self.diagram = NetworkDiagram()
        self.training_note = QLabel(TRAINING_NOTE)
        self.training_note.setStyleSheet("background:#fef7e0; color:#7a4f01; border:1px solid #f9d77e;"
                                         "border-radius:4px; padding:4px 8px;")
        self.training_note.hide()

        top = QSplitter(Qt.Horizontal)
        top.addWidget(_boxed("Add layer", _scrolling(self.palette)))
        top.addWidget(_boxed("Layers", self._list_column()))
        top.addWidget(_boxed("Shapes and parameters", self.table))
        top.addWidget(_boxed("Selected layer", _scrolling(self.form)))
        for i, stretch in enumerate((0, 2, 3, 2)):
            top.setStretchFactor(i, stretch)
        top.setSizes([150, 270, 420, 330])
        top.setChildrenCollapsible(False)
        drawing = QScrollArea(widgetResizable=True, frameShape=QScrollArea.NoFrame)
        drawing.setWidget(self.diagram)
        drawing.setHorizontalScrollBarPolicy(Qt.ScrollBarAsNeeded)
        drawing.setVerticalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        drawing.setMinimumHeight(self.diagram.minimumHeight())   # the drawing fits its height: never clip it
        main = QSplitter(Qt.Vertical)
        main.addWidget(top)
        main.addWidget(_boxed("Network", drawing))
        main.setStretchFactor(0, 3)
        main.setStretchFactor(1, 2)
        main.setSizes([470, 280])
        main.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(self._toolbar())
        layout.addWidget(main, 1)

    def _make_actions(self):
        icon = self.style().standardIcon
        specs = {  # name: (text, shortcuts, icon, tip)
            "undo": ("Undo", ["Ctrl+Z"], QStyle.SP_ArrowBack, "Undo the last edit"),
            "redo": ("Redo", ["Ctrl+Shift+Z", "Ctrl+Y"], QStyle.SP_ArrowForward, "Redo the edit undone last"),
            "up": ("Up", ["Ctrl+Up"], QStyle.SP_ArrowUp, "Move the selected layer up"),
            "down": ("Down", ["Ctrl+Down"], QStyle.SP_ArrowDown, "Move the selected layer down"),
            "duplicate": ("Duplicate", ["Ctrl+D"], QStyle.SP_FileDialogNewFolder,
                          "Insert a copy of the selected layer below it"),
            "delete": ("Delete", ["Delete"], QStyle.SP_TrashIcon, "Delete the selected layer"),
            "empty": ("Empty", [], QStyle.SP_FileIcon, "Start from an empty network (keeps the input shape)"),
            # No Ctrl+O / Ctrl+S: the window's File menu has them (open / save the model).
            "open": ("Open…", [], QStyle.SP_DialogOpenButton,
                     "Open an architecture (.json: this editor's files or a saved model's model.json)"),
            "save": ("Save…", [], QStyle.SP_DialogSaveButton,
                     "Save the architecture as JSON (the 'architecture' schema of model.json)"),
        }
        self.actions = {}
        for name, (text, keys, pixmap, tip) in specs.items():
            action = QAction(icon(pixmap), text, self)
            action.setShortcuts([QKeySequence(k) for k in keys])
            action.setShortcutContext(Qt.WidgetWithChildrenShortcut)
            shown = f" ({', '.join(keys)})" if keys else ""
            explain(action, tip + shown)   # its toolbar button copies both when the action changes
            self.addAction(action)
            self.actions[name] = action

    def _toolbar(self):
        self.presets_button = QToolButton(text="Presets", popupMode=QToolButton.InstantPopup, autoRaise=True)
        self.presets_button.setIcon(self.style().standardIcon(QStyle.SP_FileDialogListView))
        self.presets_button.setToolButtonStyle(Qt.ToolButtonTextBesideIcon)
        self.presets_button.setToolTip("Start from a network of the model zoo")
        menu = QMenu(self.presets_button)
        for name in zoo.names():
            action = menu.addAction(f"{name}  —  {zoo.describe(name)}")
            action.triggered.connect(lambda _=False, n=name: self.load_preset(n))
        self.presets_button.setMenu(menu)
        row = QHBoxLayout()
        row.addWidget(self.presets_button)
        for group in (("empty",), ("undo", "redo"), ("open", "save")):
            for name in group:
                row.addWidget(_tool_button(self.actions[name]))
            row.addSpacing(12)
        row.addWidget(self.training_note)
        row.addStretch(1)
        return row

    def _list_column(self):
        column = QWidget()
        layout = QVBoxLayout(column)
        layout.setContentsMargins(0, 0, 0, 0)
        shape_row = QHBoxLayout()
        shape_row.addWidget(QLabel("Input"))
        shape_row.addWidget(self.input_editor, 1)
        layout.addLayout(shape_row)
        layout.addWidget(self.list, 1)
        buttons = QHBoxLayout()
        buttons.setSpacing(2)
        for name in ("up", "down", "duplicate", "delete"):
            buttons.addWidget(_tool_button(self.actions[name], text_beside=False))
        buttons.addStretch(1)
        layout.addLayout(buttons)
        return column

    def _connect(self):
        a = self.actions
        a["undo"].triggered.connect(self.undo)
        a["redo"].triggered.connect(self.redo)
        a["up"].triggered.connect(lambda: self.move_selected(-1))
        a["down"].triggered.connect(lambda: self.move_selected(+1))
        a["duplicate"].triggered.connect(self.duplicate_selected)
        a["delete"].triggered.connect(self.delete_selected)
        a["empty"].triggered.connect(self.start_empty)
        a["open"].triggered.connect(self._open_dialog)
        a["save"].triggered.connect(self._save_dialog)
        self.palette.chosen.connect(self.add_layer)
        self.form.edited.connect(self.set_field)
        self.form.trainable.toggled_for.connect(self.set_trainable)
        self.input_editor.edited.connect(self.set_input_shape)
        self.list.selectionModel().selectionChanged.connect(self._list_selection_changed)
        self.layer_model.moveRequested.connect(self._move_row, Qt.QueuedConnection)  # not inside the view's drop
        self.table.rowSelected.connect(self.select_layer)
        self.diagram.layerClicked.connect(self.select_layer)
        self.state.modelChanged.connect(self._model_changed)
        self.state.datasetChanged.connect(self._dataset_changed)
        self.state.trainingStarted.connect(self._update_actions)
        self.state.trainingFinished.connect(self._training_finished)

    # ----- edits (public: what the widgets do, callable from tests and scripts) -----------
    def add_layer(self, type_name):
        """Insert a layer of ``type_name`` below the selected one (at the end when none is)."""
        index = self._selected_index()
        at = len(self.doc.items) if index is None else index + 1
        return self._edit(f"Add {type_name}", lambda d: d.insert(at, type_name))

    def set_field(self, uid, name, value):
        item = self.doc.item(uid)
        text = f"Set {item.type} #{self.doc.index_of(uid) + 1} {name}"
        self._edit(text, lambda d: d.set_field(uid, name, value), merge_key=(uid, name))

    def set_trainable(self, uid, trainable):
        """Freeze (False) or thaw a layer: one undoable edit; its weights stay, only training treats it otherwise."""
        item = self.doc.item(uid)
        what = "Thaw" if trainable else "Freeze"
        self._edit(f"{what} {item.type} #{self.doc.index_of(uid) + 1}", lambda d: d.set_trainable(uid, trainable))

    def set_input_shape(self, shape):
        self._edit("Set input shape", lambda d: d.set_input_shape(shape), merge_key=("input",))

    def move_selected(self, step):
        index = self._selected_index()
        if index is not None and 0 <= index + step < len(self.doc.items):
            self._move_row(index, index + step)

    def _move_row(self, source, target):
        uid = self.doc.items[source].uid
        self._edit(f"Move {self.doc.items[source].type}", lambda d: d.move(uid, target), select=uid)

    def duplicate_selected(self):
        if self.selected_uid is not None:
            uid = self.selected_uid
            self._edit(f"Duplicate {self.doc.item(uid).type}", lambda d: d.duplicate(uid))

    def delete_selected(self):
        index = self._selected_index()
        if index is None:
            return
        uids = self.doc.uids
        neighbour = uids[index + 1] if index + 1 < len(uids) else (uids[index - 1] if index else None)
        self._edit(f"Delete {self.doc.items[index].type}", lambda d: d.remove(uids[index]), select=neighbour)

    def load_preset(self, name):
        expect = Expectation.of(self.state.dataset)
        config = zoo.build(name, classes=self._classes()).get_config()  # every preset builds at 1x28x28
        config["input_shape"] = list(expect.input_shape if expect else self.doc.input_shape)
        self._edit(f"Preset {name}", lambda d: d.replace(config), select=None)

    def start_empty(self):
        self._edit("Start from empty", lambda d: d.replace({"layers": []}), select=None)

    def load_json(self, path):
        """Replace the architecture by the one in ``path``; a bad file is a warning. Returns success."""
        try:
            config = load_architecture(path)
        except ModelFileError as e:
            self.warn("Cannot open the architecture", str(e))
            return False
        return self._edit(f"Open {Path(path).name}", lambda d: d.replace(config), select=None)

    def save_json(self, path):
        try:
            save_architecture(path, self.doc.config())
        except OSError as e:
            self.warn("Cannot save the architecture", f"{path}: {e.strerror or e}")
            return False
        return True

    def undo(self):
        if self.undo_stack.canUndo() and self._may_edit():
            self.undo_stack.undo()
            self._update_actions()

    def redo(self):
        if self.undo_stack.canRedo() and self._may_edit():
            self.undo_stack.redo()
            self._update_actions()

    def select_layer(self, index):
        """Select layer ``index`` (0-based) in every view; -1 or None clears the selection."""
        self.list.select_row(index if index is not None and index >= 0 else None)

    # ----- the edit path --------------------------------------------------------------
    def _edit(self, text, mutate, merge_key=None, select=..., why=""):
        """Run ``mutate(document)`` as one undoable step. ``mutate`` may return the uid to select
        (or pass ``select``); ``why`` the user did not ask for it, if so. Returns False when refused
        (training, or the user said no)."""
        if not self._may_edit(why):
            self._refresh()  # puts the form's widgets back to the document's values
            return False
        before, selected_before = self.doc.snapshot(), self.selected_uid
        result = mutate(self.doc)
        after = self.doc.snapshot()
        self.doc.restore(before)
        if after == before:
            return True
        selected_after = select if select is not ... else (result if result is not None else self.selected_uid)
        self.undo_stack.push(EditCommand(self._apply_snapshot, before, after, text,
                                         (selected_before, selected_after), merge_key))
        self._update_actions()  # the stack's index moves after the command ran
        return True

    def _apply_snapshot(self, snapshot, selected):
        self.doc.restore(snapshot)
        self.selected_uid = selected if selected in self.doc.uids else None
        self._refresh()

    def _may_edit(self, why=""):
        """Never while training; for a trained model, only after the user agreed (once per model).
        ``why``: a sentence saying what asks for an edit the user did not make (a dataset loaded)."""
        if self.state.training:
            return False
        model = self.state.model
        trained = model is not None and (bool(model.train_history) or self.state.model_path is not None)
        if not trained or model is self._consented:
            return True
        epochs = model.epochs_trained
        origin = (f"was loaded from {self.state.model_path}" if self.state.model_path is not None
                  else f"has been trained for {epochs} epoch{'s' * (epochs != 1)}")
        if self.ask("Change a trained model?",
                    f"{why}This model {origin}. Changing its architecture makes a new model: layers whose "
                    f"parameter shapes stay the same keep their trained weights, the others start "
                    f"untrained, and its training history is not carried over.\n\nChange the architecture?"):
            self._consented = model
            return True
        return False

    def _refresh(self):
        """Analyse the document, update every view, and hand a valid network to the app."""
        self.analysis = self.doc.analyse(Expectation.of(self.state.dataset))
        index = self._selected_index()
        self.layer_model.set_layers(self.doc.items, self.analysis.rows)
        self.list.selectionModel().blockSignals(True)
        self.list.select_row(index)
        self.list.selectionModel().blockSignals(False)
        self.input_editor.set_value(self.doc.input_shape)
        self.table.show_analysis(self.doc.items, self.analysis, index)
        self.diagram.set_network(self.doc.input_shape, self.doc.items, self.analysis.rows, index)
        self._show_form()
        self._update_actions()
        if not self.state.training:
            self._publish()

    def _publish(self):
        a = self.analysis
        if a.valid and not self._document_is_model():
            model = a.model
            self.bank.restore(self.doc.uids, model)
            _carry_over(self.state.model, model)
            self.bank.record(self.doc.uids, model)
            self._model, self._model_uids, self._model_path = model, self.doc.uids, None
            self.state.set_model(model)
        verdict = (a.valid, a.problem or "")
        if verdict != (self.state.architecture_valid, self.state.invalid_reason):
            self.state.set_architecture_valid(*verdict)

    def _document_is_model(self):
        model = self.state.model
        return (model is not None and model is self._model and self._model_uids == self.doc.uids
                and model.get_config() == self.doc.config())

    # ----- the app's state -------------------------------------------------------------
    def _model_changed(self, model):
        if model is not None and model is self._model:
            return  # ours
        if not self.state.training:
            self._adopt(model, keep_history=self.state.model_path == self._model_path)
            self._refresh()

    def _adopt(self, model, keep_history=False):
        """Show a model from elsewhere: a new document, undo history and weight bank, unless
        ``keep_history`` and the architecture is the document's (the same model, trained further)."""
        if not (keep_history and model is not None and model.get_config() == self.doc.config()):
            index = self._selected_index()
            config = model.get_config() if model is not None else {"input_shape": self.doc.input_shape,
                                                                  "layers": []}
            self.doc = Document.from_config(config)
            self.undo_stack.clear()
            self.bank.clear()
            self.selected_uid = self.doc.uids[index] if index is not None and index < len(self.doc.uids) else None
        self._model, self._model_uids, self._model_path = model, self.doc.uids, self.state.model_path
        if model is not None:
            self.bank.record(self.doc.uids, model)

    def _dataset_changed(self, dataset):
        if self.state.training:
            self._dataset_pending = True
            return
        expect = Expectation.of(dataset)
        if expect is not None and self.doc.copy().follow(expect):
            self._edit(f"Follow dataset {expect.name}", lambda d: d.follow(expect), select=self.selected_uid,
                       why=self._misfit(expect))
        else:
            self._refresh()

    def _misfit(self, expect):
        """Why a loaded dataset asks to change the model: what it holds against what the model takes."""
        model = self.state.model
        if model is None:
            return ""
        return (f"{expect.name} has {shape_text(expect.input_shape)} images in {expect.classes} classes; the "
                f"model takes {shape_text(model.input_shape)} images and has {model.output_shape[-1]} outputs. "
                "Yes changes the network to match; No keeps the model as it is, for its own data (it "
                "cannot be trained on this data until it matches).\n\n")

    def _training_finished(self):
        if self.state.model is not None:
            self._adopt(self.state.model, keep_history=True)  # banks the trained weights for undo
        if self._dataset_pending:
            self._dataset_pending = False
            self._dataset_changed(self.state.dataset)
        else:
            self._refresh()

    def _classes(self):
        expect = Expectation.of(self.state.dataset)
        if expect is not None:
            return expect.classes
        rows = self.analysis.rows
        out = rows[-1].output_shape if rows else None
        return out[0] if out is not None and len(out) == 1 else 10

    # ----- selection and enabled states ---------------------------------------------------
    def _selected_index(self):
        return self.doc.index_of(self.selected_uid) if self.selected_uid in self.doc.uids else None

    def _list_selection_changed(self):
        row = self.list.current_row()
        self.selected_uid = self.doc.items[row].uid if row is not None else None
        self.table.select_layer(row)
        self.diagram.set_selected(row)
        self._show_form()
        self._update_actions()

    def _show_form(self):
        index = self._selected_index()
        if index is None:
            self.form.show_layer(None, None, None)
        else:
            self.form.show_layer(index, self.doc.items[index], self.analysis.rows[index])

    def _update_actions(self):
        editable = not self.state.training
        index, count = self._selected_index(), len(self.doc.items)
        a = self.actions
        a["undo"].setEnabled(editable and self.undo_stack.canUndo())
        a["redo"].setEnabled(editable and self.undo_stack.canRedo())
        undo_text, redo_text = self.undo_stack.undoText(), self.undo_stack.redoText()
        explain(a["undo"], f"Undo: {undo_text} (Ctrl+Z)" if undo_text else "Nothing to undo")
        explain(a["redo"], f"Redo: {redo_text} (Ctrl+Shift+Z)" if redo_text else "Nothing to redo")
        a["up"].setEnabled(editable and bool(index))
        a["down"].setEnabled(editable and index is not None and index < count - 1)
        for name in ("duplicate", "delete"):
            a[name].setEnabled(editable and index is not None)
        for name in ("empty", "open"):
            a[name].setEnabled(editable)
        for widget in (self.palette, self.form, self.input_editor, self.presets_button):
            widget.setEnabled(editable)
        self.list.set_editable(editable)
        self.training_note.setVisible(not editable)

    # ----- dialogs -------------------------------------------------------------------
    def _open_dialog(self):
        path, _ = QFileDialog.getOpenFileName(self, "Open architecture", "", "Architecture or model.json (*.json)")
        if path:
            self.load_json(path)

    def _save_dialog(self):
        path, _ = QFileDialog.getSaveFileName(self, "Save architecture", "architecture.json",
                                              "Architecture (*.json)")
        if path:
            self.save_json(path)

    def _ask_user(self, title, text):
        box = QMessageBox(QMessageBox.Question, title, text, QMessageBox.Yes | QMessageBox.No, self)
        box.setTextFormat(Qt.PlainText)   # a dataset's or a folder's name may hold '<'
        box.setDefaultButton(QMessageBox.No)
        return box.exec() == QMessageBox.Yes

    def _warn_user(self, title, text):
        QMessageBox.warning(self, title, text)


def _carry_over(old, new):
    """What a changed model inherits: its metadata (minus the metrics, which were for the old one,
    and class names that no longer fit), a fresh optimizer of the same configuration, and the same loss
    (a Loss keeps no state, and one of the user's own may not be registered by name)."""
    if old is None:
        return
    meta = {k: copy.deepcopy(v) for k, v in old.meta.items() if k != "metrics"}
    names = meta.get("class_names")
    if names is not None and (len(new.output_shape) != 1 or len(names) != new.output_shape[0]):
        del meta["class_names"]
    new.meta = meta
    if old.optimizer is not None and old.loss is not None:
        new.compile(optimizers.from_config(old.optimizer.get_config()), old.loss)


def _boxed(title, widget):
    box = QGroupBox(title)
    layout = QVBoxLayout(box)
    layout.setContentsMargins(6, 6, 6, 6)
    layout.addWidget(widget)
    return box


def _scrolling(widget):
    area = QScrollArea(widgetResizable=True, frameShape=QScrollArea.NoFrame)
    area.setWidget(widget)
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
    return area


def _tool_button(action, text_beside=True):
    button = QToolButton()
    button.setDefaultAction(action)
    button.setToolButtonStyle(Qt.ToolButtonTextBesideIcon if text_beside else Qt.ToolButtonIconOnly)
    button.setAutoRaise(True)
    return button
