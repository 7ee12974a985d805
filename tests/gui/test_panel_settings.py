"""Panel settings are declared once: each round-trips control -> saved settings -> new panel -> job,
and its default is written nowhere but its declaration."""
import re
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QSettings

from core import zoo
from core.augment import Augment
from core.datasets import Dataset
from gui.panels import data as data_mod
from gui.panels import training as training_mod
from gui.panels.data import DataPanel, load_options
from gui.panels.training import TrainingPanel
from gui.settings import Settings
from gui.state import AppState

GUI = Path(training_mod.__file__).resolve().parents[1]

# Per setting: how a user changes its control, and where the new value must arrive. Two forms, because
# Nesterov is SGD's alone and the optimizer's class is best seen changed away from SGD.
SGD_FORM = {
    "hyper": (lambda p: (p.hyper["lr"].setValue(0.0234), p.hyper["momentum"].setValue(0.5)),
              lambda job, p: (job.optimizer["lr"], job.optimizer["momentum"]) == (0.0234, 0.5)),
    "nesterov": (lambda p: p.nesterov.setChecked(True), lambda job, p: job.optimizer["nesterov"] is True),
    "weight_decay": (lambda p: p.weight_decay.setValue(0.0005), lambda job, p: job.optimizer["weight_decay"] == 0.0005),
    "schedule": (lambda p: p.schedule.setCurrentText("Cosine (to 0 at the last epoch)"),
                 lambda job, p: job.schedule == "cosine"),
    "epochs": (lambda p: p.epochs.setValue(7), lambda job, p: job.epochs == 7),
    "batch_size": (lambda p: p.batch_size.setValue(48), lambda job, p: job.batch_size == 48),
    "augment": (lambda p: p.augment["rotate"].setChecked(True),
                lambda job, p: isinstance(job.augment, Augment) and job.augment.rotate > 0 and not job.augment.shift),
    "preset": (lambda p: p.preset.setCurrentText("mlp"), lambda job, p: p.build_preset() and p._preset[0] == "mlp"),
}
ADAM_FORM = {
    "optimizer": (lambda p: p.optimizer.setCurrentText("Adam"), lambda job, p: job.optimizer["type"] == "Adam"),
    "hyper": (lambda p: p.hyper["beta2"].setValue(0.95), lambda job, p: job.optimizer["beta2"] == 0.95),
}
DATA_FORM = {
    "source": (lambda p: p.source.setCurrentIndex(p.source.findData("quickdraw")), lambda opts, c: c["source"] ==
               "quickdraw"),
    "categories": (lambda p: p.categories.setText("owl, moon"), lambda opts, c: opts["categories"] == ["owl", "moon"]),
    "folder": (lambda p: p.folder.setText("/some/where"), lambda opts, c: opts["folder"] == "/some/where"),
    "count": (lambda p: p.count.setValue(1234), lambda opts, c: opts["count"] == 1234),
    "validation": (lambda p: p.validation.setValue(25), lambda opts, c: c["validation"] == pytest.approx(0.25)),
    "colour": (lambda p: p.colour.setCurrentIndex(p.colour.findData("colour")), lambda opts, c: opts["grayscale"] is
               False),
    "size": (lambda p: p.size.setCurrentIndex(p.size.findData(32)), lambda opts, c: opts["size"] == (32, 32)),
    "per_class": (lambda p: p.per_class.setCurrentIndex(p.per_class.findData(100)), lambda opts, c: c["per_class"] ==
                  100),
}


@pytest.fixture
def settings(tmp_path):
    return Settings(QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat))


def tiny_dataset(n=96):
    rng = np.random.default_rng(0)
    return Dataset("mnist", rng.random((n, 1, 28, 28), dtype=np.float32), rng.integers(0, 10, n),
                   rng.random((8, 1, 28, 28), dtype=np.float32), rng.integers(0, 10, 8), list("0123456789"), "-")


def training_panel(qtbot, settings):
    state = AppState()
    state.set_dataset(tiny_dataset())
    state.set_model(zoo.build("mlp", seed=0))
    panel = TrainingPanel(state, settings)
    qtbot.addWidget(panel)
    return panel


def test_every_training_setting_is_covered_here():
    assert {name for name, _ in training_mod.SETTINGS} == set(SGD_FORM) | set(ADAM_FORM)
    assert {name for name, _ in data_mod.SETTINGS} == set(DATA_FORM)


@pytest.mark.parametrize("form", [SGD_FORM, ADAM_FORM], ids=["sgd", "adam"])
def test_training_settings_round_trip_from_control_to_job(qtbot, settings, form):
    panel = training_panel(qtbot, settings)
    for change, _ in form.values():
        change(panel)
    panel.save_settings()
    again = training_panel(qtbot, settings)
    assert again.config() == panel.config()
    job = again._make_job(again.state.model, again.state.dataset)
    for name, (_, arrived) in form.items():
        assert arrived(job, again), name


def test_data_settings_round_trip_from_control_to_loader(qtbot, settings):
    panel = DataPanel(AppState(), settings)
    qtbot.addWidget(panel)
    for change, _ in DATA_FORM.values():
        change(panel)
    panel.save_settings()
    again = DataPanel(AppState(), settings)
    qtbot.addWidget(again)
    choice = again.choice()
    assert choice == panel.choice()
    for name, (_, arrived) in DATA_FORM.items():
        assert arrived(load_options(choice), choice), name


def shown_defaults(panel):
    """The form's values, the optimizer's hidden rows left out: they show no one's default."""
    cfg = panel.config()
    cfg["hyper"] = {k: v for k, v in cfg["hyper"].items() if panel.opt_form.isRowVisible(panel.hyper[k])}
    return cfg


def test_a_new_panel_shows_each_declared_default(qtbot, settings):
    panel = training_panel(qtbot, settings)
    assert shown_defaults(panel) == {name: s.default_for(panel) for name, s in training_mod.SETTINGS}
    data = DataPanel(AppState(), settings)
    qtbot.addWidget(data)
    assert data.choice() == {name: s.default for name, s in data_mod.SETTINGS}
    assert panel.validation_fraction == data.choice()["validation"]


def test_saved_garbage_falls_back_to_the_defaults(qtbot, settings):
    settings.set("training/config", {"epochs": "many", "batch_size": float("nan"), "optimizer": "Newton",
                                     "augment": ["rotate"], "hyper": 3})
    panel = training_panel(qtbot, settings)
    assert shown_defaults(panel) == {name: s.default_for(panel) for name, s in training_mod.SETTINGS}


def _without_declarations(text):
    """A panel's source minus its SETTINGS table, the one place its defaults may be written."""
    return re.sub(r"^SETTINGS = PanelSettings\(.*?^\)\n", "", text, flags=re.S | re.M)


def literal_defaults_outside_declarations(text, declared):
    """Lines that write a setting's default again: ``cfg.get("epochs", ...)``, or a line naming the
    setting that assigns or sets its default literal (``self.validation_fraction = 0.1``, ``.setValue(3)``)."""
    found = []
    for name, default in declared.items():
        for line in _without_declarations(text).splitlines():
            if re.search(rf"\.get\(\s*[\"']{name}[\"']\s*,", line):
                found.append(line.strip())
            elif not isinstance(default, (dict, bool)) and name in line and \
                    re.search(rf"(=|\.set\w*\()\s*{re.escape(repr(default))}\s*[)\n#]", line + "\n"):
                found.append(line.strip())
    return found


def test_no_setting_default_is_written_outside_its_declaration(qtbot, settings):
    panel = training_panel(qtbot, settings)
    declared = {name: s.default_for(panel) for name, s in training_mod.SETTINGS}
    declared.update({name: s.default for name, s in data_mod.SETTINGS})
    for path in GUI.rglob("*.py"):
        assert literal_defaults_outside_declarations(path.read_text(), declared) == [], path


def test_the_scan_finds_the_old_hidden_defaults():
    """What the panels said before the table: the scan must see each of these."""
    old = ('        self.epochs.setValue(cfg.get("epochs", 3))\n'
           '        self.weight_decay.setValue(cfg.get("weight_decay", 0.0))\n'
           '        self.validation_fraction = 0.1\n'
           '        self.batch_size.setValue(64)\n'
           '        self.weight_decay = _spin(0.0, 1.0, 6, "a range, not a default")\n')
    declared = {"epochs": 3, "weight_decay": 0.0, "validation": 0.1, "batch_size": 64}
    assert len(literal_defaults_outside_declarations(old, declared)) == 4
