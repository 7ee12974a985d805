"""``numpynet``: train, evaluate, predict, summarise models and list datasets, without a window.

Every failure is one line on stderr and a non-zero exit, never a traceback;
a bad option is argparse's usage error (exit 2) before anything loads. A
diverged run exits 3 and saves nothing. Ctrl-C during training stops after
the current batch and still saves.
"""
import argparse
import signal
import sys
import time
from pathlib import Path

from . import cli_interop
from . import cli_train_options as train_options
from . import cli_lab, cli_runs, datasets, load_model, resources, transfer, zoo
from .callbacks import Callback
from .cli_types import POSITIVE_INT
from .cli_types import checked as _checked
from .cli_train_options import optimizer as _optimizer
from .errors import NumpynetError
from .model import Sequential
from .saving import check_save_path
from .schedules import epochs_past_end
from .serialization import load_architecture
from .text import probability

EXIT_ERROR, EXIT_DIVERGED, EXIT_INTERRUPTED = 2, 3, 130
SAVED_HELP = "a saved-model folder, or the name of a shipped model: " + ", ".join(resources.shipped_models())
RELABEL_HELP = "go on when only the class names differ from the model's (the same classes under other names)"


def _folder(text):
    """An argparse ``type`` for a folder that must exist: a typo would otherwise fall back to the usual places."""
    if not Path(text).expanduser().is_dir():
        raise argparse.ArgumentTypeError(f"no such folder: {text!r}")
    return str(Path(text).expanduser())


def _model_kind(spec):
    """'zoo', 'saved' or 'architecture' for ``--model``; an unknown name fails here, before any data loads."""
    if spec in zoo.names():
        return "zoo"
    path = resources.model_path(spec)   # a shipped model's name too
    if path.is_dir():
        return "saved"
    if path.is_file():
        return "architecture"
    raise NumpynetError(f"{zoo.unknown(spec)} (--model takes a zoo name, an architecture .json file "
                        f"or a saved-model folder)")


def _model_from(args, input_shape=(1, 28, 28), classes=10):
    """A model from a zoo name, an architecture JSON file or a saved-model folder."""
    kind = _model_kind(args.model)
    if kind == "zoo":
        return zoo.build(args.model, input_shape=input_shape, classes=classes, seed=args.seed)
    if kind == "saved":
        return load_model(args.model)
    return Sequential.from_config(load_architecture(args.model), seed=args.seed)


def cmd_summary(args):
    print(_model_from(args).summary())


class _StopOnInterrupt(Callback):
    """First Ctrl-C: finish the batch, stop, save. Second: abort."""
    stop_reason = "interrupted (Ctrl-C)"

    def on_train_begin(self, logs=None):
        self.interrupted = False
        self.previous = signal.signal(signal.SIGINT, self._handle)

    def _handle(self, _signum, _frame):
        if self.interrupted:
            raise KeyboardInterrupt
        self.interrupted = True
        self.model.stop_training = True
        sys.stderr.write("\nstopping after this batch (Ctrl-C again to abort)\n")

    def on_train_end(self, logs=None):
        signal.signal(signal.SIGINT, self.previous)


def cmd_train(args):
    """Train, validating on held-out training images, and report the test set once at the end;
    a diverged run exits with EXIT_DIVERGED and leaves ``--out`` untouched."""
    parent = cli_runs.resume(args)   # the run --resume continues; its settings are now in args
    preset = args.model if _model_kind(args.model) == "zoo" else None
    train_options.check(args)
    if args.out is not None:
        check_save_path(args.out)   # before the run, not after it ('' included)
    ds = datasets.load(args.dataset, root=args.data_root)
    x, y = ds.x_train[:args.limit], ds.y_train[:args.limit]
    model = _fitted_to(_model_from(args, input_shape=ds.input_shape, classes=ds.num_classes), ds, args)
    model.meta.update(dataset=ds.name, class_names=list(ds.class_names), preprocessing=ds.preprocessing,
                      command="numpynet " + " ".join(args.argv))   # before fit: checkpoints and the run carry them
    augment, epochs, schedule = _plan(args, parent, model)
    stopper = _StopOnInterrupt()
    recorder = cli_runs.recorder(args, ds, parent, preset)
    start = time.perf_counter()
    history = model.fit(x, y, epochs=epochs, initial_epoch=model.epochs_trained, batch_size=args.batch_size,
                        seed=args.seed, validation_split=args.validation_split, verbose=0 if args.quiet else 1,
                        callbacks=[stopper, *train_options.callbacks(args), *([recorder] if recorder else [])],
                        lr_schedule=schedule, augment=augment)
    seconds = time.perf_counter() - start
    if history.diverged:
        unsaved = f" Nothing was saved to {args.out}." if args.out is not None else ""
        print(f"numpynet: error: {history.stop_reason} This run had --lr {model.optimizer.base_lr:g}.{unsaved}",
              file=sys.stderr)
        return EXIT_DIVERGED
    if history.stop_reason:
        print(f"stopped: {history.stop_reason}", file=sys.stderr)
    metrics = model.evaluate(ds.x_test, ds.y_test)
    print(f"test accuracy {metrics['accuracy']:.4f}  test loss {metrics['loss']:.4f}  ({seconds:.1f}s training)")
    model.meta.update(metrics={"test_accuracy": metrics["accuracy"], "test_loss": metrics["loss"]})
    if recorder is not None:
        recorder.add_summary(**model.meta["metrics"])
    if args.out is not None:
        print(f"saved {model.save(args.out)}")
    return EXIT_INTERRUPTED if stopper.interrupted else 0


def _plan(args, parent, model):
    """(augment, epochs, lr_schedule) for ``fit``: from the options, counting on from the epochs a saved
    model has; or, resuming ``parent``, as that run had them, with its optimizer state and schedule. Epochs
    asked for past the end of its cosine grow the cosine, rather than train at its final rate of 0."""
    if parent is None:
        model.compile(_optimizer(args), "crossentropy")
        return train_options.augment(args), model.epochs_trained + args.epochs, train_options.schedule(args)
    cli_runs.check_epochs(parent, model, args.epochs)
    schedule = model.optimizer.schedule
    beyond = epochs_past_end(model.optimizer, model.epochs_trained, args.epochs - model.epochs_trained)
    if beyond:
        schedule.epochs += beyond
    return cli_runs.augment_of(parent), args.epochs, schedule


def _fitted_to(model, ds, args):
    """``model`` if it fits ``ds``; with --new-output, its copy with a new output layer for ``ds``."""
    found = transfer.check(model, ds)
    if found and args.new_output and not found.input:
        return transfer.new_output_layer(model, ds.num_classes, ds.class_names, seed=args.seed)
    if args.new_output:   # the input differs: a new output layer cannot help
        advice = ("--new-output replaces only the output layer, so the images must already fit the model; "
                  "give a zoo name as --model to start anew.")
    else:
        advice = ("Pass --new-output for a new output layer for its classes (keeping the rest), a zoo name as "
                  "--model to start anew, or --relabel if they are the same classes under other names.")
    transfer.require_match(model, ds, names_may_differ=args.relabel, advice=advice)
    return model


def cmd_evaluate(args):
    model = load_model(args.model_dir)
    name = args.dataset or model.meta.get("dataset")
    if not name:
        raise NumpynetError(f"{args.model_dir} does not record its dataset: pass --dataset")
    ds = datasets.load(name, root=args.data_root)
    transfer.require_match(model, ds, names_may_differ=args.relabel,
                           advice="Evaluate it on the data it was trained for, or pass --relabel if they are the "
                                  "same classes under other names.")
    x, y = ds.x_test[:args.limit], ds.y_test[:args.limit]
    m = model.evaluate(x, y)
    print(f"{name} test: accuracy {m['accuracy']:.4f}  loss {m['loss']:.4f}  ({len(x):,} images)")
    if args.robustness is not None:
        cli_lab.print_robustness(model, x, y, args)


def cmd_predict(args):
    """One line per image; a file that cannot be read is reported and the rest still run."""
    from .preprocess import predict_files

    model = load_model(args.model_dir)
    failed = 0
    for path in args.images:
        try:
            [(_, top)] = predict_files(model, [path], top=args.top)
        except NumpynetError as e:
            print(f"numpynet: error: {e}", file=sys.stderr)
            failed += 1
            continue
        print(f"{path}: " + "  ".join(f"{name} {probability(p)}" for name, p in top))
    return EXIT_ERROR if failed else 0


def cmd_datasets(args):
    print(datasets.catalog_text())


def build_parser():
    p = argparse.ArgumentParser(prog="numpynet", description="NumPy neural networks from the command line.")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("summary", help="print a model's layers, output shapes and parameter counts")
    s.add_argument("--model", default="lenet5", help="zoo name, architecture .json, or saved-model folder")
    s.set_defaults(func=cmd_summary, seed=None)

    t = sub.add_parser("train", help="train a model on a dataset", formatter_class=train_options.HelpFormatter)
    t.add_argument("--model", default="lenet5", help="zoo name, architecture .json, or saved-model folder to continue")
    t.add_argument("--dataset", default="mnist", help="dataset name (numpynet datasets lists them)")
    t.add_argument("--data-root", type=_folder, help="folder holding the dataset files (default: the usual places)")
    t.add_argument("--epochs", type=POSITIVE_INT, default=5, help="epochs to train")
    t.add_argument("--batch-size", type=POSITIVE_INT, default=128, help="images per batch")
    t.add_argument("--limit", type=POSITIVE_INT, help="train on the first N images only (default: all)")
    t.add_argument("--seed", type=_checked(int, lambda v: v >= 0, "an integer >= 0"), default=0,
                   help="seed of the initial weights, the shuffling and the augmentation")
    t.add_argument("--out", help="folder to save the trained model to (default: not saved)")
    t.add_argument("--new-output", action="store_true",
                   help="when the model's classes are not the dataset's: a new output layer for them, keeping the rest")
    t.add_argument("--relabel", action="store_true", help=RELABEL_HELP)
    train_options.add_options(t)
    cli_runs.add_train_options(t)
    t.set_defaults(func=cmd_train)

    e = sub.add_parser("evaluate", help="test accuracy and loss of a saved model")
    e.add_argument("model_dir", help=SAVED_HELP)
    e.add_argument("--dataset", help="default: the dataset the model was trained on")
    e.add_argument("--data-root", type=_folder)
    e.add_argument("--relabel", action="store_true", help=RELABEL_HELP)
    e.add_argument("--limit", type=POSITIVE_INT, help="evaluate on the first N test images only")
    e.add_argument("--seed", type=_checked(int, lambda v: v >= 0, "an integer >= 0"), default=0,
                   help="seeds the random damage of --robustness")
    cli_lab.add_options(e)
    e.set_defaults(func=cmd_evaluate)

    r = sub.add_parser("predict", help="classify image files with a saved model")
    r.add_argument("model_dir", help=SAVED_HELP)
    r.add_argument("images", nargs="+")
    r.add_argument("--top", type=POSITIVE_INT, default=3, help="how many classes to list per image")
    r.set_defaults(func=cmd_predict)

    d = sub.add_parser("datasets", help="list known datasets and where they are")
    d.set_defaults(func=cmd_datasets)
    cli_interop.register(sub)
    cli_runs.add_parser(sub)
    return p


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser().parse_args(argv)
    args.argv = argv
    try:
        return args.func(args) or 0
    except KeyboardInterrupt:
        print("numpynet: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except (NumpynetError, ValueError, OSError) as e:
        print(f"numpynet: error: {e}", file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
