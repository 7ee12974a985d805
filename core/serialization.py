"""The one place that knows the saved-model format: a folder with model.json + weights.npz.

Saving writes a temporary sibling folder and renames it into place, so a
crash never leaves a half-written model. Loading never runs code: the npz is
read with ``allow_pickle=False`` and the JSON names only registered layers.
"""
import datetime
import json
import os
import shutil
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from . import losses, optimizers
from .errors import ModelFileError, NumpynetError
from .layers import layer_class

FORMAT = "numpynet-model"
FORMAT_VERSION = 1


RESERVED = ("format", "format_version", "architecture", "optimizer", "loss", "history")


def model_to_json(model):
    clash = sorted(set(model.meta) & set(RESERVED))
    if clash:
        raise ValueError(f"model.meta keys {clash} are reserved by the saved-model format; rename them")
    meta = dict(model.meta)
    meta.setdefault("created", datetime.datetime.now().isoformat(timespec="seconds"))
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "architecture": model.get_config(),
        "optimizer": model.optimizer.get_config() if model.optimizer else None,
        "loss": model.loss.get_config() if model.loss else None,
        "history": model.train_history,
        **meta,
    }


def save_model(model, path):
    """Write ``path``/model.json and ``path``/weights.npz atomically.

    Whatever goes wrong (a full disk, a value JSON cannot hold, a crash),
    the temporary folder is removed and an existing model at ``path`` stays.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    try:
        text = json.dumps(model_to_json(model), indent=1, default=_json_default)
        (tmp / "model.json").write_text(text, encoding="utf-8")
        np.savez(tmp / "weights.npz", **model.get_weights())
        _replace_dir(tmp, path)
    except BaseException as e:
        shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(e, OSError):
            raise ModelFileError(f"could not save the model to {path}: {e.strerror or e}") from e
        if isinstance(e, TypeError):
            raise ModelFileError(f"could not save the model to {path}: {e}") from e
        raise
    return path


def _replace_dir(new, path):
    """Move folder ``new`` to ``path``, replacing any folder there with two renames."""
    old = None
    if path.exists():
        old = path.with_name(f".{path.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        os.replace(path, old)
    os.replace(new, path)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _json_default(o):
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    raise TypeError(f"a {type(o).__name__} in the model's metadata is not JSON serialisable")


def read_model_json(path):
    """The parsed, checked model.json of a saved-model folder."""
    path = Path(path)
    if not path.is_dir():
        raise ModelFileError(f"{path}: no such model folder (a saved model is a folder with model.json and weights.npz)")
    file = path / "model.json"
    try:
        doc = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelFileError(f"{file}: missing; this folder is not a saved model") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ModelFileError(f"{file}: not valid JSON ({e})") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ModelFileError(f"{file}: not a numpynet model (no 'format': '{FORMAT}')")
    version = doc.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ModelFileError(f"{file}: format version {version} is newer than this numpynet reads "
                             f"({FORMAT_VERSION}); update numpynet-studio")
    check_architecture(doc.get("architecture"), file)
    return doc


def check_architecture(arch, file):
    """Refuse (ModelFileError naming ``file``) an architecture that is not
    ``{"input_shape": [positive ints], "layers": [{"type": known, "config": {...}}]}``."""
    if not isinstance(arch, dict) or not isinstance(arch.get("layers"), list):
        raise ModelFileError(f"{file}: not an architecture (expected {{\"input_shape\": [...], \"layers\": [...]}})")
    shape = arch.get("input_shape")
    if not (isinstance(shape, list) and shape and all(isinstance(d, int) and d > 0 for d in shape)):
        raise ModelFileError(f"{file}: input_shape must be a list of positive sizes like [1, 28, 28], got {shape!r}")
    for i, entry in enumerate(arch["layers"]):
        try:
            if not isinstance(entry, dict) or not isinstance(entry.get("config", {}), dict):
                raise ValueError(f"expected {{'type': ..., 'config': {{...}}}}, got {entry!r}")
            layer_class(entry.get("type"))
        except ValueError as e:
            raise ModelFileError(f"{file}: layer {i + 1}: {e}") from None
    return {"input_shape": shape, "layers": arch["layers"]}


def save_architecture(path, config):
    """An architecture alone, as JSON: the same schema as model.json's "architecture"."""
    Path(path).write_text(json.dumps(config, indent=1) + "\n", encoding="utf-8")


def load_architecture(path):
    """An architecture config from a JSON file: one saved by ``save_architecture``, or a model.json."""
    path = Path(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise ModelFileError(f"{path}: cannot read it ({e.strerror or e})") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ModelFileError(f"{path}: not valid JSON ({e})") from None
    return check_architecture(doc.get("architecture", doc) if isinstance(doc, dict) else None, path)


def read_weights(path):
    file = Path(path) / "weights.npz"
    if file.is_file() and not zipfile.is_zipfile(file):
        raise ModelFileError(f"{file}: not a readable weights archive (damaged, or not an .npz zip file)")
    try:
        with np.load(file, allow_pickle=False) as npz:
            return {k: npz[k] for k in npz.files}
    except FileNotFoundError:
        raise ModelFileError(f"{file}: missing; the model's weights were not saved") from None
    except ValueError as e:
        raise ModelFileError(f"{file}: holds Python objects, which are never loaded ({e})") from None
    except (OSError, zipfile.BadZipFile, EOFError) as e:
        raise ModelFileError(f"{file}: not a readable weights archive ({e})") from None


def load_model(path):
    """A compiled Sequential from a saved folder, with its metadata and history."""
    from .model import Sequential  # imported here: model.py imports this module

    doc = read_model_json(path)
    try:
        model = Sequential.from_config(doc["architecture"])
        model.set_weights(read_weights(path))
        if doc.get("optimizer"):
            model.compile(optimizers.from_config(doc["optimizer"]),
                          losses.get((doc.get("loss") or {}).get("type", "CrossEntropy")))
    except ModelFileError:
        raise
    except (NumpynetError, ValueError, TypeError, KeyError) as e:
        raise ModelFileError(f"{Path(path)}: {e}") from None
    model.train_history = doc.get("history") or {}
    model.meta = {k: v for k, v in doc.items() if k not in RESERVED}
    return model
