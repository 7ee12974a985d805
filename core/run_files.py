"""The files of a recorded run, and how they are written and read back safely.

A run folder holds ``run.json`` (settings, status, events, summary),
``metrics.csv`` (a row per batch), ``epochs.csv`` (a row per epoch), ``model/``
(the last saved model) and ``best/`` (the model of the best validation
accuracy). ``Recorder`` writes them as training goes; ``runs`` reads them.
Plain JSON and CSV, so a killed run stays readable by anything.
"""
import json
import os
import socket
from pathlib import Path

import numpy as np

from .errors import RunError

RUN_JSON = "run.json"
METRICS_CSV = "metrics.csv"
EPOCHS_CSV = "epochs.csv"
MODEL = "model"
BEST = "best"
METRIC_COLUMNS = ("step", "epoch", "batch", "loss", "accuracy", "lr", "seconds")
EPOCH_COLUMNS = ("epoch", "loss", "accuracy", "val_loss", "val_accuracy", "lr", "seconds")
_WHOLE = {"step", "epoch", "batch"}   # columns read back as integers
HOST = socket.gethostname()


def root(folder=None):
    """Where runs are kept: ``folder``, else $NUMPYNET_RUNS, else $XDG_DATA_HOME/numpynet/runs, else ~/.local/...

    Args:
        folder: a folder of runs to use as it is ('~' expanded), or None for the usual place
            (~/.local/share/numpynet/runs without the variables).
    """
    if folder is not None:
        return Path(os.path.expanduser(os.fspath(folder)))
    if os.environ.get("NUMPYNET_RUNS"):
        return Path(os.path.expanduser(os.environ["NUMPYNET_RUNS"]))
    data = os.environ.get("XDG_DATA_HOME") or os.path.join("~", ".local", "share")
    return Path(os.path.expanduser(data)) / "numpynet" / "runs"


def write_json(file, doc):
    """Replace ``file`` with ``doc`` in one ``os.replace``: a reader sees the old or the new, never half."""
    tmp = file.with_name(f".{file.name}.tmp-{os.getpid()}")
    tmp.write_text(json.dumps(doc, indent=1, allow_nan=False) + "\n", encoding="utf-8")
    os.replace(tmp, file)


def read_json(file):
    """The run.json at ``file``; a RunError naming it when it is missing or not a JSON object."""
    try:
        doc = json.loads(Path(file).read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise RunError(f"{file}: cannot read this run's record ({getattr(e, 'strerror', None) or e})") from None
    if not isinstance(doc, dict):
        raise RunError(f"{file}: not a run record (a JSON object)")
    return doc


def csv_row(values):
    """One CSV line; None and NaN are written empty (a missing value, e.g. val_loss without validation)."""
    return ",".join("" if v is None or v != v else repr(v) if isinstance(v, float) else str(v) for v in values) + "\n"


def read_csv(file, columns):
    """{column: array} of a run's CSV file; a last line cut short by a kill is left out.

    An absent file gives empty columns: a run killed before its first row.
    """
    try:
        text = Path(file).read_text(encoding="utf-8")
    except FileNotFoundError:
        text = ""
    lines = text.split("\n")
    rows = [_parse(line, len(columns)) for line in lines[1:-1]]   # the last piece has no newline: unfinished
    rows = [r for r in rows if r is not None]
    table = np.array(rows, np.float64).reshape(len(rows), len(columns))
    return {name: table[:, i].astype(np.int64) if name in _WHOLE else table[:, i] for i, name in enumerate(columns)}


def _parse(line, width):
    fields = line.split(",")
    if len(fields) != width:
        return None
    try:
        return [float(f) if f else np.nan for f in fields]
    except ValueError:
        return None


def process_start(pid):
    """A token that tells this process from a later one given the same pid (Linux: its start time), or None."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    state, *rest = stat.rsplit(")", 1)[1].split()
    return None if state == "Z" else rest[18]   # field 22 of proc(5): start time in clock ticks


def is_alive(pid, started):
    """Whether process ``pid`` (with start token ``started``, if known) still runs on this host."""
    if not isinstance(pid, int) or pid <= 0:
        return False
    if os.path.isdir("/proc/self"):
        now = process_start(pid)
        return now is not None and (started is None or now == started)
    if os.name == "nt":   # signal 0 would be CTRL_C_EVENT there: say alive rather than guess
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:   # it exists, owned by someone else
        return True
    return True
