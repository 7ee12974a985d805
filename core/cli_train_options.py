"""The options of ``numpynet train`` that reach the training API, and what they build.

Optimizer and schedule parameters are made from the classes' signatures
(``optimizers.starting_values``, each schedule's defaults) and Augment's, so
each default is written once, there, and ``--help`` shows it. Validation is
on a held-out part of the training data (``fit(validation_split=)``, the last
fraction, as Keras), never on the test set, which is reported once at the end.
"""
import argparse
import inspect

from . import optimizers, schedules
from .augment import Augment
from .callbacks import EarlyStopping, ModelCheckpoint
from .cli_types import NON_NEGATIVE_INT, checked
from .errors import NumpynetError
from .saving import check_save_path

AUGMENT_PRESET = {"shift": 2.0, "rotate": 10.0, "scale": 0.1}   # what --augment alone turns on
VALIDATION_SPLIT = 0.1
# The CLI's own checks of values whose rule is not in optimizers.RANGES (the constructors check lr and
# weight_decay themselves, with their own words).
_RULES = {"lr": (lambda v: v > 0, "a number above 0"), "weight_decay": (lambda v: v >= 0, "a number >= 0"),
          **optimizers.RANGES}
# What a parameter means, for --help (its default is read from its class).
WORDS = {"lr": "learning rate", "momentum": "momentum", "nesterov": "Nesterov momentum",
         "weight_decay": "L2 penalty added to the gradient of weights (not biases)",
         "beta1": "decay of the mean of gradients", "beta2": "decay of the mean of squared gradients",
         "rho": "decay of the mean of squared gradients", "epsilon": "added to denominators for stability",
         "step_epochs": "epochs between steps", "gamma": "factor per step (step) or per epoch (exponential)",
         "min_factor": "fraction of the rate the cosine ends at",
         "shift": "largest shift, in pixels", "rotate": "largest rotation, in degrees",
         "scale": "largest relative zoom", "elastic": "elastic distortion, typical pixels",
         "elastic_sigma": "smoothness of the elastic distortion, in pixels",
         "thickness": "largest change of stroke width, in pixels each side (thicker or thinner)",
         "noise": "largest sigma of Gaussian noise added",
         "flip": "probability of mirroring an image left to right (clothes, not digits)"}


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Every option's default in ``--help``; an option whose help already says its default keeps its words."""

    def _get_help_string(self, action):
        text = action.help or ""
        return text if "default" in text else super()._get_help_string(action)


def add_options(parser):
    """Add the training options to the ``train`` subparser."""
    _add_optimizer_options(parser)
    _add_schedule_options(parser)
    _add_augment_options(parser)
    run = parser.add_argument_group("validation and stopping")
    run.add_argument("--validation-split", type=checked(float, lambda v: 0 <= v < 1, "in [0, 1)"),
                     default=VALIDATION_SPLIT, help="fraction of the training images held out (the last ones) to "
                     "validate on each epoch; 0: none. The test set is only reported at the end")
    run.add_argument("--early-stopping", type=NON_NEGATIVE_INT, metavar="PATIENCE",
                     help="stop after PATIENCE epochs without a better validation loss (training loss with "
                          "--validation-split 0) and keep the best epoch's weights (default: train every epoch)")
    run.add_argument("--checkpoint", metavar="PATH", help="save the model to PATH whenever the validation loss "
                     "improves, so a stopped or killed run keeps its best (default: no checkpoint)")
    run.add_argument("--quiet", action="store_true", help="no progress lines: only the result")


# ----- optimizer --------------------------------------------------------------------------------

def _parameters(classes, defaults):
    """{parameter: {class name: its default}} over ``classes``, parameters without a default left out."""
    table = {}
    for name in sorted(classes):
        for key, value in defaults(name).items():
            if value is not inspect.Parameter.empty:
                table.setdefault(key, {})[name] = value
    return table


def _optimizer_parameters():
    return _parameters(optimizers.OPTIMIZERS, optimizers.starting_values)


def _add_optimizer_options(parser):
    group = parser.add_argument_group("optimizer", "each parameter starts at the chosen optimizer's own value")
    group.add_argument("--optimizer", default="sgd", choices=sorted(optimizers.OPTIMIZERS), help="the optimizer")
    for key, starts in _optimizer_parameters().items():
        flag = "--" + key.replace("_", "-")
        takers = "" if len(starts) == len(optimizers.OPTIMIZERS) else f"{', '.join(starts)} only; "
        if all(isinstance(v, bool) for v in starts.values()):
            group.add_argument(flag, action="store_true", default=None,
                               help=f"{WORDS.get(key, key)} ({takers}default: off)")
            continue
        test, rule = _RULES.get(key, (lambda v: True, "a number"))
        group.add_argument(flag, type=checked(float, test, rule), help=f"{WORDS.get(key, key)} ({takers}default: "
                           + ", ".join(f"{name} {value:g}" for name, value in starts.items()) + ")")


def optimizer(args):
    """The optimizer asked for: each parameter given, else the optimizer's starting value."""
    values = optimizers.starting_values(args.optimizer)
    for key in _optimizer_parameters():
        given = getattr(args, key)
        if given is None:
            continue
        if key not in values:
            raise NumpynetError(f"--{key.replace('_', '-')} is not a parameter of {args.optimizer} (it takes "
                                f"{', '.join(values)})")
        values[key] = given
    return optimizers.OPTIMIZERS[args.optimizer](**values)


# ----- schedule ---------------------------------------------------------------------------------

def _schedule_defaults(name):
    return {k: p.default for k, p in inspect.signature(schedules.SCHEDULES[name]).parameters.items()}


def _add_schedule_options(parser):
    group = parser.add_argument_group("learning-rate schedule", "the schedule spans the run's epochs")
    group.add_argument("--schedule", choices=sorted(schedules.SCHEDULES),
                       help="learning-rate schedule (default: none, a constant rate)")
    for key, starts in _parameters(schedules.SCHEDULES, _schedule_defaults).items():
        kind = int if all(isinstance(v, int) for v in starts.values()) else float
        group.add_argument("--" + key.replace("_", "-"), type=checked(kind, lambda v: True, "a number"),
                           help=f"{WORDS.get(key, key)} (default: "
                                + ", ".join(f"{name} {value:g}" for name, value in starts.items()) + ")")


def schedule(args):
    """The schedule asked for (its parameters from the options, a cosine spanning the run), or None."""
    params = {key: getattr(args, key) for key in _parameters(schedules.SCHEDULES, _schedule_defaults)
              if getattr(args, key) is not None}
    if args.schedule is None:
        if params:
            raise NumpynetError(f"--{next(iter(params)).replace('_', '-')} sets a schedule's parameter: "
                                f"choose the schedule with --schedule")
        return None
    takes = _schedule_defaults(args.schedule)
    wrong = sorted(set(params) - set(takes))
    if wrong:
        raise NumpynetError(f"the {args.schedule} schedule takes no --{wrong[0].replace('_', '-')} (it takes "
                            f"{', '.join(k for k in takes if k != 'epochs')})")
    if "epochs" in takes:
        params["epochs"] = args.epochs
    return schedules.SCHEDULES[args.schedule](**params)


# ----- augmentation -----------------------------------------------------------------------------

def _add_augment_options(parser):
    group = parser.add_argument_group("augmentation", "random transforms of each training batch")
    group.add_argument("--augment", action="store_true",
                       help="turn on " + ", ".join(f"{k} {v:g}" for k, v in AUGMENT_PRESET.items()))
    starts = {k: p.default for k, p in inspect.signature(Augment).parameters.items()}
    for key, default in starts.items():
        preset = f"{AUGMENT_PRESET[key]:g} with --augment, else " if key in AUGMENT_PRESET else ""
        group.add_argument("--" + key.replace("_", "-"), type=checked(float, lambda v: v >= 0, "a number >= 0"),
                           help=f"{WORDS.get(key, key)} (default: {preset}{default:g})")


def augment(args):
    """The Augment asked for, or None when it would change nothing."""
    given = {key: getattr(args, key) for key in inspect.signature(Augment).parameters
             if getattr(args, key) is not None}
    made = Augment(**{**(AUGMENT_PRESET if args.augment else {}), **given})
    return None if made.is_identity else made


# ----- callbacks --------------------------------------------------------------------------------

def check(args):
    """Refuse now, before any data loads, what the options would refuse later."""
    optimizer(args)
    schedule(args)
    augment(args)
    if args.checkpoint is not None:
        check_save_path(args.checkpoint)


def callbacks(args):
    """EarlyStopping and ModelCheckpoint as the options ask, watching the validation loss when there is one."""
    monitor = "val_loss" if args.validation_split else "loss"
    out = []
    if args.early_stopping is not None:
        out.append(EarlyStopping(monitor, patience=args.early_stopping, restore_best_weights=True))
    if args.checkpoint is not None:
        out.append(ModelCheckpoint(args.checkpoint, monitor, save_best_only=True))
    return out
