"""The main window: the docked panels (one per tab) around one AppState, menus, status bar, settings.

The window wires panels to the state (and the Data panel's validation
fraction to Training); panels never talk to each other. It opens the
pretrained model on start-up, remembers geometry and choices in QSettings,
and on close stops background threads, waiting for them a bounded time.
"""
import time
from pathlib import Path

from PySide6.QtCore import QEvent, Qt, QTimer
from PySide6.QtGui import QAction, QIcon, QKeySequence
from PySide6.QtWidgets import QDockWidget, QFileDialog, QMainWindow, QMessageBox, QTabWidget, QWidget

from core import load_model, resources, zoo
from core.errors import ModelFileError, NumpynetError

from . import unsaved
from .format import esc
from .hover_help import add_status_tips
from .messages import show_error
from .model_files import ask_open_path, export_onnx_dialog, is_onnx, model_name, read_model
from .panels import (ArchitecturePanel, DataPanel, DrawPanel, EvaluationPanel, InsidePanel, LabPanel, RunsPanel,
                     TrainingPanel)
from .panels.runs import run_model_folder, run_of_model_folder
from .settings import Settings, documents_folder
from .state import AppState, ModelSource
from .views.lazy import LazyRefresh
from .worker import Job

ASSETS = resources.shipped("assets")
SAVED_MODELS = resources.shipped("saved_models")
STARTUP_MODEL = SAVED_MODELS / "lenet5-mnist"
CLOSE_WAIT_MS = 1000   # closing waits this long for background work to stop, then leaves it behind
PANEL_ORDER = ("Data", "Architecture", "Training", "Inside", "Evaluation", "Draw", "Runs", "Lab")
SHORTCUTS = [("Ctrl+O", "Open a saved model or an ONNX file"), ("Ctrl+S", "Save the model"),
             ("Ctrl+Shift+S", "Save the model as…"),
             ("Ctrl+Q", "Quit"),
             ("Ctrl+1 … Ctrl+8", "Show Data, Architecture, Training, Inside, Evaluation, Draw, Runs, Lab"),
             ("F5", "Start training"), ("F6", "Pause / resume training"), ("Shift+F5", "Stop training"),
             ("F1", "Keyboard shortcuts")]


def app_icon():
    return QIcon(str(ASSETS / "icon.svg"))


def _build_panels(state):
    """The view panels, each listening to ``state``; created in this one place."""
    return {"Architecture": ArchitecturePanel(state), "Runs": RunsPanel(state), "Inside": InsidePanel(state),
            "Evaluation": EvaluationPanel(state), "Draw": DrawPanel(state), "Lab": LabPanel(state)}


def _shipped(path):
    """Whether ``path`` is inside the installed saved_models/ (the pretrained models the app ships)."""
    return Path(path).resolve().is_relative_to(SAVED_MODELS.resolve())


def _catch_up(dock):
    """A dock raised from behind another tab gets no showEvent: its model copies take the snapshot that
    waited, then its lazy views redraw now. A Lab page behind another of the Lab's tabs is not visible to Qt:
    it waits for its own Show (``ModelSource.eventFilter``)."""
    for source in dock.findChildren(ModelSource):
        if source.parent().isVisible():
            source.catch_up()
    for view in dock.findChildren(QWidget):
        if isinstance(view, LazyRefresh):
            view.catch_up()


class MainWindow(QMainWindow):
    def __init__(self, state=None, settings=None, autoload_data=True):
        super().__init__()
        self.state = state or AppState(self)
        self.settings = settings if isinstance(settings, Settings) else Settings(settings)
        self.setWindowTitle("numpynet studio")
        self.setWindowIcon(app_icon())
        self.setObjectName("MainWindow")
        self.setDockNestingEnabled(True)
        self.data_panel = DataPanel(self.state, self.settings)
        self.training_panel = TrainingPanel(self.state, self.settings)
        self.panels = {"Data": self.data_panel, "Training": self.training_panel, **_build_panels(self.state)}
        self.docks = {}
        self._build_docks()
        add_status_tips(self)   # every tooltip of every tab also in the status bar, following later changes
        self._said, self._tip = "", None   # the status bar's last message, and the hover tip over it if any
        self.statusBar().messageChanged.connect(self._remember_message)
        self._build_menus()
        self._wire()
        self.statusBar().showMessage("Ready")
        self._restore_window()
        self.open_startup_model()
        if autoload_data:   # the last dataset (MNIST at first), if it is on this computer; never a download
            QTimer.singleShot(0, lambda: self.data_panel.load(download=False))

    # ---------------------------------------------------------------- layout
    def _build_docks(self):
        first = None
        for title in PANEL_ORDER:
            dock = QDockWidget(title, self)
            dock.setObjectName(f"dock{title}")
            dock.setWidget(self.panels[title])
            dock.setFeatures(QDockWidget.DockWidgetMovable | QDockWidget.DockWidgetFloatable
                             | QDockWidget.DockWidgetClosable)
            dock.setTitleBarWidget(QWidget())   # the tabs name the panels; drag a tab out to undock it
            self.addDockWidget(Qt.TopDockWidgetArea, dock)
            dock.visibilityChanged.connect(lambda visible, d=dock: visible and _catch_up(d))
            if first is None:
                first = dock
            else:
                self.tabifyDockWidget(first, dock)
            self.docks[title] = dock
        self.setTabPosition(Qt.AllDockWidgetAreas, QTabWidget.North)
        self.docks["Training"].raise_()

    def _build_menus(self):
        file = self.menuBar().addMenu("&File")
        self.open_action = self._action(file, "&Open model…", self.open_model_dialog, QKeySequence.Open)
        self.recent_menu = file.addMenu("Open &recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        file.addSeparator()
        self.save_action = self._action(file, "&Save model", self.save_model, QKeySequence.Save)
        self.save_as_action = self._action(file, "Save model &as…", self.save_model_as, "Ctrl+Shift+S")
        self.export_onnx_action = self._action(file, "&Export as ONNX…", lambda: export_onnx_dialog(self))
        file.addSeparator()
        self._action(file, "&Quit", self.close, "Ctrl+Q").setMenuRole(QAction.QuitRole)

        training = self.menuBar().addMenu("&Training")
        tp = self.training_panel
        for action in (tp.start_action, tp.pause_action, tp.stop_action, tp.pace.step_action, tp.pace.more_action):
            training.addAction(action)

        view = self.menuBar().addMenu("&View")
        for i, title in enumerate(PANEL_ORDER):
            toggle = self.docks[title].toggleViewAction()
            view.addAction(toggle)
            show = QAction(f"Go to {title}", self)
            show.setShortcut(QKeySequence(f"Ctrl+{i + 1}"))
            show.triggered.connect(lambda _=False, t=title: self.show_panel(t))
            self.addAction(show)
        view.addSeparator()
        self._action(view, "Reset layout", self.reset_layout)

        help_menu = self.menuBar().addMenu("&Help")
        self._action(help_menu, "&Keyboard shortcuts", self.show_shortcuts, "F1")
        self._action(help_menu, "&About numpynet studio", self.show_about).setMenuRole(QAction.AboutRole)

    def _action(self, menu, text, slot, shortcut=None):
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(lambda _=False: slot())
        menu.addAction(action)
        return action

    def _wire(self):
        bar = self.statusBar()
        self.data_panel.status.connect(bar.showMessage)
        self.training_panel.status.connect(bar.showMessage)
        self.data_panel.validationFractionChanged.connect(self.training_panel.set_validation_fraction)
        self.training_panel.set_validation_fraction(self.data_panel.choice()["validation"])
        self.state.trainingStarted.connect(self._update_file_actions)
        self.state.trainingFinished.connect(self._update_file_actions)
        self.state.modelChanged.connect(lambda _m: self._update_title())
        self.state.modelSaved.connect(lambda _path: self._update_title())
        for change in (self.state.trainingStarted, self.state.trainingFinished):
            change.connect(self._update_title)
        evaluation, inside = self.panels["Evaluation"], self.panels["Inside"]
        evaluation.mistakesFound.connect(inside.set_mistakes)
        evaluation.inspectRequested.connect(self._look_inside)
        self.panels["Lab"].inspectRequested.connect(self._look_inside)
        runs_panel = self.panels["Runs"]
        runs_panel.status.connect(bar.showMessage)
        runs_panel.curvesChanged.connect(self.training_panel.plots.overlays.show)
        runs_panel.openRequested.connect(self.open_model)
        runs_panel.continueRequested.connect(self.continue_run)

    def continue_run(self, run_id, epochs):
        """Continue a recorded run: its model is opened first (as File > Open does) unless it is the current one."""
        if self.training_panel.current_run() != run_id:
            try:
                folder = run_model_folder(run_id)
            except NumpynetError as exc:
                show_error(self, "Cannot continue the run", str(exc))
                return
            if not self.open_model(folder):
                return
        self.show_panel("Training")
        self.training_panel.continue_run(run_id, epochs)

    def _look_inside(self, test_index):
        """A mistake clicked in Evaluation (or a point in the Lab) opens in Inside, where its feature maps show why."""
        self.panels["Inside"].show_test_index(test_index)
        self.show_panel("Inside")

    def show_panel(self, title):
        dock = self.docks[title]
        dock.show()
        dock.raise_()

    def reset_layout(self):
        first = self.docks[PANEL_ORDER[0]]
        for title in PANEL_ORDER:
            dock = self.docks[title]
            dock.setFloating(False)
            self.addDockWidget(Qt.TopDockWidgetArea, dock)
            if dock is not first:
                self.tabifyDockWidget(first, dock)
            dock.show()
        self.show_panel("Training")

    # ---------------------------------------------------------------- models
    def open_startup_model(self):
        """The pretrained LeNet-5 if it ships; otherwise an untrained one, and say so."""
        try:
            model = load_model(STARTUP_MODEL)
        except ModelFileError:
            model = zoo.build("lenet5", seed=0)
            self.state.set_model(model, None)
            self.statusBar().showMessage(f"No pretrained model at saved_models/{STARTUP_MODEL.name}: "
                                         f"started with an untrained LeNet-5; train it on the Training tab.")
        else:
            self.state.set_model(model, str(STARTUP_MODEL))
            self.statusBar().showMessage(f"Opened the pretrained {STARTUP_MODEL.name}")

    def open_model_dialog(self):
        start = self.settings.get("models/last_folder") or str(SAVED_MODELS)
        path = ask_open_path(self, start)
        if path:
            self.open_model(path)

    def open_model(self, path):
        """Load a saved-model folder or an ONNX file; a bad one is a message, and the current model stays."""
        if self.state.training:
            self.statusBar().showMessage("Stop training before opening another model.")
            return False
        if not unsaved.may_replace(self, self.state, f"Opening {Path(path).name}"):
            return False
        try:
            model = read_model(path)
        except NumpynetError as exc:
            show_error(self, "Cannot open the model", str(exc),
                       advice="Choose a folder saved by numpynet studio (it holds model.json and weights.npz), "
                              "or an ONNX file of supported layers.")
            return False
        self._remember_model_path(path)
        self.state.set_model(model, str(path))
        self.statusBar().showMessage(f"Opened {path}")
        return True

    def save_model(self):
        path = self.state.model_path
        if path is None or _shipped(path) or is_onnx(path) or run_of_model_folder(path):
            return self.save_model_as()   # never overwrite a shipped model or a run's record unasked, nor write a file
        return self.save_model_to(path)

    def save_model_as(self):
        suggestion = self.save_folder() / (model_name(self.state.model_path) + "-retrained" if self.state.model_path
                                           else "my-model")
        path, _ = QFileDialog.getSaveFileName(self, "Save model as (a folder)", str(suggestion))
        return self.save_model_to(path) if path else False

    def save_folder(self):
        """Where Save as starts: the folder last used for a model, else the user's documents; never the
        installed saved_models/ (a packaged install's folder is not the user's to write)."""
        last = self.settings.get("models/last_folder")
        if last and Path(last).is_dir() and not _shipped(last):
            return Path(last)
        return documents_folder()

    def save_model_to(self, path):
        model = self.state.model
        if model is None or self.state.training:
            self.statusBar().showMessage("Nothing to save while training runs; stop it first.")
            return False
        try:
            model.save(path)
        except ModelFileError as exc:
            show_error(self, "Cannot save the model", str(exc),
                       advice="Choose another folder, or free some disk space. The model is still open.")
            return False
        self._remember_model_path(path)
        self.state.set_saved(path)
        self.statusBar().showMessage(f"Saved the model to {path}")
        return True

    def _remember_model_path(self, path):
        self.settings.set("models/last_folder", str(Path(path).parent))
        self.settings.add_recent_model(str(path))

    def _fill_recent(self):
        self.recent_menu.clear()
        recent = self.settings.recent_models()
        for path in recent:
            self.recent_menu.addAction(path).triggered.connect(lambda _=False, p=path: self.open_model(p))
        if not recent:
            self.recent_menu.addAction("No recent models").setEnabled(False)

    def _update_file_actions(self):
        idle = not self.state.training
        for action in (self.open_action, self.save_action, self.save_as_action, self.export_onnx_action,
                       self.recent_menu.menuAction()):
            action.setEnabled(idle)

    def _update_title(self):
        """The model's folder name, with Qt's "*" while the model has changes its folder lacks."""
        path = self.state.model_path
        self.setWindowTitle(f"{Path(path).name}[*] – numpynet studio" if path else "numpynet studio[*]")
        self.setWindowModified(self.state.unsaved_work)

    # ---------------------------------------------------------------- help
    def show_shortcuts(self):
        rows = "".join(f"<tr><td><b>{esc(k)}</b>&nbsp;&nbsp;</td><td>{esc(v)}</td></tr>" for k, v in SHORTCUTS)
        box = QMessageBox(QMessageBox.Information, "Keyboard shortcuts", f"<table>{rows}</table>",
                          QMessageBox.Close, self)
        box.setAttribute(Qt.WA_DeleteOnClose)
        box.open()
        return box

    def show_about(self):
        QMessageBox.about(self, "About numpynet studio",
                          "<h3>numpynet studio</h3><p>Build, train and look inside convolutional networks "
                          "written in NumPy.</p><p>Every button is also a Python API and a command "
                          "line: <code>numpynet --help</code>.</p>")

    # ---------------------------------------------------------------- settings & closing
    def _restore_window(self):
        geometry = self.settings.get_bytes("window/geometry")
        if geometry is None or not self.restoreGeometry(geometry):
            screen = self.screen().availableGeometry()
            self.resize(min(1400, int(screen.width() * 0.9)), min(900, int(screen.height() * 0.9)))
        state = self.settings.get_bytes("window/state")
        if state is not None:
            self.restoreState(state)
        self.panels["Evaluation"].abstain.control.restore(self.settings)   # the one "I don't know" threshold

    def save_settings(self):
        self.settings.set_bytes("window/geometry", self.saveGeometry())
        self.settings.set_bytes("window/state", self.saveState())
        self.data_panel.save_settings()
        self.training_panel.save_settings()
        self.panels["Evaluation"].abstain.control.save_settings(self.settings)
        self.settings.sync()

    def stop_background(self, timeout_ms):
        """Stop every background job at once, then wait for all within one deadline.

        True when no thread is left running. Jobs are found wherever a panel
        keeps one (each is a child of its panel), so a new panel's job is not
        forgotten; a closed job starts no follow-up work.
        """
        jobs = self.findChildren(Job)
        for job in jobs:
            job.close()
        deadline = time.perf_counter() + timeout_ms / 1000
        return all([job.wait(1000 * (deadline - time.perf_counter())) for job in jobs])

    def _remember_message(self, text):
        if self._tip is None or text != self._tip:
            self._said = text

    def event(self, event):
        """A hover tip shows in the status bar and, when the pointer leaves, gives back the message it
        covered: "MNIST is not on this computer" must not vanish because the mouse crossed a chart."""
        if event.type() == QEvent.StatusTip:
            self._tip = event.tip() or None
            self.statusBar().showMessage(event.tip() or self._said)
            return True
        return super().event(event)

    def closeEvent(self, event):
        """Close at once, whatever runs: the window hides, work is asked to stop and waited for
        at most CLOSE_WAIT_MS (``gui.app`` ends a process whose threads outlast that wait). Only an
        idle model with unsaved work is asked about first; Cancel (or a cancelled Save as) keeps the
        window open. A training run is not asked about: its run record keeps its weights."""
        if not unsaved.may_replace(self, self.state, "Closing numpynet studio"):
            event.ignore()
            return
        self.save_settings()
        self.hide()
        self.stop_background(CLOSE_WAIT_MS)
        event.accept()
