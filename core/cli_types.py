"""argparse ``type``s of the command line: a bad value is a usage error naming it, before anything loads."""
import argparse
import math


def checked(kind, ok, rule):
    """An argparse ``type``: ``kind(text)``, finite and passing ``ok``, else a usage error naming the value."""
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            value = None
        if value is None or not math.isfinite(value) or not ok(value):
            raise argparse.ArgumentTypeError(f"must be {rule}, got {text!r}")
        return value
    return parse


POSITIVE_INT = checked(int, lambda v: v >= 1, "a positive integer")
NON_NEGATIVE_INT = checked(int, lambda v: v >= 0, "an integer >= 0")
