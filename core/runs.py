"""Recorded training runs: record one with ``Recorder``, read them back with ``list`` and ``load``.

Runs live in ``root()`` ($NUMPYNET_RUNS, else $XDG_DATA_HOME/numpynet/runs,
else ~/.local/share/numpynet/runs), one folder per run named by its id
(``run_files`` has the layout). A run is named by its id or any unique
start of it, as git names commits.
"""
import dataclasses
import functools
import re
import shutil
from pathlib import Path

from . import run_files as files
from .errors import RunError
from .recorder import Recorder
from .run_files import root
from .text import percent

_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")   # what a folder name of a run can be; no path, no pattern
__all__ = ["Recorder", "Run", "root", "list", "load", "rename", "tag", "delete", "cut_short_note"]


def cut_short_note(epoch, fraction):
    """What continuing a run whose epoch ``epoch`` stopped after ``fraction`` of its batches cannot give.

    A continued run starts the next epoch from its first batch (epoch e's shuffle
    and augmentation depend only on the seed and e), so the batches the stopped
    epoch did not reach are never trained: said wherever a continuation is
    offered as exact.

    Args:
        epoch: the epoch stopped in the middle, counted from 1 (run.json's ``cut_short["epoch"]``).
        fraction: the share of its batches it trained, in (0, 1).
    """
    return (f"Epoch {epoch} was stopped after {percent(fraction, 0)} of its batches: continuing starts epoch "
            f"{epoch + 1}, so the rest of epoch {epoch} is never trained and the result differs from a run that "
            "did not stop.")


@dataclasses.dataclass
class Run:
    """A recorded run as ``load`` reads it back.

    Attributes:
        info: its run.json: id, name, status, created, ended, source, parent, tags, settings,
            epochs_done, events, summary; and cut_short ({"epoch", "fraction"}) when its last epoch
            was stopped in the middle.
        metrics: {column: array} of metrics.csv, a row per batch: step, epoch, batch (int64),
            loss, accuracy, lr, seconds (float64).
        epochs: {column: array} of epochs.csv, a row per epoch: epoch, loss, accuracy, val_loss,
            val_accuracy (NaN without validation), lr, seconds.
        folder: the run's folder.
    """
    info: dict
    folder: Path

    @functools.cached_property
    def metrics(self):
        """metrics.csv, read when first asked for: a long run's batches need not be read to continue it."""
        return files.read_csv(self.folder / files.METRICS_CSV, files.METRIC_COLUMNS)

    @functools.cached_property
    def epochs(self):
        """epochs.csv, read when first asked for."""
        return files.read_csv(self.folder / files.EPOCHS_CSV, files.EPOCH_COLUMNS)

    @property
    def model_path(self):
        """The run's last saved model (None if it saved none)."""
        path = self.folder / files.MODEL
        return path if path.is_dir() else None

    @property
    def best_path(self):
        """The model of the run's best validation accuracy (None without validation)."""
        path = self.folder / files.BEST
        return path if path.is_dir() else None

    def load_model(self, best=False):
        """The run's last (or best) model, compiled with its optimizer state, ready to continue.

        Args:
            best: the model of the best validation accuracy instead of the last.

        Raises:
            RunError: the run saved no such model.
        """
        from .serialization import load_model

        path = self.best_path if best else self.model_path
        if path is None:
            raise RunError(f"run {self.info['id']} has no {'best' if best else 'saved'} model in {self.folder}")
        return load_model(path)


def list(root=None):   # runs.list(), as the design names it; this module needs no builtin list
    """Every run's run.json (a dict), newest first; a run whose process died unfinished is 'interrupted'.

    A folder whose run.json cannot be read is listed with status 'unreadable' and the reason as 'error'.

    Args:
        root: the folder of runs (default: ``root()``).
    """
    folder = files.root(root)
    if not folder.is_dir():
        return []
    found = [_info(path) for path in folder.iterdir() if (path / files.RUN_JSON).is_file()]
    return sorted(found, key=lambda info: (str(info.get("created") or ""), str(info.get("id"))), reverse=True)


def load(run_id, root=None):
    """The run ``run_id``: its record now, its metrics and epochs when first asked for, as a ``Run``.

    Args:
        run_id: the run's id, or a start of it that names one run.
        root: the folder of runs (default: ``root()``).

    Raises:
        RunError: no such run, or more than one run starting so (naming them and the folder).
    """
    folder = find(run_id, root)
    return Run(_info(folder), folder)


def rename(run_id, name, root=None):
    """Give the run a new name.

    Args:
        run_id: the run's id, or a start of it that names one run.
        name: the new name, or None for none.
        root: the folder of runs (default: ``root()``).
    """
    _edit(run_id, root, name=None if name is None else str(name))


def tag(run_id, tags, root=None):
    """Set the run's tags, replacing the old ones.

    Args:
        run_id: the run's id, or a start of it that names one run.
        tags: a list of strings (or one string).
        root: the folder of runs (default: ``root()``).
    """
    if isinstance(tags, str):
        tags = [tags]
    _edit(run_id, root, tags=[str(t) for t in tags])


def delete(run_id, root=None):
    """Remove the run's folder, once its run.json says it is that run (nothing else is ever removed).

    Args:
        run_id: the run's id, or a start of it that names one run.
        root: the folder of runs (default: ``root()``).
    """
    folder = find(run_id, root)
    shutil.rmtree(folder)


def find(run_id, root=None):
    """The folder of the run ``run_id``, or of the one run whose id starts with it; else a RunError."""
    base = files.root(root)
    text = str(run_id)
    if not _ID.fullmatch(text):
        raise RunError(f"{text!r} is not a run id (ids look like 20261130-094412-ab12)")
    names = sorted(p.name for p in base.iterdir()) if base.is_dir() else []
    chosen = [text] if text in names else [n for n in names if n.startswith(text)]
    runs = [base / n for n in chosen if _is_run(base / n)]
    if not runs:
        raise RunError(f"no run {text!r} in {base}")
    if len(runs) > 1:
        raise RunError(f"{text!r} names {len(runs)} runs in {base} ({', '.join(p.name for p in runs[:5])}); "
                       f"give more of the id")
    return runs[0]


def _is_run(folder):
    """A folder holding a run.json whose id is the folder's name: the only kind ``delete`` removes."""
    try:
        return files.read_json(folder / files.RUN_JSON).get("id") == folder.name
    except RunError:
        return False


def _info(folder):
    """run.json of ``folder``, 'interrupted' when it says running but its process on this host is gone."""
    try:
        info = files.read_json(folder / files.RUN_JSON)
    except RunError as e:
        return {"id": folder.name, "status": "unreadable", "error": str(e)}
    if info.get("status") == "running" and info.get("host") == files.HOST \
            and not files.is_alive(info.get("pid"), info.get("process_start")):
        info["status"] = "interrupted"
    return info


def _edit(run_id, root, **fields):
    file = find(run_id, root) / files.RUN_JSON
    files.write_json(file, {**files.read_json(file), **fields})

