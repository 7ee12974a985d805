"""``numpynet``: train, evaluate, predict, summarise models and list datasets, without a window.

Every failure is one line on stderr and a non-zero exit, never a traceback.
Ctrl-C during training stops after the current batch and still saves.
"""
import argparse
import signal
import sys
import time
from pathlib import Path

from . import datasets, load_model, optimizers, schedules, transfer, zoo
from .callbacks import Callback
from .errors import NumpynetError
from .model import Sequential
from .serialization import check_save_path, load_architecture
from .preprocess import mode_for_dataset

EXIT_ERROR, EXIT_INTERRUPTED = 2, 130
RELABEL_HELP = "go on when only the class names differ from the model's (the same classes under other names)"


def _model_from(args, input_shape=(1, 28, 28), classes=10):
    """A model from a zoo name, an architecture JSON file or a saved-model folder."""
    spec = args.model
    if spec in zoo.names():
        return zoo.build(spec, input_shape=input_shape, classes=classes, seed=args.seed)
    path = Path(spec)
    if path.is_dir():
        return load_model(path)
    if path.is_file():
        return Sequential.from_config(load_architecture(path), seed=args.seed)
    raise NumpynetError(f"--model {spec!r} is neither a zoo model ({', '.join(zoo.names())}), "
                        f"an architecture .json file, nor a saved-model folder")


def cmd_summary(args):
    print(_model_from(args).summary())


def _optimizer(args):
    extra = {"momentum": args.momentum, "nesterov": args.nesterov} if args.optimizer == "sgd" else {}
    return optimizers.from_config({"type": args.optimizer, "lr": args.lr, "weight_decay": args.weight_decay, **extra})


class _StopOnInterrupt(Callback):
    """First Ctrl-C: finish the batch, stop, save. Second: abort."""

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
    from .augment import Augment

    if args.out:
        check_save_path(args.out)   # before the run, not after it
    ds = datasets.load(args.dataset, root=args.data_root)
    x, y = ds.x_train[:args.limit], ds.y_train[:args.limit]
    model = _fitted_to(_model_from(args, input_shape=ds.x_train.shape[1:], classes=len(ds.class_names)), ds, args)
    model.compile(_optimizer(args), "crossentropy")
    augment = Augment(shift=2, rotate=10, scale=0.1) if args.augment else None
    stopper = _StopOnInterrupt()
    start = time.perf_counter()
    history = model.fit(x, y, epochs=args.epochs, batch_size=args.batch_size, seed=args.seed,
                        validation_data=(ds.x_test, ds.y_test), callbacks=[stopper], verbose=True,
                        lr_schedule=schedules.get(args.schedule, args.epochs), augment=augment)
    seconds = time.perf_counter() - start
    if history.stop_reason:
        print(f"stopped: {history.stop_reason}", file=sys.stderr)
    metrics = model.evaluate(ds.x_test, ds.y_test)
    print(f"test accuracy {metrics['accuracy']:.4f}  test loss {metrics['loss']:.4f}  ({seconds:.1f}s training)")
    if args.out:
        model.meta.update(dataset=ds.name, class_names=list(ds.class_names),
                          preprocessing=mode_for_dataset(ds.name),
                          metrics={"test_accuracy": metrics["accuracy"], "test_loss": metrics["loss"]},
                          command="numpynet " + " ".join(args.argv))
        print(f"saved {model.save(args.out)}")
    return EXIT_INTERRUPTED if stopper.interrupted else 0


def _fitted_to(model, ds, args):
    """``model`` if it fits ``ds``; with --new-output, its copy with a new output layer for ``ds``."""
    found = transfer.check(model, ds)
    if found and args.new_output and not found.input:
        return transfer.new_output_layer(model, ds.num_classes, ds.class_names, seed=args.seed)
    transfer.require_match(model, ds, names_may_differ=args.relabel,
                           advice="Pass --new-output for a new output layer for its classes (keeping the rest), "
                                  "a zoo name as --model to start anew, or --relabel if they are the same "
                                  "classes under other names.")
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
    m = model.evaluate(ds.x_test, ds.y_test)
    print(f"{name} test: accuracy {m['accuracy']:.4f}  loss {m['loss']:.4f}  ({len(ds.x_test):,} images)")


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
        print(f"{path}: " + "  ".join(f"{name} {p:.1%}" for name, p in top))
    return EXIT_ERROR if failed else 0


def cmd_datasets(args):
    print(datasets.catalog_text())


def build_parser():
    p = argparse.ArgumentParser(prog="numpynet", description="NumPy neural networks from the command line.")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("summary", help="print a model's layers, output shapes and parameter counts")
    s.add_argument("--model", default="lenet5", help="zoo name, architecture .json, or saved-model folder")
    s.set_defaults(func=cmd_summary, seed=None)

    t = sub.add_parser("train", help="train a model on a dataset")
    t.add_argument("--model", default="lenet5", help="zoo name, architecture .json, or saved-model folder to continue")
    t.add_argument("--dataset", default="mnist")
    t.add_argument("--data-root", help="folder holding the dataset files (default: the usual places)")
    t.add_argument("--epochs", type=int, default=5)
    t.add_argument("--batch-size", type=int, default=128)
    t.add_argument("--optimizer", default="sgd", choices=sorted(optimizers.OPTIMIZERS))
    t.add_argument("--lr", type=float, default=0.05)
    t.add_argument("--momentum", type=float, default=0.9)
    t.add_argument("--nesterov", action="store_true")
    t.add_argument("--weight-decay", type=float, default=0.0)
    t.add_argument("--schedule", choices=sorted(schedules.SCHEDULES), help="learning-rate schedule")
    t.add_argument("--augment", action="store_true", help="random shifts, rotations and scaling")
    t.add_argument("--limit", type=int, help="train on the first N images only")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--out", help="folder to save the trained model to")
    t.add_argument("--new-output", action="store_true",
                   help="when the model's classes are not the dataset's: a new output layer for them, keeping the rest")
    t.add_argument("--relabel", action="store_true", help=RELABEL_HELP)
    t.set_defaults(func=cmd_train)

    e = sub.add_parser("evaluate", help="test accuracy and loss of a saved model")
    e.add_argument("model_dir")
    e.add_argument("--dataset", help="default: the dataset the model was trained on")
    e.add_argument("--data-root")
    e.add_argument("--relabel", action="store_true", help=RELABEL_HELP)
    e.set_defaults(func=cmd_evaluate)

    r = sub.add_parser("predict", help="classify image files with a saved model")
    r.add_argument("model_dir")
    r.add_argument("images", nargs="+")
    r.add_argument("--top", type=int, default=3)
    r.set_defaults(func=cmd_predict)

    d = sub.add_parser("datasets", help="list known datasets and where they are")
    d.set_defaults(func=cmd_datasets)
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
