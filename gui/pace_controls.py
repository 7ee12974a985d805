"""The Training tab's controls for following a run closely: Step one batch, +1 epoch, slow motion.

They act on the running worker (``gui.pacing`` does the waiting, on the
training thread) or, with no run, start one: Step starts a run that pauses
after its first batch, +1 epoch continues the model's recorded run by one
epoch (or trains one epoch with the form's settings when the model is the
result of no recorded run). Slow motion can be changed at any time; a run
takes the current setting when it starts and every change after.
"""
from PySide6.QtCore import QObject
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QSpinBox, QStyle

from .hover_help import explain
from .pacing import BATCH, EPOCH

SLOW_MAX_MS = 10_000
PER = {"between batches": BATCH, "between epochs": EPOCH}


class PaceControls(QObject):
    """Step and +1 epoch (actions for the panel's control bar) and the slow-motion row (``slow_row``)."""

    def __init__(self, panel):
        super().__init__(panel)
        self.panel = panel
        self.added = 0     # epochs added to the running run
        style = panel.style()
        self.step_action = _action(panel, style.standardIcon(QStyle.SP_MediaSkipForward), "Step", "F7",
                                   self.step)
        self.more_action = _action(panel, style.standardIcon(QStyle.SP_ArrowUp), "+1 epoch", "F8", self.add_epoch)
        self.slow_ms = QSpinBox()
        self.slow_ms.setRange(0, SLOW_MAX_MS)
        self.slow_ms.setSingleStep(100)
        self.slow_ms.setSuffix(" ms")
        self.slow_ms.setSpecialValueText("off")
        self.slow_ms.setKeyboardTracking(False)
        explain(self.slow_ms, "Slow motion: a pause after every batch (or epoch), so you can follow the plots "
                              "and the Inside views change; 'off' trains at full speed. Can be changed while "
                              "training.")
        self.slow_per = QComboBox()
        self.slow_per.addItems(list(PER))
        explain(self.slow_per, "Where the slow-motion pause falls: after each batch, or after each epoch")
        self.slow_ms.valueChanged.connect(self._apply_slow_motion)
        self.slow_per.currentTextChanged.connect(self._apply_slow_motion)

    def slow_row(self):
        row = QHBoxLayout()
        row.addWidget(self.slow_ms, 1)
        row.addWidget(self.slow_per, 1)
        return row

    # --- a run starts ----------------------------------------------------------------
    def attach(self, worker, step=False):
        """A new run's worker: give it the slow-motion setting, and pause it after one batch if ``step``."""
        self.added = 0
        worker.slow_motion(*self.slow_motion())
        if step:
            worker.step_one()

    def slow_motion(self):
        """(ms, 'batch' or 'epoch') as the form says."""
        return self.slow_ms.value(), PER[self.slow_per.currentText()]

    def _apply_slow_motion(self, *_):
        worker = self.panel.job.worker
        if worker is not None:
            worker.slow_motion(*self.slow_motion())

    # --- the actions -------------------------------------------------------------------
    def step(self):
        """Train one batch then pause: the paused run's next batch, or the first batch of a new run."""
        worker = self.panel.job.worker
        if worker is None:
            self.panel.start(step=True)
        elif worker.paused:
            worker.step_one()
            self.panel.progress_label.setText("Training one batch…")
        self.update()

    def add_epoch(self):
        """One more epoch: added to the running run, else the model's run continued by one epoch."""
        worker = self.panel.job.worker
        if worker is None:
            self.panel.train_one_more_epoch()
        elif worker.add_epochs(1):
            self.added += 1
            self.panel.extend_plan(self.added)
            self.panel.status_label.setText(f"One more epoch added: this run now trains "
                                            f"{self.panel.planned_epochs(self.added)} epochs.")
        else:
            self.panel.status_label.setText("The run has just ended: press +1 epoch again to continue it.")

    def update(self):
        """Enable what can act now, and say why not in the tooltip."""
        panel, worker = self.panel, self.panel.job.worker
        can_start, reason = panel.can_start()
        running, paused = worker is not None, bool(worker and worker.paused)
        self.step_action.setEnabled(paused or (not running and can_start))
        tip = ("Train the next batch, then pause again (F7)" if paused else
               "Pause first, then step one batch at a time (F7)" if running else
               "Start a run that pauses after its first batch; then each Step trains one more (F7)"
               if can_start else f"Step one batch: {reason}")
        explain(self.step_action, tip)
        self.more_action.setEnabled(running or can_start)
        explain(self.more_action, "Add one more epoch to the running run, continuing its plots and record (F8)"
                if running else "Train one more epoch, continuing the model's run and its plots (F8)"
                if can_start else f"One more epoch: {reason}")


def _action(parent, icon, text, shortcut, slot):
    action = QAction(icon, text, parent)
    action.setShortcut(QKeySequence(shortcut))
    action.triggered.connect(lambda _checked=False: slot())
    return action
