"""The one place that reads the saved-model format: a folder with model.json + weights.npz.

``saving`` writes it; the fields and their checks are ``model_json``'s, the
folder's layout ``model_folder``'s. Loading never runs code: the npz is read
with ``allow_pickle=False`` and the JSON names only registered layers. It
checks the architecture's sizes against the npz headers before allocating
anything. This module builds a ``Sequential``, so it sits above ``model``.
"""
import contextlib
import json
import os
import stat
import time
from pathlib import Path

from . import model_folder, npz, optimizer_state, resources
from .errors import ModelFileError, NumpynetError
from .model import Sequential, check_weight_shapes
from .model_json import RESERVED, check, check_meta, make_layers

MAX_JSON_BYTES = 64 * 2**20   # a model.json holds an architecture, metadata and per-epoch history: kilobytes


def read_model_json(path):
    """The parsed (not yet checked) model.json of a saved-model folder."""
    path = Path(path)
    if not path.is_dir():
        shipped = ", ".join(resources.shipped_models()) or "none"
        raise ModelFileError(f"{path}: no such model folder (a saved model is a folder with model.json and "
                             f"weights.npz; the shipped models, loadable by name: {shipped})")
    file = path / model_folder.MODEL_JSON
    if not file.exists():
        raise ModelFileError(f"{file}: missing; this folder is not a saved model")
    return _read_json(file)


def _read_json(file):
    """The parsed JSON of ``file``: a regular file of at most MAX_JSON_BYTES, so that a model.json
    linked to /dev/zero or a FIFO is refused instead of read until memory runs out, or forever."""
    try:
        if _regular_file(file).st_size > MAX_JSON_BYTES:
            raise ModelFileError(f"{file}: larger than {MAX_JSON_BYTES // 2**20} MB, far more than any "
                                 f"architecture and its metadata; it is not read")
        data = Path(file).read_bytes()
    except OSError as e:
        raise ModelFileError(f"{file}: cannot read it ({e.strerror or e})") from None
    try:
        return json.loads(data.decode("utf-8"))
    except (ValueError, RecursionError) as e:
        raise ModelFileError(f"{file}: not valid JSON ({e})") from None


def _regular_file(file):
    """``os.stat(file)`` of a regular file; a device or a pipe would be read forever, or block."""
    info = os.stat(file)
    if not stat.S_ISREG(info.st_mode):
        raise ModelFileError(f"{file}: not a regular file (a device, a pipe or a folder); it is not read")
    return info


@contextlib.contextmanager
def _reading(where):
    """Any error of the checks within, as a ModelFileError naming the file or folder they read."""
    try:
        yield
    except (NumpynetError, ValueError, TypeError) as e:
        raise ModelFileError(f"{where}: {e}") from None


def check_architecture(arch, file):
    """Refuse (ModelFileError naming ``file``) an architecture that is not
    ``{"input_shape": [positive ints], "layers": [{"type": known, "config": {...}}]}``."""
    with _reading(file):
        make_layers(arch)
    return {"input_shape": arch["input_shape"], "layers": arch["layers"]}


def save_architecture(path, config):
    """An architecture alone, as JSON: the same schema as model.json's "architecture"."""
    Path(path).write_text(json.dumps(config, indent=1) + "\n", encoding="utf-8")


def load_architecture(path):
    """An architecture config from a JSON file: one saved by ``save_architecture``, or a model.json."""
    doc = _read_json(path)
    return check_architecture(doc.get("architecture", doc) if isinstance(doc, dict) else None, path)


def load_model(path):
    """A Sequential from a saved folder, with its metadata, history and optimizer state.

    ``path`` may also be the bare name of a shipped pretrained model
    (``load_model("lenet5-mnist")``) when no folder of that name is here.

    Every field is checked, and the weights' shapes against the architecture,
    before any layer is built: a bad file costs a ModelFileError, not memory.
    Weights are read with ``allow_pickle=False``: nothing in the file runs code.

    Args:
        path: the model folder (holding model.json and weights.npz), as ``Sequential.save`` wrote it.

    Returns:
        A ``Sequential`` with its weights, compiled with the saved optimizer and loss; ``meta`` holds
        its class names, preprocessing, dataset and metrics. When the file has them (see
        ``optimizer_state``), the optimizer has its state back (momentum, moments, step count) and
        ``optimizer.schedule`` the last run's schedule, so ``fit(initial_epoch=model.epochs_trained,
        lr_schedule=model.optimizer.schedule)`` goes on exactly.

    Raises:
        ModelFileError: the folder is missing, a file is corrupt or foreign, the format is newer than
            this version, a layer type is unknown, or the weights do not match the architecture
            (the message says which file and why).

    Example:
        >>> from core import load_model
        >>> model = load_model("saved_models/lenet5-mnist")
        >>> model.meta["class_names"][:3]
        ['0', '1', '2']
    """
    folder = resources.model_path(path)
    doc, checked, weights = _open_checked(folder)
    with weights:
        with _reading(weights.name):
            shapes, state_shapes = optimizer_state.split(npz.array_shapes(weights))
        with _reading(folder):
            check_weight_shapes(checked.layers, checked.weight_shapes, shapes)
        with _reading(weights.name):
            optimizer_state.check(state_shapes, checked.weight_shapes, checked.optimizer, checked.schedule)
        with _reading(folder / model_folder.MODEL_JSON):
            check_meta(doc, checked.output_shape)
        with _reading(weights.name):
            model = Sequential(checked.layers, input_shape=checked.input_shape)
            arrays, state = optimizer_state.split(npz.read_arrays(weights))
            model.set_weights(arrays)
            if checked.optimizer is not None:
                model.compile(checked.optimizer, checked.loss or "crossentropy")
                checked.optimizer.schedule = checked.schedule
                optimizer_state.restore(checked.optimizer, state)
    model.train_history = doc.get("history") or {}
    model.meta = {k: v for k, v in doc.items() if k not in RESERVED}
    return model


def _open_checked(folder, attempts=10):
    """(model.json, its ``check``, the weights file it names, open).

    A save may replace model.json and its weights between the reads: the
    weights count only if model.json still says the same once they are open,
    and a weights file found missing is looked for again. Each retry waits
    twice as long as the last (1 ms up to about half a second), so a reader
    on a busy machine is not starved by saves that follow each other closely.
    """
    for attempt in range(attempts):
        if attempt:
            time.sleep(0.001 * 2 ** (attempt - 1))
        doc = read_model_json(folder)
        with _reading(folder / model_folder.MODEL_JSON):
            checked = check(doc)
            file = model_folder.weights_file(folder, doc)
        try:
            _regular_file(file)
            weights = open(file, "rb")
        except FileNotFoundError:
            continue
        except OSError as e:
            raise ModelFileError(f"{file}: cannot read it ({e.strerror or e})") from None
        if read_model_json(folder) == doc:
            return doc, checked, weights
        weights.close()
    if not file.exists():
        raise ModelFileError(f"{file}: missing; the model's weights were not saved")
    raise ModelFileError(f"{folder}: it changed {attempts} times while being read; try again")
