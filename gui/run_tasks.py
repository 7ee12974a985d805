"""What the Runs panel computes off the GUI thread: two runs' confusion matrices on their test sets.

Plain functions run by a ``TaskWorker``; they touch no widget. Each run is
evaluated on the test set of the dataset it was trained on: the one loaded
in the app when the names agree (a dataset made in the app may exist
nowhere else), else ``datasets.load`` from this computer, never a download.
A run that cannot be evaluated gets a message in place of its matrix; the
other run's matrix still shows.
"""
from core import datasets, inspect, runs
from core.errors import NumpynetError

from .format import percent
from .views.runs_table import run_name


def confusion_matrices(pair, loaded):
    """A task ``fn(progress) -> [(name, (cm, class names, accuracy text) or message)]`` for two run.json dicts."""
    def task(progress):
        found = {}
        return [(run_name(info), _matrix(info, loaded, found, lambda d, t, i=i: progress(i * t + d, 2 * t)))
                for i, info in enumerate(pair)]
    return task


def _matrix(info, loaded, found, progress):
    try:
        ds = _test_set(info, loaded, found)
        model = runs.load(info["id"]).load_model()
        result = inspect.evaluate_predictions(model, ds.x_test, ds.y_test, progress=progress)
    except (NumpynetError, ValueError, OSError) as exc:
        return str(exc)
    return result.confusion, list(ds.class_names), percent(result.accuracy, 2)


def _test_set(info, loaded, found):
    """The dataset ``info`` was trained on, once per task (``found`` keeps what was loaded)."""
    name = (info.get("settings") or {}).get("dataset")
    if not name:
        raise NumpynetError("the run does not say which dataset it was trained on")
    if loaded is not None and loaded.name == name:
        found[name] = loaded
    if name not in found:
        found[name] = datasets.load(name, download=False)
    if not len(found[name].x_test):
        raise NumpynetError(f"the dataset {name} has no test set")
    return found[name]
