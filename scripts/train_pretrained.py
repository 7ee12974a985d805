"""Train the models in saved_models/ that the app opens on first launch.

    NUMPYNET_DATA=../shared/data python scripts/train_pretrained.py [lenet5-mnist mlp-mnist cnn-fashion-mnist]

Each recipe is fixed and seeded, so anyone can rerun it; model.json records
the dataset, the test accuracy, the date and the command.
"""
import argparse
import datetime
import sys
import time
from pathlib import Path

from core import Sequential, datasets, zoo
from core.augment import Augment
from core.layers import Conv2D, Dense, Dropout, Flatten, MaxPool2D, Softmax
from core.optimizers import SGD, Adam
from core.preprocess import mode_for_dataset
from core.schedules import CosineDecay

ROOT = Path(__file__).resolve().parents[1]


def fashion_cnn(input_shape, classes, seed):
    """Two 3x3 conv blocks and a dropout-regularised FC256: LeNet's cost, clothes' accuracy.

    (vgg_mini reaches the same accuracy at about ten times the training time.)
    """
    return Sequential([Conv2D(32, 3, activation="relu"), MaxPool2D(2), Conv2D(64, 3, activation="relu"),
                       MaxPool2D(2), Flatten(), Dense(256, "relu"), Dropout(0.25), Dense(classes), Softmax()],
                      input_shape=input_shape, seed=seed)


def zoo_model(name):
    return lambda input_shape, classes, seed: zoo.build(name, input_shape, classes, seed)


# name: (architecture, dataset, optimizer factory, epochs, augmentation)
RECIPES = {
    "lenet5-mnist": (zoo_model("lenet5"), "mnist", lambda: SGD(lr=0.05, momentum=0.9, weight_decay=5e-4), 12,
                     Augment(shift=2, rotate=12, scale=0.12)),
    "mlp-mnist": (zoo_model("mlp"), "mnist", lambda: Adam(lr=2e-3), 25, None),
    "cnn-fashion-mnist": (fashion_cnn, "fashion-mnist", lambda: Adam(lr=1e-3), 15, None),
}


def train(name):
    build, dataset, make_opt, epochs, augment = RECIPES[name]
    ds = datasets.load(dataset)
    model = build(ds.x_train.shape[1:], len(ds.class_names), 0)
    model.compile(make_opt(), "crossentropy")
    start = time.perf_counter()
    model.fit(ds.x_train, ds.y_train, epochs=epochs, batch_size=128, seed=0, augment=augment,
              lr_schedule=CosineDecay(epochs), validation_data=(ds.x_test, ds.y_test), verbose=True)
    metrics = model.evaluate(ds.x_test, ds.y_test)
    model.meta.update(
        name=name, dataset=dataset, class_names=list(ds.class_names), preprocessing=mode_for_dataset(dataset),
        metrics={"test_accuracy": metrics["accuracy"], "test_loss": metrics["loss"]},
        augmentation=augment.get_config() if augment else None,
        training_seconds=round(time.perf_counter() - start, 1),
        created=datetime.date.today().isoformat(),
        command=f"python scripts/train_pretrained.py {name}")
    path = model.save(ROOT / "saved_models" / name)
    print(f"{name}: test accuracy {metrics['accuracy']:.4f} -> {path}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("names", nargs="*", default=list(RECIPES), choices=list(RECIPES))
    for name in ap.parse_args().names:
        train(name)


if __name__ == "__main__":
    sys.exit(main())
