"""Why a Lab page cannot compute now: one list of reasons, and one rule for a model and data that differ.

Every page computes on the test set of the data the model was made for. A
model whose input, outputs or class names differ from the dataset's (an MNIST
model on Fashion-MNIST: same shapes, and it answers "7" for a sandal) is not
computed on here: its curves, map, accuracy or calibration would name the
wrong things. The Evaluation tab is where a user who knows better evaluates it
anyway: it asks (``gui/mismatch.py``).
"""
from core import transfer


def training_note(waiting):
    """What a page says while a run changes the weights; ``waiting`` is what to do when it ends."""
    return f"Training is changing the weights: {waiting} when the run ends."


def why_not(model, dataset, training, waiting, least=1):
    """The sentence saying why a page cannot compute on ``model`` and ``dataset`` now, or None.

    Args:
        model: the model the page would compute with, or None.
        dataset: the loaded dataset, or None.
        training: whether a run is changing the weights.
        waiting: the page's own words for what to do when the run ends ("draw the map").
        least: how many test images the page needs.
    """
    if model is None:
        return "No model yet: open or build one."
    if dataset is None or len(dataset.x_test) < least:
        need = "No test images" if least == 1 else f"Fewer than {least} test images"
        return f"{need}: load a dataset in the Data panel."
    if training:
        return training_note(waiting)
    found = transfer.check(model, dataset)
    if found:
        return (f"{found.describe()} Load the data it was made for in the Data panel, or evaluate it anyway on "
                f"the Evaluation tab.")
    return None
