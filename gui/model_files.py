"""The model files the app opens and writes besides its own folders: ONNX in (File > Open) and out
(File > Export as ONNX…).

File > Open picks a file, so one dialog takes both kinds: a saved model's ``model.json`` (its
folder is opened) or an ``.onnx`` file (imported by ``core.interop``). An imported model has no
folder of its own, so Save asks where to put one, as for a shipped model.
"""
from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QMessageBox

from core import load_model
from core.errors import NumpynetError

from .messages import show_error

OPEN_FILTER = "Models (model.json *.onnx);;numpynet model (model.json);;ONNX model (*.onnx)"
ONNX_FILTER = "ONNX model (*.onnx)"


def is_onnx(path):
    return Path(path).suffix.lower() == ".onnx"


def ask_open_path(parent, start):
    """A model path from the open dialog: a saved-model folder (from its model.json), an .onnx file, or None."""
    path, _ = QFileDialog.getOpenFileName(parent, "Open a model: a saved model's model.json, or an ONNX file",
                                          start, OPEN_FILTER)
    if not path:
        return None
    return str(Path(path).parent) if Path(path).name == "model.json" else path


def read_model(path):
    """The model at ``path``: an ONNX file (imported) or a saved-model folder. NumpynetError if neither."""
    if is_onnx(path):
        from core.interop import import_onnx
        return import_onnx(path)
    return load_model(path)


def model_name(path):
    """The name the title and Save as suggest: a folder's name, an ONNX file's name without .onnx."""
    return Path(path).stem if is_onnx(path) else Path(path).name


def export_onnx_dialog(window):
    """File > Export as ONNX…: ask where (never replacing a file unasked), write, report. Returns the path or None."""
    state = window.state
    if state.model is None or state.training:
        window.statusBar().showMessage("Nothing to export while training runs; stop it first.")
        return None
    name = model_name(state.model_path) if state.model_path else "my-model"
    path, _ = QFileDialog.getSaveFileName(window, "Export as ONNX", str(window.save_folder() / f"{name}.onnx"),
                                          ONNX_FILTER)
    if not path:
        return None
    path = Path(path)
    if not is_onnx(path):   # the dialog confirmed the name typed, not the one with .onnx added
        path = path.with_name(path.name + ".onnx")
        if path.exists() and not _confirm_replace(window, path):
            return None
    return export_to(window, path)


def export_to(window, path):
    from core.interop import export_onnx
    try:
        export_onnx(window.state.model, path)
    except NumpynetError as exc:
        show_error(window, "Cannot export the model", str(exc),
                   advice="Choose another file or folder, or install the ONNX extra. The model is unchanged.")
        return None
    window.statusBar().showMessage(f"Exported the model to {path}")
    return path


def _confirm_replace(parent, path):
    answer = QMessageBox.question(parent, "Replace the file?", f"{path} already exists. Replace it?",
                                  QMessageBox.Yes | QMessageBox.No, QMessageBox.No)
    return answer == QMessageBox.Yes
