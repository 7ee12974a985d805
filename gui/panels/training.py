"""Training panel: the model, optimizer and schedule, Start/Pause/Stop, live plots.

Inputs: ``state.model``, ``state.dataset``, ``state.architecture_valid``, the
validation fraction (set by the window from the Data panel). Outputs:
``state.set_training``, ``state.set_model`` (a preset, or the trained model
again so views refresh), ``state.weightsUpdated`` while training, and
``status`` lines for the window's status bar. The GUI thread never trains: a
``TrainWorker`` on a QThread does.
"""
import os
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QFileDialog, QFormLayout, QFrame,
                               QGridLayout, QGroupBox, QHBoxLayout, QLabel, QMenu, QMessageBox, QProgressBar,
                               QPushButton, QScrollArea, QSizePolicy, QSpinBox, QStyle, QToolButton,
                               QVBoxLayout, QWidget)

from core import optimizers, runs, transfer, zoo
from core.schedules import epochs_past_end
from core.augment import Augment
from core.callbacks import format_eta
from core.errors import NumpynetError, RunError

from .. import unsaved
from ..advice_bar import LOSS, PLATEAU, AdviceBar
from ..format import esc, percent, rich_tooltip, shape_text
from ..hover_help import add_status_tips, explain
from ..live_text import LiveText
from ..messages import show_diverged, show_error
from ..mismatch import CONTINUE, NEW_MODEL, NEW_OUTPUT, TRAIN, ask_about_mismatch
from ..pace_controls import PaceControls
from ..panel_settings import PanelSettings, Setting
from ..plots import TrainingPlots, batches_csv_path
from ..run_jobs import continue_job, recorder, test_images
from ..worker import STOPPED, Job, TrainJob, TrainWorker, describe_exception
from .data import SETTINGS as DATA_SETTINGS
from .runs import run_of_model_folder

# How the form shows an optimizer argument: (minimum, maximum, decimals, label, tooltip). Which optimizer
# takes which, and the values they start from, are core's (optimizers.starting_values); an argument not
# named here (epsilon) keeps its default. Weight decay, taken by every optimizer, has a row of its own.
HYPER_FIELDS = {
    "lr": (1e-6, 10.0, 6, "Learning rate", "Learning rate: the size of each step"),
    "momentum": (0.0, 0.999, 3, "Momentum", "Momentum: 0 is plain SGD"),
    "beta1": (0.0, 0.999, 3, "β₁", "Decay of the mean of gradients"),
    "beta2": (0.0, 0.99999, 5, "β₂", "Decay of the mean of squared gradients"),
    "rho": (0.0, 0.999, 3, "ρ", "Decay of the mean of squared gradients"),
}
STEP_SCHEDULE = "Step (×0.5 each epoch)"
SCHEDULES = {"None": None, STEP_SCHEDULE: "step", "Exponential (×0.9 per epoch)": "exponential",
             "Cosine (to 0 at the last epoch)": "cosine"}
# What each augmentation switch turns on (core.augment.Augment's arguments).
AUGMENTATIONS = {"shift": (2.0, "Shift by up to ±2 pixels"), "rotate": (12.0, "Rotate by up to ±12°"),
                 "scale": (0.1, "Zoom by up to ±10 %"), "elastic": (1.5, "Elastic distortion, about 1.5 pixels"),
                 "thickness": (0.5, "Thicken or thin strokes by up to half a pixel each side"),
                 "noise": (0.2, "Gaussian noise of up to σ 0.2"),
                 "flip": (0.5, "Mirror half the images left to right: for clothes, never for digits")}


# What may change while a run trains or is paused, from the next batch on; the rest of the form stays locked.
# Nesterov is not a knob, but it follows momentum: off while momentum is 0.
LIVE_OPTIMIZER = ("lr", "momentum", "nesterov", "weight_decay")


def _starting(key):
    """A default read from the chosen optimizer's signature (``optimizers.starting_values``), not written here."""
    return lambda panel: optimizers.starting_values(panel.optimizer.currentText()).get(key, False)


SETTINGS = PanelSettings(
    "training/config",
    optimizer=Setting("SGD", "optimizer_config: the optimizer's class"),
    hyper=Setting(lambda panel: {k: v for k, v in optimizers.starting_values(panel.optimizer.currentText()).items()
                                 if k in HYPER_FIELDS}, "optimizer_config: the optimizer's arguments"),
    nesterov=Setting(_starting("nesterov"), "optimizer_config: SGD's Nesterov momentum"),
    weight_decay=Setting(_starting("weight_decay"), "optimizer_config: every optimizer's weight decay"),
    schedule=Setting("None", "TrainJob.schedule, through SCHEDULES"),
    epochs=Setting(3, "TrainJob.epochs: epochs this run adds"),
    batch_size=Setting(64, "TrainJob.batch_size"),
    augment=Setting(dict.fromkeys(AUGMENTATIONS, False), "TrainJob.augment, through make_augment"),
    preset=Setting("lenet5", "build_preset: the zoo network New from preset builds"),
)


def make_augment(switches):
    """A core.augment.Augment from on/off switches, or None when all are off."""
    if not any(switches.values()):
        return None
    return Augment(**{k: AUGMENTATIONS[k][0] for k, on in switches.items() if on})


class TrainingPanel(QWidget):
    status = Signal(str)

    def __init__(self, state, settings, parent=None):
        super().__init__(parent)
        self.state, self.settings = state, settings
        self.validation_fraction = DATA_SETTINGS.settings["validation"].default   # until the window hands it
        self.samples_per_second = 0.0   # of the running (or last) run, as the worker measures it
        self.job = Job(self, on_done=self._update_actions)
        self._run_model = self._job = None   # the run being trained, until its result is shown
        self._plotted_model = None
        self._preset = (None, None)     # (name, model) of the last preset built: how an unsaved model is named
        self._last_run = (None, None)   # (model, run id) of the last run trained here
        self._showing_reason = False
        self._live = {}                 # the live knobs' values the running run has been given
        self._launch_epochs = 0         # epochs the running run was started with
        self._axes_planned = False      # whether the step axes are fixed to the running run (extend_plan)
        self.pace = PaceControls(self)  # Step, +1 epoch, slow motion
        self._build()
        self._restore()
        state.modelChanged.connect(self._on_model_changed)
        for change in (state.modelSaved, state.trainingStarted, state.trainingFinished):
            change.connect(self._describe_model)
        state.datasetChanged.connect(lambda _ds: self._update_actions())
        state.validityChanged.connect(lambda _ok, _why: self._update_actions())
        if state.model is not None:
            self._on_model_changed(state.model)
        self._update_actions()

    # ---------------------------------------------------------------- layout
    def _build(self):
        controls = QWidget()
        column = QVBoxLayout(controls)
        column.setContentsMargins(0, 0, 6, 0)
        column.addWidget(self._model_box())
        column.addWidget(self._optimizer_box())
        column.addWidget(self._run_box())
        column.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidget(controls)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        scroll.setFixedWidth(350)

        right = QVBoxLayout()
        right.addLayout(self._control_bar())
        self.plots = TrainingPlots()
        self.advice = AdviceBar(self.plots, self._fixes())
        right.addWidget(self.advice)
        right.addWidget(self.plots, 1)
        right.addLayout(self._footer())
        layout = QHBoxLayout(self)
        layout.addWidget(scroll)
        layout.addLayout(right, 1)
        add_status_tips(self)

    def _model_box(self):
        box = QGroupBox("Model")
        form = QVBoxLayout(box)
        self.model_label = QLabel("No model", textFormat=Qt.RichText)
        self.model_label.setWordWrap(True)
        self.model_label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        form.addWidget(self.model_label)
        row = QHBoxLayout()
        self.preset = _combo()
        for name in zoo.names():
            self.preset.addItem(name)
            self.preset.setItemData(self.preset.count() - 1, zoo.describe(name), Qt.ToolTipRole)
        self.preset.setToolTip("A network from the zoo, sized for the loaded dataset")
        self.new_model = QPushButton("New from preset")
        self.new_model.setToolTip("Replace the current model by an untrained preset that fits the dataset")
        self.new_model.clicked.connect(self.build_preset)
        row.addWidget(self.preset, 1)
        row.addWidget(self.new_model)
        form.addLayout(row)
        return box

    def _optimizer_box(self):
        box = QGroupBox("Optimizer")
        self.opt_form = form = QFormLayout(box)
        self.optimizer = _combo()
        self.optimizer.addItems([cls.__name__ for cls in optimizers.OPTIMIZERS.values()])
        explain(self.optimizer, "How the weights follow their gradients: SGD takes plain steps (with momentum), "
                                "Adam and the others adapt each weight's step size")
        form.addRow("Method", self.optimizer)
        self.hyper = {key: _spin(low, high, decimals, tip)
                      for key, (low, high, decimals, _, tip) in HYPER_FIELDS.items()}
        self.nesterov = explain(QCheckBox("Nesterov momentum"), "Look ahead along the momentum before taking "
                                "the gradient: often a little faster; needs momentum above 0")
        for key, spin in self.hyper.items():
            form.addRow(HYPER_FIELDS[key][3], spin)
        form.addRow("", self.nesterov)
        self.weight_decay = _spin(0.0, 1.0, 6, "L2 penalty on weight matrices and kernels")
        form.addRow("Weight decay", self.weight_decay)
        self.optimizer.currentTextChanged.connect(self._on_optimizer_changed)
        self._on_optimizer_changed(self.optimizer.currentText())
        return box

    def _run_box(self):
        box = QGroupBox("Run")
        form = QFormLayout(box)
        self.schedule = _combo()
        self.schedule.addItems(list(SCHEDULES))
        self.schedule.setToolTip("How the learning rate changes during the run")
        form.addRow("LR schedule", self.schedule)
        self.epochs = explain(QSpinBox(), "Epochs this run trains: each epoch shows every training image once")
        self.epochs.setRange(1, 1000)
        form.addRow("Epochs", self.epochs)
        self.batch_size = explain(QSpinBox(), "Images per batch: each batch is one step of the weights; smaller "
                                              "batches take more, noisier steps")
        self.batch_size.setRange(1, 8192)
        form.addRow("Batch size", self.batch_size)
        aug = QGridLayout()
        self.augment = {}
        for i, (name, (_amount, tip)) in enumerate(AUGMENTATIONS.items()):
            self.augment[name] = box_ = QCheckBox(name)
            box_.setToolTip(f"{tip}, drawn anew for every training image")
            aug.addWidget(box_, i // 2, i % 2)
        form.addRow("Augment", aug)
        form.addRow("Slow motion", self.pace.slow_row())
        for spin in (self.hyper["lr"], self.hyper["momentum"], self.weight_decay):
            spin.valueChanged.connect(self._tune_live)
        for switch in self.augment.values():
            switch.toggled.connect(self._tune_live)
        return box

    def _control_bar(self):
        style = self.style()
        self.start_action = QAction(style.standardIcon(QStyle.SP_MediaPlay), "Start training", self)
        self.start_action.setShortcut(QKeySequence("F5"))
        self.start_action.triggered.connect(lambda _checked=False: self.start())
        self.pause_action = QAction(style.standardIcon(QStyle.SP_MediaPause), "Pause", self)
        self.pause_action.setShortcut(QKeySequence("F6"))
        self.pause_action.triggered.connect(self.toggle_pause)
        explain(self.pause_action, "Pause after the current batch, or resume a paused run (F6)")
        self.stop_action = QAction(style.standardIcon(QStyle.SP_MediaStop), "Stop", self)
        self.stop_action.setShortcut(QKeySequence("Shift+F5"))
        self.stop_action.triggered.connect(self.stop)
        explain(self.stop_action, "Stop after the current batch; the model keeps the weights it has then (Shift+F5)")
        self.continue_action = QAction(style.standardIcon(QStyle.SP_MediaSeekForward), "Continue run", self)
        self.continue_action.triggered.connect(self.continue_current)
        bar = QHBoxLayout()
        self.buttons = {}
        for key, action in (("start", self.start_action), ("pause", self.pause_action), ("stop", self.stop_action),
                            ("step", self.pace.step_action), ("more", self.pace.more_action),
                            ("continue", self.continue_action)):
            button = QToolButton()
            button.setDefaultAction(action)
            button.setToolButtonStyle(Qt.ToolButtonTextBesideIcon)
            button.setMinimumWidth(92)
            button.setObjectName(f"{key}Button")
            self.buttons[key] = button
            bar.addWidget(button)
        column = QVBoxLayout()
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setValue(0)
        self.progress.setFormat("%p%")
        explain(self.progress, "How much of this run is done; the line below says the epoch, batch, smoothed "
                               "loss and accuracy, speed and time left")
        # Not a QLabel: four updates a second would lay out the whole window each time (gui/live_text.py).
        # Long reasons wrap instead of widening the window; two lines are kept for the training text.
        self.progress_label = LiveText("Ready", min_lines=2)
        self.progress_label.setObjectName("progressLabel")
        column.addWidget(self.progress)
        column.addWidget(self.progress_label)
        bar.addSpacing(8)
        bar.addLayout(column, 1)
        return bar

    def _footer(self):
        row = QHBoxLayout()
        self.status_label = QLabel("", textFormat=Qt.PlainText)
        self.status_label.setObjectName("trainingStatus")
        self.status_label.setWordWrap(True)
        self.status_label.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        row.addWidget(self.status_label, 1)
        export = explain(QToolButton(), "Save the plots as an image, or the history as CSV tables")
        export.setText("Export")
        export.setPopupMode(QToolButton.InstantPopup)
        menu = QMenu(export)
        explain(menu.addAction("Plots as PNG…", self._export_png), "Save the training plots as one PNG image")
        explain(menu.addAction("History as CSV…", self._export_csv),
                "Save the per-epoch history, and the per-batch table beside it, as CSV files")
        export.setMenu(menu)
        row.addWidget(export)
        return row

    # ---------------------------------------------------------------- settings
    def config(self):
        """The form as a JSON-able dict: what is remembered, and what a run is built from."""
        return SETTINGS.values(self)

    def set_config(self, cfg):
        """Show ``cfg`` in the form; a setting it lacks shows its default."""
        SETTINGS.apply(self, cfg)

    def _restore(self):
        SETTINGS.restore(self, self.settings)

    def save_settings(self):
        SETTINGS.save(self, self.settings)

    def _on_optimizer_changed(self, name):
        """Show only this optimizer's hyperparameters, at the values it starts from."""
        spec = optimizers.starting_values(name)
        for key, spin in self.hyper.items():
            self.opt_form.setRowVisible(spin, key in spec)
            if key in spec:
                spin.setValue(spec[key])
        self.opt_form.setRowVisible(self.nesterov, "nesterov" in spec)

    def optimizer_config(self, cfg=None):
        """The core.optimizers config of the form (or of ``cfg``, a ``config()``)."""
        cfg = cfg or self.config()
        spec = optimizers.starting_values(cfg["optimizer"])
        opt = {"type": cfg["optimizer"], "weight_decay": cfg["weight_decay"]}
        opt.update({k: v for k, v in cfg["hyper"].items() if k in spec})
        if "nesterov" in spec:
            opt["nesterov"] = cfg["nesterov"] and opt["momentum"] > 0
        return opt

    def set_validation_fraction(self, fraction):
        self.validation_fraction = float(fraction)

    # ---------------------------------------------------------------- model
    def build_preset(self):
        """Replace the model by an untrained preset sized for the dataset (or 28x28, 10 classes); True if built."""
        ds = self.state.dataset
        shape = tuple(ds.x_train.shape[1:]) if ds is not None else (1, 28, 28)
        classes = len(ds.class_names) if ds is not None else 10
        name = self.preset.currentText()
        if not unsaved.may_replace(self.window(), self.state, f"Building a new {name}"):
            return False
        try:
            model = zoo.build(name, input_shape=shape, classes=classes, seed=0)
        except Exception as exc:  # noqa: BLE001 -- e.g. a preset too deep for small images
            show_error(self.window(), "Cannot build this preset", *describe_exception(exc))
            return False
        self._preset = (name, model)
        self.state.set_model(model, None)
        self.status.emit(f"New untrained {name}: {model.count_params():,} parameters")
        return True

    def replace_output_layer(self):
        """Give the model a new output layer for the dataset's classes, keeping what the rest learned; True if done."""
        ds = self.state.dataset
        try:
            model = transfer.new_output_layer(self.state.model, ds.num_classes, ds.class_names, seed=0)
        except NumpynetError as exc:   # e.g. no Dense layer to replace
            show_error(self.window(), "Cannot give the model a new output layer", *describe_exception(exc))
            return False
        self.state.set_model(model, None)
        self.status.emit(f"New output layer for {ds.name}'s {ds.num_classes} classes; the other layers keep "
                         "their weights")
        return True

    def _on_model_changed(self, model):
        if model is not self._plotted_model:   # another model: nothing of the last run's display is its own
            self._plotted_model = model
            history, meta = (model.train_history, model.meta) if model is not None else ({}, {})
            self.plots.load_history(history, meta.get("partial_epochs"))
            self._clear_run_lines()
        self._describe_model()
        self._update_actions()

    def _clear_run_lines(self):
        self.progress.setValue(0)
        self.progress_label.setText("Ready")
        self.status_label.setText("")

    def _describe_model(self):
        """The Model box, derived from the state alone and redrawn on every change of the model,
        its file or a run, so no path through the app can leave it saying something stale."""
        model = self.state.model
        if model is None:
            self.model_label.setText("No model")
            return
        lines = [f"{model.count_params():,} parameters · {model.output_shape[-1]} classes",
                 f"input {shape_text(model.input_shape)}", _training_line(model, self.state.training)]
        self.model_label.setText("<br>".join([f"<b>{esc(self._model_name(model))}</b>", *map(esc, lines)]))

    def _model_name(self, model):
        """Its folder's name (and whether it changed since), the preset it was built from, or "unsaved"."""
        path = self.state.model_path
        if path is not None:
            return Path(path).name + ("" if self.state.model_saved else " · unsaved changes")
        name, built = self._preset
        return f"{name} (unsaved)" if built is model else "unsaved model"

    # ---------------------------------------------------------------- start / pause / stop
    def can_start(self):
        """(ok, reason): Start waits for a valid model that fits the loaded dataset."""
        model, ds = self.state.model, self.state.dataset
        if self.running:
            return False, "Training is running."
        if model is None:
            return False, "There is no model: open one or build a preset."
        if not self.state.architecture_valid:
            return False, f"The architecture is invalid: {self.state.invalid_reason}"
        if ds is None:
            return False, "Load a dataset in the Data panel to train."
        found = transfer.check(model, ds)
        if found.input:   # only a new model helps; other classes are asked about on Start
            return False, f"{found.describe()} Build a preset for it."
        return True, ""

    def _settle_mismatch(self):
        """Before a run on data of other classes: ask, and do what was chosen; False: do not start."""
        found = transfer.check(self.state.model, self.state.dataset)
        if not found:
            return True
        choice = ask_about_mismatch(self.window(), found, TRAIN)
        if choice == NEW_OUTPUT:
            return self.replace_output_layer()
        if choice == NEW_MODEL:
            return self.build_preset()
        return choice == CONTINUE

    @property
    def running(self):
        return self.job.running

    def start(self, epochs=None, step=False):
        """Start a run of ``epochs`` (the form's count when None) with the form's settings; ``step``:
        pause it after its first batch."""
        ok, reason = self.can_start()
        if not ok:
            self.status_label.setText(reason)
            return
        if not self._settle_mismatch():
            return
        try:
            job = self._make_job(self.state.model, self.state.dataset, epochs)
        except Exception as exc:  # noqa: BLE001 -- bad hyperparameters, missing augment module...
            show_error(self.window(), "Cannot start training", *describe_exception(exc))
            return
        self._launch(job, step)

    def train_one_more_epoch(self):
        """+1 epoch with no run going: the model's recorded run continued by one epoch, exactly; a model
        that is the result of no recorded run trains one epoch with the form's settings."""
        run_id = self.current_run()
        if run_id is not None:
            self.continue_run(run_id, 1, grow=True)
        else:
            self.start(epochs=1)

    def continue_run(self, run_id, epochs, grow=False):
        """Train the current model, the result of the run ``run_id``, ``epochs`` more epochs with that
        run's own settings: the run goes on exactly, recorded as a child run. ``grow``: the run is made
        longer instead (+1 epoch), so a schedule spanning it (cosine) spans the new epochs too. Epochs
        that would fall past the end of a cosine (at its final rate, 0: nothing learned) always grow it."""
        ok, reason = self.can_start()
        try:
            if not ok:
                raise RunError(reason)
            job = continue_job(runs.load(run_id), self.state.model, self.state.dataset, epochs, self.plots.last_step)
        except NumpynetError as exc:
            show_error(self.window(), "Cannot continue the run", str(exc))
            return
        model = self.state.model
        self._launch(job, grow=epochs if grow else epochs_past_end(model.optimizer, model.epochs_trained, epochs))

    def continue_current(self):
        """Continue the current model's run by the Epochs field's count."""
        self.continue_run(self.current_run(), self.epochs.value())

    def current_run(self):
        """The id of the recorded run whose result the current model is: the last run trained here, or
        the run whose model was opened from the runs folder; None for any other model."""
        model, (trained, run_id) = self.state.model, self._last_run
        if model is not None and model is trained:
            return run_id
        return run_of_model_folder(self.state.model_path)

    def _launch(self, job, step=False, grow=0):
        model, ds = self.state.model, job.dataset
        if model is not self._plotted_model:
            self._on_model_changed(model)
        self._run_model, self._job = model, job
        self._launch_epochs = job.epochs
        self._last_run = (model, job.recorder.run_id)
        # Named before the run, so the models the run records in its folder know their data and classes.
        model.meta.update(dataset=ds.name, class_names=list(ds.class_names), preprocessing=ds.preprocessing)
        w = TrainWorker(model, job)
        w.batchesDone.connect(self.plots.add_batches)
        w.batchesDone.connect(self._on_batches)
        w.epochDone.connect(self.plots.add_epoch)
        w.epochDone.connect(self._on_epoch)
        w.progress.connect(self._on_progress)
        w.message.connect(self._on_message)
        w.weightsSnapshot.connect(self.state.weightsUpdated)
        w.deadUnits.connect(self.state.deadUnitsUpdated)
        w.tuned.connect(self._on_tuned)
        w.finished.connect(self._on_finished)
        w.failed.connect(self._on_failed)
        self.progress.setValue(0)
        self.status_label.setText("")
        self.advice.clear()
        self.save_settings()
        self._live = self._live_values()
        self.pace.attach(w, step)
        w.more.grow_span(grow)
        self.job.start(w)
        self._axes_planned = not step   # a run taken a batch at a time: the axes follow its few batches
        if step:
            self.plots.unplan_steps()
        else:
            self.extend_plan(0)
        self.state.set_training(True)
        self._update_actions()
        self.status.emit(f"Training {job.epochs} epoch{'s' * (job.epochs != 1)} on {ds.name}"
                         + (f" ({ds.subset})" if ds.subset else ""))

    def planned_epochs(self, added=0):
        """Epochs the running run trains: as started, plus ``added`` on the way (+1 epoch)."""
        return self._launch_epochs + added

    def extend_plan(self, added):
        """Fix the step axes to the running run's batches, ``added`` epochs included (unless they follow
        a run that was started a batch at a time)."""
        job = self._job
        if not self._axes_planned:
            return
        steps = -(-int(len(job.x) * (1 - job.validation_fraction)) // job.batch_size)
        self.plots.plan_steps(job.first_step, job.first_step + self.planned_epochs(added) * steps)

    def _make_job(self, model, ds, epochs=None):
        cfg = self.config()
        optimizer = self.optimizer_config(cfg)
        optimizers.from_config(optimizer)  # a bad value fails here, on the GUI thread, with its message
        initial = model.epochs_trained
        return TrainJob(dataset=ds, x=ds.x_train, y=ds.y_train, epochs=epochs or cfg["epochs"],
                        batch_size=cfg["batch_size"],
                        optimizer=optimizer, schedule=SCHEDULES[cfg["schedule"]], augment=make_augment(cfg["augment"]),
                        validation_fraction=self.validation_fraction, test=test_images(ds), seed=initial,
                        initial_epoch=initial, first_step=self.plots.last_step,
                        recorder=recorder(model, ds, self.validation_fraction, parent=self.current_run()))

    def toggle_pause(self):
        if self.job.worker is None:
            return
        if self.job.worker.paused:
            self.job.worker.resume()
        else:
            self.job.worker.pause()
            self.progress_label.setText("Pausing after this batch…")
        self._update_actions()

    def stop(self):
        if self.job.worker is not None:
            self.job.worker.stop()
            self.progress_label.setText("Stopping after this batch…")

    # ---------------------------------------------------------------- worker signals
    def _on_progress(self, epoch, epochs, batch, steps, rate, eta):
        self.samples_per_second = rate
        done = ((epoch - 1) + batch / steps) / epochs
        self.progress.setValue(round(1000 * done))
        if not (self.job.worker and self.job.worker.paused):
            loss, acc = self.plots.smoothed()
            self.progress_label.setText(f"Epoch {epoch}/{epochs}  ·  batch {batch}/{steps}  ·  loss {loss:.3f}  ·  "
                                        f"accuracy {percent(acc)}  ·  {rate:,.0f} samples/s  ·  ETA {format_eta(eta)}")

    def _on_message(self, text):
        """The worker says what it does; a pause it made itself (after a Step) changes the buttons."""
        self.progress_label.setText(text)
        self._update_actions()

    def _on_batches(self, _rows):
        """The loss is judged at once when the learner looks at each batch (``TrainWorker.watched``), else
        every few batches (``AdviceBar.check_loss``); the run's end judges whatever is left."""
        worker = self.job.worker
        self.advice.check_loss(at_once=worker is None or worker.watched)

    def _on_epoch(self, _epoch, _logs):
        if self._job is not None:
            self.advice.check_plateau(self._job.initial_epoch + self.planned_epochs(self.pace.added))

    def _on_finished(self, result, reason):
        model = self._run_model
        self._record_meta(model, result)
        self.plots.refresh()
        self.advice.check_loss()   # the run's last batches, fewer than a check waits for
        epochs = len(result["history"].get("loss", []))
        if result["diverged"]:
            text = f"Diverged: {reason}"
            show_diverged(self.window(), reason, self.lower_learning_rate)
        elif reason == STOPPED:   # counted across runs, as the epoch plots and the Model box count
            text = (f"Stopped by you in epoch {self._job.initial_epoch + epochs}; "
                    "the model keeps the weights it has now.")
        else:
            self.progress.setValue(1000)
            text = f"Finished {epochs} epoch{'s' * (epochs != 1)}"
        test = result["test"].get("test_accuracy")
        if test is not None:
            text += f" · test accuracy {percent(test, 2)}"
        self.progress_label.setText(text)
        self.status_label.setText(text)
        self.status.emit(text)
        self._end_run(model)

    def _end_run(self, model):
        self._run_model = self._job = None
        self.plots.unplan_steps()
        self.state.set_training(False)
        self.state.set_model(model, self.state.model_path, saved=False)   # trained further than its file

    def _record_meta(self, model, result):
        """What a saved model should say about how it was trained (its data: see ``_launch``)."""
        metrics = dict(result["test"])
        history = result["history"]
        for key in ("accuracy", "val_accuracy", "loss", "val_loss"):
            if history.get(key):
                metrics[key] = history[key][-1]
        model.meta["metrics"] = metrics   # (fit itself records the epochs a stop cut short, partial_epochs)

    def _on_failed(self, message, details):
        model = self._run_model
        self.progress_label.setText("Training failed")
        self.status_label.setText(f"Training failed: {message}")
        self.status.emit(f"Training failed: {message}")
        show_error(self.window(), "Training failed", message, details,
                   advice="The model keeps the weights of its last completed batch; fix the cause and "
                          "press Start to go on.")
        self._end_run(model)

    # ---------------------------------------------------------------- live knobs
    def _live_controls(self):
        return [self.hyper["lr"], self.hyper["momentum"], self.weight_decay, *self.augment.values()]

    def _live_values(self, cfg=None):
        """The live knobs as the run takes them: the optimizer's live arguments, and the augment switches."""
        cfg = cfg or self.config()
        optimizer = self.optimizer_config(cfg)
        return {**{k: optimizer[k] for k in LIVE_OPTIMIZER if k in optimizer}, "augment": cfg["augment"]}

    def _tune_live(self, *_):
        """A live knob turned during a run: hand what changed to the worker, which applies it from the next
        batch (the GUI thread never touches the training model)."""
        if not self.running or self.job.worker is None:
            return
        cfg = self.config()
        try:
            optimizers.from_config(self.optimizer_config(cfg))   # a bad value is refused here, with its message
        except ValueError as exc:
            self.status_label.setText(f"Not changed: {exc}")
            return
        live = self._live_values(cfg)
        changes = {k: v for k, v in live.items() if self._live.get(k) != v}
        if not changes:
            return
        self._live = live
        self.job.worker.tune(changes, make_augment(cfg["augment"]) if "augment" in changes else None)
        when = "when the run resumes" if self.job.worker.paused else "from the next batch"
        self.status_label.setText(f"{describe_change(changes)}: {when}.")

    def _on_tuned(self, event):
        """The worker applied a live change: mark the step it acts from on the batch plots."""
        changes = {k: v for k, v in event.items() if k not in ("kind", "step")}
        self.plots.add_marker(event["step"], describe_change(changes))

    def lower_learning_rate(self):
        """The diverged run's fix: a learning rate ten times smaller."""
        self.scale_learning_rate(0.1)

    def scale_learning_rate(self, factor):
        """Multiply the learning rate by ``factor``: during a run through the live knobs (from the next
        batch), else in the form for the next Start."""
        lr = self.hyper["lr"]
        lr.setValue(lr.value() * factor)
        if not self.running:
            self.status_label.setText(f"Learning rate lowered to {lr.value():g}; press Start to go on training.")

    def use_step_schedule(self):
        """The plateau's fix: a step schedule for the next run; during a run, also the drop it would make now
        (a schedule spans a run, so the running one cannot take it)."""
        self.schedule.setCurrentText(STEP_SCHEDULE)
        if self.running:
            self.scale_learning_rate(0.5)
            self.status_label.setText("Step schedule chosen for the next run; the learning rate is halved from "
                                      "the next batch, as the schedule would do now.")
        else:
            self.status_label.setText("Step schedule chosen: press Start to train with it.")

    def _fixes(self):
        """The advice line's one-click fixes: (button, what it does, the fix) per kind of advice."""
        return {LOSS: ("Lower the learning rate ×0.3",
                       "Multiply the learning rate by 0.3, from the next batch when training (smaller steps "
                       "stop the loss from climbing)", lambda: self.scale_learning_rate(0.3)),
                PLATEAU: ("Use a step schedule",
                          "Halve the learning rate every epoch from the next run on (and once now, during a run): "
                          "smaller steps settle into a better minimum", self.use_step_schedule)}

    def _update_actions(self):
        ok, reason = self.can_start()
        self.start_action.setEnabled(ok)
        tip = rich_tooltip(reason) or "Start training (F5)"
        self.start_action.setToolTip(tip)
        self.buttons["start"].setToolTip(tip)
        running = self.running
        self._update_continue(ok)
        self.pause_action.setEnabled(running)
        self.stop_action.setEnabled(running)
        paused = bool(self.job.worker and self.job.worker.paused)
        self.pause_action.setText("Resume" if paused else "Pause")
        self.pause_action.setIcon(self.style().standardIcon(QStyle.SP_MediaPlay if paused else QStyle.SP_MediaPause))
        self.pace.update()
        live = self._live_controls()
        for widget in (self.preset, self.new_model, self.optimizer, self.weight_decay, self.nesterov,
                       self.schedule, self.epochs, self.batch_size, *self.hyper.values(), *self.augment.values()):
            widget.setEnabled(not running or widget in live)
        add_status_tips(self)   # the tooltips just changed (Start's reason, Continue's run) reach the status bar
        if not running and (not ok or self._showing_reason):
            # the line under the progress bar says why Start is greyed out, until a run writes there
            self.progress_label.setText(reason or "Ready")
            self._showing_reason = not ok

    def _update_continue(self, can_start):
        run_id = self.current_run()
        self.continue_action.setEnabled(can_start and run_id is not None)
        if run_id is None:
            self.continue_action.setToolTip("Continue the recorded run of the current model (this model is not the "
                                            "result of a recorded run)")
            return
        model = self.state.model
        cut = model.cut_short(model.epochs_trained)   # its last epoch, if a stop cut it short
        how = f"Train run {run_id} as many more epochs as the Epochs field says, with the run's own settings"
        self.continue_action.setToolTip(
            f"{how}; recorded as a new run that names it. {runs.cut_short_note(model.epochs_trained, cut)}" if cut
            else f"{how}, exactly as if it had not stopped; recorded as a new run that names it")

    # ---------------------------------------------------------------- export
    def _export_png(self):
        path, _ = QFileDialog.getSaveFileName(self, "Save plots as PNG", "training.png", "PNG images (*.png)")
        if path:
            self._export(self.plots.export_png, path)

    def _export_csv(self):
        path, _ = QFileDialog.getSaveFileName(self, "Save history as CSV", "history.csv", "CSV files (*.csv)")
        if path and self._may_replace(batches_csv_path(path)):
            self._export(self.plots.export_csv, path)

    def _may_replace(self, path):
        """The dialog confirmed only the file it named; the batch table beside it is asked about here."""
        if not os.path.exists(path):
            return True
        box = QMessageBox(QMessageBox.Question, "Replace the batch table?",
                          f"The batch table is written beside the history, to {path}, which already exists. "
                          "Replace it?", QMessageBox.Yes | QMessageBox.No, self)
        box.setTextFormat(Qt.PlainText)
        box.setDefaultButton(QMessageBox.No)
        return box.exec() == QMessageBox.Yes

    def _export(self, write, path):
        try:
            write(path)
        except OSError as exc:
            show_error(self.window(), "Export failed", f"Could not write {path}: {exc.strerror or exc}",
                       advice="Choose another folder or free some disk space.")
        else:
            self.status.emit(f"Saved {path}")


def _combo():
    """A combo box whose width does not follow its longest item (the column is narrow)."""
    combo = QComboBox()
    combo.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
    combo.setMinimumContentsLength(8)
    return combo


def _spin(low, high, decimals, tip):
    spin = QDoubleSpinBox()
    spin.setRange(low, high)
    spin.setDecimals(decimals)
    spin.setStepType(QDoubleSpinBox.AdaptiveDecimalStepType)
    spin.setToolTip(tip)
    spin.setKeyboardTracking(False)   # a value counts once typed: "0.005" is not first 0.0, 0.00, ...
    return spin


def describe_change(changes):
    """"lr 0.005 · augment rotate, shift": a live change, short enough for a marker's label."""
    parts = []
    for key, value in changes.items():
        if key == "augment":
            on = [name for name, switched in value.items() if switched]
            parts.append(f"augment {', '.join(on) if on else 'off'}")
        elif key != "nesterov" or "momentum" not in changes:   # nesterov follows momentum: said by it
            parts.append(f"{key.replace('_', ' ')} {value:g}" if not isinstance(value, bool) else
                         f"{key} {'on' if value else 'off'}")
    return " · ".join(parts)


def _training_line(model, training_now):
    """"trained 3 epochs on mnist · test accuracy 98.10%", or "training now (had 3 epochs)"."""
    epochs = model.epochs_trained
    had = f"{epochs} epoch{'s' * (epochs != 1)}"
    if training_now:
        line = f"training now (had {had})" if epochs else "training now"
    else:
        line = f"trained {had}" if epochs else "untrained"
    if model.meta.get("dataset"):
        line += f" on {model.meta['dataset']}"
    test = (model.meta.get("metrics") or {}).get("test_accuracy")
    return line if test is None else line + f" · test accuracy {percent(test, 2)}"
