"""``numpynet evaluate MODEL --robustness [KIND ...]``: a table of accuracy against damage strength.

Kept apart from ``core.cli`` so the command line's lab options live beside
each other; ``cli`` registers them with one call and runs them with another.
"""
import sys

from .stress import DEFAULT_STRENGTHS, KINDS, robustness
from .text import percent

COLUMN = 7      # wide enough for "0.9912" and for strengths like "-1.6" or "0.25"
LABEL = max(len(f"{kind} ({unit})") for kind, unit in KINDS.items()) + 2    # one width: the blocks align


def add_options(parser):
    """Add ``--robustness [KIND ...]`` to the ``evaluate`` subcommand (which has ``--limit`` and ``--seed``).

    Args:
        parser: the ``evaluate`` subparser.
    """
    parser.add_argument("--robustness", nargs="*", choices=list(KINDS), metavar="KIND",
                        help="also print accuracy against the strength of each damage to the test images "
                             f"(default: all of {', '.join(KINDS)})")


def print_robustness(model, x, y, args):
    """Print one block per kind asked (all when none is named), as each curve is done.

    Args:
        model: the loaded model.
        x: the test images.
        y: their labels.
        args: the parsed arguments (``robustness``, ``seed``).
    """
    kinds = args.robustness or list(KINDS)
    print(f"robustness: accuracy on {len(x):,} damaged test images at each strength (seed {args.seed})")
    for kind in kinds:
        progress = _Progress(kind) if sys.stderr.isatty() else None
        curve = robustness(model, x, y, kind, DEFAULT_STRENGTHS[kind], rng=args.seed, progress=progress)
        if progress is not None:
            sys.stderr.write("\r\033[K")
        print(table(curve))
        sys.stdout.flush()


def table(curve):
    """Two lines: the strengths of ``curve`` under its kind and unit, and the accuracy at each.

    Args:
        curve: a ``core.stress.Curve``.

    Returns:
        The two lines as one string.
    """
    label = f"{curve.kind} ({KINDS[curve.kind]})"
    strengths = "".join(f"{s:>{COLUMN}.3g}" for s in curve.strengths)
    accuracy = "".join(f"{a:>{COLUMN}.4f}" for a in curve.accuracy)
    return f"{label:<{LABEL}}{strengths}\n{'  accuracy':<{LABEL}}{accuracy}"


class _Progress:
    """A live "noise 40%" on a terminal's stderr while a curve is computed."""

    def __init__(self, kind):
        self.kind = kind

    def __call__(self, done, total):
        sys.stderr.write(f"\r{self.kind} {percent(done / total, 0)}")
        sys.stderr.flush()
