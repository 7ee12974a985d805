"""How a recorded run goes on: the ``TrainJob`` that continues a run exactly, and what every app run records.

Continuing a run exactly means training its model further with the run's
own settings (batch size, seed, validation split, augmentation, schedule,
optimizer with its state), on the same data, from the epoch it reached:
``fit(initial_epoch=done, epochs=done + N)``, whose shuffle of epoch e
depends only on the seed and e. So the settings come from run.json, never
from the form, and a dataset other than the run's is refused up front.
"""
from core import zoo
from core.augment import Augment
from core.errors import RunError
from core.schedules import SCHEDULES

from .worker import TrainJob

SCHEDULE_NAMES = {cls.__name__: name for name, cls in SCHEDULES.items()}


def run_settings(model, dataset, validation_fraction):
    """What an app run records beside what ``fit`` knows: its dataset, preset and validation share."""
    return {"dataset": dataset.name, "preset": zoo.preset_of(model), "validation_fraction": validation_fraction}


def test_images(dataset):
    """(x, y) of the dataset's test images, None when it has none (nothing to evaluate after a run)."""
    x = getattr(dataset, "x_test", None)
    return (x, dataset.y_test) if x is not None and len(x) else None


def continue_job(info, model, dataset, epochs, first_step=0):
    """A TrainJob that trains ``model`` (the run's last model, optimizer state included) ``epochs`` more
    epochs as the run ``info`` (its run.json) would have; recorded as a new run naming it as parent."""
    settings = info.get("settings") or {}
    fraction = _validation_fraction(settings)
    _check_dataset(info, settings, dataset)
    done = int(info.get("epochs_done") or 0)
    return TrainJob(dataset=dataset, x=dataset.x_train, y=dataset.y_train, epochs=epochs,
                    batch_size=int(settings["batch_size"]), optimizer=_optimizer(model, settings),
                    schedule=_schedule(settings.get("schedule")), augment=_augment(settings.get("augmentation")),
                    validation_fraction=fraction, test=test_images(dataset), seed=settings.get("seed"),
                    initial_epoch=done, first_step=first_step, parent=info["id"],
                    settings=run_settings(model, dataset, fraction))


def _optimizer(model, settings):
    """The model's optimizer, whose saved state goes on; the recorded one afresh for a model saved without it."""
    return model.optimizer.get_config() if model.optimizer is not None else settings["optimizer"]


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


def _schedule(recorded):
    """The schedule's name for ``fit`` from its record ({"type": "CosineDecay", ...}); None for none."""
    if not recorded:
        return None
    kind = recorded.get("type") if isinstance(recorded, dict) else recorded
    if kind not in SCHEDULE_NAMES:
        raise RunError(f"the run's learning-rate schedule {kind!r} is not one the app offers")
    return SCHEDULE_NAMES[kind]


def _augment(recorded):
    """An Augment from its record, None for none."""
    if not recorded:
        return None
    if not isinstance(recorded, dict):
        raise RunError(f"the run's augmentation {recorded!r} is not one the app can repeat")
    return Augment.from_config({k: v for k, v in recorded.items() if k != "type"})
