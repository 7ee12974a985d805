"""Keras's argument names accepted beside ours where the meaning is identical (``learning_rate=`` for ``lr=``,
``strides=`` for ``stride=``).

A class decorator renames the keyword before the constructor sees it, so the
signature, ``get_config`` and every default stay ours, written once; giving
both names is an ArgumentError naming them.
"""
import functools
import inspect

from .errors import ArgumentError


def keras_names(**aliases):
    """Class decorator: ``@keras_names(lr="learning_rate")`` lets the constructor take ``learning_rate=``."""
    def decorate(cls):
        init = cls.__init__
        signature = inspect.signature(init)

        @functools.wraps(init)
        def __init__(self, *args, **kwargs):
            for ours, theirs in aliases.items():
                if theirs not in kwargs:
                    continue
                if ours in kwargs or ours in signature.bind_partial(self, *args).arguments:
                    raise ArgumentError(type(self).__name__, theirs,
                                        f"is Keras's name for {ours}: give one of them, not both")
                kwargs[ours] = kwargs.pop(theirs)
            init(self, *args, **kwargs)

        cls.__init__ = __init__
        return cls
    return decorate
