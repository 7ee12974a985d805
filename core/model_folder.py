"""A saved model on disk, and how saving replaces one with a loadable model at the path at every instant.

A model folder holds ``model.json`` and the weights file that model.json
names (``weights.npz``; for a moment while a save replaces it,
``weights.next.npz``). model.json is the single commit point:

- a new model is written whole in a hidden sibling folder
  (``.NAME.numpynet-tmp-XXXX``) that is then renamed into place;
- a saved model is replaced in place. The new weights go to the weights name
  that the current model.json does not use, and a new model.json naming them
  replaces the old one in one ``os.replace``. Until that rename the old
  model.json names the old weights, untouched; after it the new one names
  the complete new weights. The weights then get their usual name back the
  same way (a hard link, then another model.json).

A killed save leaves only things this module names (a hidden sibling folder,
a weights file no model.json names, a temporary model.json); the next save
of that path removes them. Folders and files get the user's umask.
"""
import contextlib
import json
import os
import secrets
import shutil
from pathlib import Path

import numpy as np

try:
    import fcntl
except ImportError:   # Windows
    fcntl = None

from .errors import ModelFileError
from .model_json import FORMAT

MODEL_JSON = "model.json"
WEIGHTS = "weights.npz"
SPARE = "weights.next.npz"
TMP = ".numpynet-tmp"        # the start of every temporary name a save makes


def weights_file(folder, doc):
    """The weights file that the model.json ``doc`` of ``folder`` names (``weights.npz`` if none)."""
    name = doc.get("weights", WEIGHTS)
    if name not in (WEIGHTS, SPARE):
        raise ModelFileError(f"'weights' must be {WEIGHTS!r} or {SPARE!r}, got {name!r}")
    return Path(folder) / name


def check_target(path):
    """What ``path`` is: 'absent', 'empty' or 'model' (a folder holding a saved model).

    Anything else is a ModelFileError that says what is there. A model folder
    may also hold the user's own files (notes, plots): replacing the model
    touches only model.json and its weights, so they are kept.
    """
    path = user_path(path)
    if not os.path.lexists(path):
        _check_parent(path)
        return "absent"
    if not path.is_dir():
        raise ModelFileError(f"it is {_what_file(path)}, not a model folder; nothing was written")
    names = sorted(os.listdir(path))
    if not names:
        return "empty"
    if MODEL_JSON not in names or not _is_ours(path / MODEL_JSON):
        raise ModelFileError(f"the folder holds files that are not a saved numpynet model ({_listing(names)}); "
                             f"nothing was written. Choose a new or empty folder")
    return "model"


def user_path(path):
    """``path`` as the user means it: '~' is their home folder (as ``load_folder`` reads it).

    An empty path, or one holding a null byte that no file name can, is a ModelFileError.
    """
    text = os.fspath(path)
    if text == "":
        raise ModelFileError("the path is empty; name a model folder")
    if "\0" in text:
        raise ModelFileError(f"the path {text!r} holds a null byte, which no file name can")
    return Path(os.path.expanduser(text))


def _what_file(path):
    if not path.is_symlink():
        return "a file"
    return "a link to a file" if path.exists() else "a broken link"


def _check_parent(path):
    for parent in Path(os.path.abspath(path)).parents:
        if os.path.lexists(parent):
            if not parent.is_dir():
                raise ModelFileError(f"{parent} is a file, so no folder can be made in it")
            return


def _is_ours(file):
    try:
        doc = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return False
    return isinstance(doc, dict) and doc.get("format") == FORMAT


def _listing(names, most=5):
    shown = ", ".join(names[:most])
    return shown + (f" and {len(names) - most} more" if len(names) > most else "")


def write(path, doc, weights):
    """Save model.json ``doc`` and ``weights`` (key -> array) as the model folder ``path``."""
    check_target(path)   # before making any parent folder
    path = Path(os.path.realpath(user_path(path)))   # through a link to a folder, to the folder
    path.parent.mkdir(parents=True, exist_ok=True)
    with _locked(path.parent):
        kind = check_target(path)   # again: another save may have made it meanwhile
        _remove_stale_siblings(path)
        if kind == "model":
            _replace(path, doc, weights)
        else:
            _create(path, doc, weights, empty=kind == "empty")


@contextlib.contextmanager
def _locked(folder):
    """One save at a time in ``folder``, across threads and processes, where the OS has flock.

    Two saves interleaved would each take the other's new weights for a leftover.
    """
    if fcntl is None:
        yield
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)   # released when fd closes
        yield
    finally:
        os.close(fd)


def _create(path, doc, weights, empty):
    tmp = path.with_name(f".{path.name}{TMP}-{secrets.token_hex(4)}")
    os.mkdir(tmp)   # unlike tempfile.mkdtemp's 0700, the user's umask applies
    try:
        _write_weights(tmp / WEIGHTS, weights)
        _write_json(tmp / MODEL_JSON, {**doc, "weights": WEIGHTS})
        if empty:
            os.rmdir(path)   # refuses, touching nothing, if a file appeared in it meanwhile
        os.rename(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _sync_folder(path.parent)


def _replace(path, doc, weights):
    current = weights_file(path, json.loads((path / MODEL_JSON).read_text(encoding="utf-8"))).name
    spare = SPARE if current == WEIGHTS else WEIGHTS
    _remove_leftovers(path, current)
    try:
        _write_weights(path / spare, weights)
        _commit(path, doc, spare)
    except BaseException:
        _remove_leftovers(path, current)
        raise
    _remove(path / current)
    if spare != WEIGHTS:
        _restore_usual_name(path, doc)
    _sync_folder(path)


def _restore_usual_name(path, doc):
    """weights.next.npz -> weights.npz, with model.json naming a complete file at every step.

    Best effort: the model is already saved, and a folder whose model.json
    names weights.next.npz loads just as well (the next save tidies it).
    """
    try:
        try:
            os.link(path / SPARE, path / WEIGHTS)
        except OSError:   # a file system without hard links
            shutil.copyfile(path / SPARE, path / WEIGHTS)
        _commit(path, doc, WEIGHTS)
        _remove(path / SPARE)
    except OSError:
        pass


def _commit(folder, doc, weights_name):
    """Make ``doc`` naming ``weights_name`` the folder's model.json in one atomic replace."""
    tmp = folder / f"{TMP}-{MODEL_JSON}"
    _write_json(tmp, {**doc, "weights": weights_name})
    os.replace(tmp, folder / MODEL_JSON)


def _write_json(file, doc):
    text = json.dumps(doc, indent=1, allow_nan=False) + "\n"
    _write_synced(file, "w", lambda f: f.write(text))


def _write_weights(file, weights):
    _write_synced(file, "wb", lambda f: np.savez(f, **weights))


def _write_synced(file, mode, fill):
    """Write and fsync, so a rename that follows never publishes a file the disk has not got."""
    with open(file, mode, **({} if "b" in mode else {"encoding": "utf-8"})) as f:
        fill(f)
        f.flush()
        os.fsync(f.fileno())


def _remove_leftovers(folder, keep):
    """Weights files no model.json names and temporary files: what a killed save left."""
    for name in os.listdir(folder):
        if name in (WEIGHTS, SPARE) and name != keep or name.startswith(TMP):
            _remove(folder / name)


def _remove_stale_siblings(path):
    """Hidden sibling folders of saves of ``path`` that were killed before their rename."""
    prefix = f".{path.name}{TMP}-"
    if path.parent.is_dir():
        for name in os.listdir(path.parent):
            if name.startswith(prefix):
                shutil.rmtree(path.parent / name, ignore_errors=True)


def _remove(file):
    try:
        os.unlink(file)
    except FileNotFoundError:
        pass


def _sync_folder(folder):
    """Make the renames in ``folder`` durable; skipped where folders cannot be opened (Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
