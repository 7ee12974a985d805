"""How a recorded run goes on: the ``TrainJob`` that continues a run exactly, and what every app run records.

Continuing a run exactly means training its model further with the run's
own settings (batch size, seed, validation split, augmentation) and its
optimizer's state and schedule as its model file keeps them, on the same
data, from the epoch it reached:
``fit(initial_epoch=done, epochs=done + N)``, whose shuffle of epoch e
depends only on the seed and e. So the settings come from run.json, never
from the form, and a dataset other than the run's is refused up front.
"""
from core import runs, zoo
from core.cli_runs import augment_of
from core.errors import RunError

from .worker import TrainJob


def recorder(model, dataset, validation_fraction, parent=None):
    """A ``runs.Recorder`` for an app run of ``model`` (source 'app', continuing the run ``parent`` if any),
    told what ``fit`` cannot know: the dataset, the preset and the validation share."""
    rec = runs.Recorder(source="app", parent=parent)   # a folder it cannot write is a RunError saying so
    rec.settings.update(dataset=dataset.name, preset=zoo.preset_of(model), validation_fraction=validation_fraction)
    return rec


def test_images(dataset):
    """(x, y) of the dataset's test images, None when it has none (nothing to evaluate after a run)."""
    x = getattr(dataset, "x_test", None)
    return (x, dataset.y_test) if x is not None and len(x) else None


def continue_job(run, model, dataset, epochs, first_step=0):
    """A TrainJob that trains ``model`` (the ``core.runs.Run``'s last model, loaded with its optimizer state
    and schedule) ``epochs`` more epochs as ``run`` would have; recorded as a new run naming it as parent."""
    settings = run.info.get("settings") or {}
    fraction = _validation_fraction(settings)
    _check_dataset(run.info, settings, dataset)
    optimizer = model.optimizer
    return TrainJob(dataset=dataset, x=dataset.x_train, y=dataset.y_train, epochs=epochs,
                    batch_size=int(settings["batch_size"]),
                    optimizer=optimizer.get_config() if optimizer is not None else settings["optimizer"],
                    schedule=optimizer.schedule if optimizer is not None else None, augment=augment_of(run),
                    validation_fraction=fraction, test=test_images(dataset), seed=settings.get("seed"),
                    initial_epoch=model.epochs_trained, first_step=first_step,
                    recorder=recorder(model, dataset, fraction, parent=run.info["id"]))


def _validation_fraction(settings):
    """The share of the training images the run held out (the app records it; the CLI records counts)."""
    if settings.get("validation_fraction") is not None:
        return float(settings["validation_fraction"])
    held, kept = settings.get("validation_samples") or 0, settings.get("train_samples") or 0
    return held / (held + kept) if held else 0.0


def _check_dataset(info, settings, dataset):
    """The run continues only on the data it trained on: the same dataset, as many training images."""
    name = settings.get("dataset")
    images = (settings.get("train_samples") or 0) + (settings.get("validation_samples") or 0)
    if dataset is None or dataset.name != name or (images and len(dataset.x_train) != images):
        loaded = "no dataset is loaded" if dataset is None else \
            f"the loaded dataset is {dataset.name} with {len(dataset.x_train):,} training images"
        raise RunError(f"The run {info.get('name') or info['id']} trained on {name} with {images:,} training "
                       f"images, and {loaded}. Load {name} in the Data panel to continue it exactly.")
