"""ONNX in the app: File > Open takes an .onnx file (Draw, Inside, Evaluation and training work on it),
File > Export as ONNX… writes one and never replaces a file unasked."""
import sys
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
from PIL import Image
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QFileDialog, QMessageBox

from core import load_model
from core.datasets import Dataset
from gui import main_window as main_window_mod
from gui.main_window import MainWindow
from gui.panels.inside import InsidePanel

ROOT = Path(__file__).resolve().parents[2]
TORCH = ROOT / "tests" / "data" / "onnx" / "lenet_torch.onnx"


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    monkeypatch.setattr(main_window_mod, "STARTUP_MODEL", tmp_path / "absent" / "lenet5-mnist")
    window = MainWindow(settings=QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat), autoload_data=False)
    qtbot.addWidget(window)
    window.resize(1300, 850)
    yield window
    window.training_panel.job.stop_and_wait(5000)
    window.panels["Evaluation"].job.stop_and_wait(5000)


def visible_messages(window):
    return [w for w in window.findChildren(QMessageBox) if w.isVisible()]


def variance(widget):
    image = widget.grab().toImage().convertToFormat(QImage.Format_Grayscale8)
    rows = np.frombuffer(image.constBits(), np.uint8, count=image.sizeInBytes()).reshape(image.height(), -1)
    return rows[:, :image.width()].astype(np.float64).var()


def test_an_onnx_file_opens_and_draw_inside_evaluation_and_training_work_on_it(qtbot, window, mnist, tmp_path,
                                                                               monkeypatch):
    ds = Dataset("mnist", mnist.x_train[:300], mnist.y_train[:300], mnist.x_test[:200], mnist.y_test[:200],
                 [str(i) for i in range(10)], "MNIST subset")
    window.state.set_dataset(ds)
    assert window.open_model(str(TORCH))
    model = window.state.model
    assert window.state.model_path == str(TORCH) and model.meta["softmax_added"]
    assert window.windowTitle().startswith("lenet_torch.onnx") and not window.isWindowModified()

    window.show()
    window.show_panel("Draw")
    draw = window.panels["Draw"]
    digit = tmp_path / "digit.png"
    Image.fromarray((mnist.x_test[0, 0] * 255).astype(np.uint8)).resize((112, 112)).save(digit)
    draw.open_image(str(digit))
    assert int(draw.chart.probabilities.argmax()) == int(mnist.y_test[0])

    window.show_panel("Inside")
    inside = window.panels["Inside"]
    for tab in InsidePanel.TABS[:3]:
        inside.set_tab(tab)
        qtbot.wait(50)
        assert variance(inside) > 150, f"{tab} looks blank"

    evaluation = window.panels["Evaluation"]
    window.show_panel("Evaluation")   # it evaluates by itself once seen
    qtbot.waitUntil(lambda: evaluation.result is not None, timeout=30_000)
    expected = (model.predict(ds.x_test).argmax(axis=1) == ds.y_test).mean()
    assert evaluation.result.accuracy == pytest.approx(expected)

    tp = window.training_panel
    tp.epochs.setValue(1)
    tp.batch_size.setValue(50)
    qtbot.mouseClick(tp.buttons["start"], Qt.LeftButton)
    qtbot.waitUntil(lambda: not tp.running, timeout=30_000)
    assert len(window.state.model.train_history["loss"]) == 1 and window.isWindowModified()

    before = TORCH.read_bytes()
    asked = []
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        lambda *args: (asked.append(Path(args[2])), (str(tmp_path / "retrained"), ""))[1])
    assert window.save_model()   # Save goes to Save as: the .onnx file is never written into
    assert asked[-1].name == "lenet_torch-retrained"
    assert TORCH.read_bytes() == before
    assert load_model(tmp_path / "retrained").train_history["loss"]


def test_the_open_dialog_takes_a_model_json_or_an_onnx_file(window, monkeypatch):
    chosen = [str(ROOT / "saved_models" / "mlp-mnist" / "model.json"), str(TORCH)]
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *args: (chosen.pop(0), ""))
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *args: "")   # a folder-only dialog picks none
    window.open_model_dialog()
    assert window.state.model_path == str(ROOT / "saved_models" / "mlp-mnist")
    window.open_model_dialog()
    assert window.state.model_path == str(TORCH)
    assert window.settings.recent_models()[0] == str(TORCH)


def test_without_onnx_opening_a_file_says_how_to_install_it(window, monkeypatch):
    model = window.state.model
    monkeypatch.setitem(sys.modules, "onnx", None)
    assert not window.open_model(str(TORCH))
    box, = visible_messages(window)
    assert 'pip install "numpynet-studio[onnx]"' in box.text()
    assert window.state.model is model


def test_export_as_onnx_writes_what_predict_gives_and_never_replaces_a_file_unasked(window, monkeypatch, tmp_path,
                                                                                    rng):
    answers, typed = [], []
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *args: (typed.pop(0), ""))
    monkeypatch.setattr(QMessageBox, "question", lambda *args: answers.pop(0))
    out = tmp_path / "mine.onnx"
    typed.append(str(out))
    assert window.export_onnx_action.isEnabled()
    window.export_onnx_action.trigger()
    x = rng.random((4, 1, 28, 28), dtype=np.float32)
    got = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"]).run(None, {"input": x})[0]
    np.testing.assert_allclose(got, window.state.model.predict(x), atol=1e-5)
    assert "Exported" in window.statusBar().currentMessage()

    out.write_bytes(b"keep")
    typed.append(str(tmp_path / "mine"))    # .onnx is added: the dialog never confirmed that name
    answers.append(QMessageBox.No)
    window.export_onnx_action.trigger()
    assert out.read_bytes() == b"keep" and not answers
    typed.append(str(tmp_path / "mine"))
    answers.append(QMessageBox.Yes)
    window.export_onnx_action.trigger()
    assert out.stat().st_size > 1000

    typed.append(str(tmp_path / "missing" / "m.onnx"))
    window.export_onnx_action.trigger()
    box, = visible_messages(window)
    assert "Cannot export" in box.windowTitle() or "Cannot export" in box.text()


def test_export_is_off_while_training_runs(window, rng):
    x = rng.random((20, 1, 28, 28), dtype=np.float32)
    window.state.set_dataset(Dataset("mnist", x, np.arange(20) % 10, x, np.arange(20) % 10, list("0123456789"), "-"))
    window.state.set_training(True)
    assert not window.export_onnx_action.isEnabled()
    window.state.set_training(False)
    assert window.export_onnx_action.isEnabled()
