"""Writing a model to its folder: model.json + weights.npz (the format ``serialization`` reads).

``save_model`` writes only where the path is absent, an empty folder, or a
folder holding a saved model, and replaces a model so that a loadable one is
at the path at every instant (``model_folder``). It checks what it writes
with the same checks ``load_model`` runs (``model_json``), so it never writes
a file that loading refuses.

It sits below ``model`` (``Sequential.save`` calls it) and knows a model only
by what it offers: config, weights, optimizer, loss, history and meta.
"""
import contextlib
import datetime
import os
from pathlib import Path

import numpy as np

from . import losses, model_folder, optimizer_state, optimizers
from .errors import ModelFileError
from .layers import layer_class
from .model_json import FORMAT, FORMAT_VERSION, RESERVED, check, check_meta, to_json


def model_to_json(model):
    """The model.json document of ``model``: plain JSON, or a ModelFileError naming what cannot be."""
    clash = sorted(set(model.meta) & set(RESERVED))
    if clash:
        raise ModelFileError(f"model.meta keys {clash} are reserved by the saved-model format; rename them")
    meta = dict(model.meta)
    meta.setdefault("created", datetime.datetime.now().isoformat(timespec="seconds"))
    schedule = optimizer_state.saved_schedule(model.optimizer)
    if schedule is not None:   # the last run's schedule, so that training can continue it
        meta["schedule"] = schedule.get_config()   # (after the clash check: 'schedule' is reserved)
    return to_json({
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "architecture": _architecture(model),
        "optimizer": _config_of(model.optimizer, "optimizer", optimizers.OPTIMIZERS, str.lower),
        "loss": _config_of(model.loss, "loss", losses.LOSSES, str,
                           "decorate {name} with @core.losses.register_loss (its get_config() must give "
                           "its constructor's arguments) before saving and loading"),
        "history": model.train_history,
        **meta,
    })


def _architecture(model):
    for i, layer in enumerate(model.layers):
        name = type(layer).__name__
        try:
            known = layer_class(name) is type(layer)
        except ValueError:
            known = False
        if not known:
            raise ModelFileError(f"layer {i + 1} is a {name}, not a registered layer type, so load_model could "
                                 f"not rebuild it: decorate {name} with @core.layers.register (its get_config() "
                                 f"must give its constructor's arguments) before saving and loading")
    return model.get_config()


def _config_of(part, what, registry, key, advice=""):
    """The config of the model's optimizer or loss; a registered one, or it could not be loaded back.

    ``advice`` (with ``{name}``) says how to register a class of one's own, where that is possible.
    """
    if part is None:
        return None
    name = type(part).__name__
    if registry.get(key(name)) is not type(part):
        known = sorted({cls.__name__ for cls in registry.values()})
        how = f": {advice.format(name=name)}" if advice else ""
        raise ModelFileError(f"the {what} is a {name}, not a registered {what} ({', '.join(known)}), "
                             f"so load_model could not rebuild it{how}")
    return part.get_config()


@contextlib.contextmanager
def _saving_to(path):
    """Every way a save can fail becomes one ModelFileError naming ``path`` and the cause."""
    shown = os.fspath(path) or "''"
    try:
        yield
    except ModelFileError as e:
        raise ModelFileError(f"could not save the model to {shown}: {e}") from None
    except OSError as e:
        raise ModelFileError(f"could not save the model to {shown}: {e.strerror or e}{_where(e)}") from e


def _where(error):
    """The file an OSError names; for a temporary one, the folder it was made in."""
    name = os.fspath(error.filename) if error.filename else ""
    if model_folder.TMP in name:
        return f" (in {Path(name).parent})"
    return f" ({name})" if name else ""


def check_save_path(path):
    """Refuse now what ``save_model`` would refuse, so a long training run does not end in a failed save."""
    with _saving_to(path):
        model_folder.check_target(path)


def save_model(model, path):
    """Write ``model`` to the folder ``path`` (see the module docstring); returns it as a Path, ``~`` expanded."""
    with _saving_to(path):
        doc = model_to_json(model)
        check_meta(doc, check(doc).output_shape)
        model_folder.write(path, doc, _weights_to_save(model))
    return model_folder.user_path(path)


def _weights_to_save(model):
    """The weights, and the optimizer's state beside them (``optimizer_state``)."""
    weights = {key: np.asarray(arr) for key, arr in {**model.get_weights(),
                                                      **optimizer_state.to_arrays(model.optimizer)}.items()}
    for key, arr in weights.items():
        if arr.dtype.kind not in "biuf":
            raise ModelFileError(f"weight {key} holds {arr.dtype} values; only numbers are saved")
    return weights
