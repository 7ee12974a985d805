"""Optimizers. Each updates parameters in place from their gradients.

Formulas follow PyTorch's (momentum buffers accumulate gradients, and the
learning rate multiplies at the update, so schedules act at once).
``weight_decay`` adds ``wd * W`` to the gradient of weight matrices and
kernels only (keys 'W'); decaying biases and BatchNorm scales only hurts.

Each default is written once, in its class's signature (``learning_rate=`` is
accepted for ``lr=``, as Keras names it); ``starting_values``
reads them there for the CLI and the Training panel.
"""
import functools
import inspect
import math

import numpy as np

from . import parallel
from .keras_names import keras_names
from .layers.args import is_number

SPLIT_SIZE = 1 << 18   # weights in a parameter worth updating on several threads (a 1 MB pass: about 0.2 ms)


class Optimizer:
    """Base of the optimizers: the learning rate, weight decay, per-parameter state and the step count.

    A subclass passes its hyper-parameters to ``__init__`` by keyword (they
    become attributes and its config) and defines ``update``.

    ``state`` maps a parameter's key to its slots (momentum, moments), named in the class's ``slots``;
    with ``iterations`` and the schedule of the last run (``schedule``, counting epochs from
    ``schedule_start``) it is what a saved model keeps so that training continues exactly.

    Args:
        lr: the learning rate, positive and finite. A schedule in ``fit`` scales it per batch;
            ``base_lr`` keeps the rate given here.
        weight_decay: L2 penalty: ``weight_decay * W`` is added to the gradient of weight matrices and
            kernels (keys "W") only, never to biases or BatchNorm scales. 0 for none.
        **hyper: the subclass's hyper-parameters by name (momentum, rho, beta1, beta2 in [0, 1);
            epsilon positive).

    Raises:
        ValueError: a learning rate, weight decay or hyper-parameter out of range, naming it.
    """

    slots = ()

    def __init__(self, lr, weight_decay=0.0, **hyper):
        if not (is_number(lr) and 0 < lr < math.inf):
            raise ValueError(f"{type(self).__name__}: learning rate must be positive and finite, got {lr!r}")
        if not (is_number(weight_decay) and 0 <= weight_decay < math.inf):
            raise ValueError(f"{type(self).__name__}: weight_decay must be >= 0 and finite, got {weight_decay!r}")
        self.lr = float(lr)
        self.base_lr = float(lr)
        self.weight_decay = float(weight_decay)
        self.hyper = hyper
        for k, v in self.hyper.items():
            _check_range(type(self).__name__, k, v)
            setattr(self, k, v)
        self.state = {}
        self.iterations = 0
        self.schedule = None
        self.schedule_start = 0

    def step(self, slots):
        """Update each (key, name, param, grad) in ``slots``; key identifies the slot's state.

        Args:
            slots: (key, name, param, grad) tuples; each param is updated in place.
        """
        self.iterations += 1
        blocks = []
        for key, name, p, g in slots:
            if self.weight_decay and name == "W":
                g = g + np.asarray(self.weight_decay, g.dtype) * p
            seen = key in self.state
            state = self.state.setdefault(key, {})
            if seen and p.size >= SPLIT_SIZE and p.flags.c_contiguous:
                blocks += [functools.partial(self._update_block, state, p, g, part)
                           for part in parallel.flat_parts(p.size, SPLIT_SIZE // 2)]
            else:   # a parameter's first update makes its state; a small one is not worth a thread
                self.update(state, p, g)
        parallel.run(blocks)

    def _update_block(self, state, p, g, part):
        """``update`` on one stretch of a parameter, its gradient and its state, all flattened: the update is
        elementwise, so the stretches of a large weight matrix go to different threads (``core.parallel``)."""
        self.update({k: v.reshape(-1)[part] for k, v in state.items()}, p.reshape(-1)[part], g.reshape(-1)[part])

    def update(self, state, p, g):
        """Update one parameter in place from its gradient.

        Args:
            state: this parameter's own dict of slots (momentum buffers, ...), empty at first.
            p: the parameter array, changed in place.
            g: its gradient, weight decay already added.
        """
        raise NotImplementedError(f"{type(self).__name__} defines no update")

    def get_config(self):
        """``{"type": class name, "lr": base rate, "weight_decay": ..., **hyper}``; ``from_config`` reads it."""
        return {"type": type(self).__name__, "lr": self.base_lr, "weight_decay": self.weight_decay, **self.hyper}

    def set_hyper(self, **changes):
        """Change hyper-parameters between two steps, keeping the state (momentum, moments, step count).

        For a knob turned while a model trains (the app's live learning rate, or a
        callback's): a change applies from the next step. ``lr`` is the base rate,
        so a schedule goes on scaling the new one.

        Args:
            **changes: new values by the constructor's argument names (``lr``, ``momentum``,
                ``weight_decay``, ...), checked as the constructor checks them.

        Raises:
            ValueError: a value out of range, or an argument this optimizer does not take, naming it;
                nothing changes then.

        Example:
            >>> from core.optimizers import SGD
            >>> opt = SGD(lr=0.1, momentum=0.9)
            >>> opt.set_hyper(lr=0.01)
            >>> opt.lr
            0.01
        """
        config = {k: v for k, v in self.get_config().items() if k != "type"}
        unknown = sorted(set(changes) - set(config))
        if unknown:
            raise ValueError(f"{type(self).__name__} has no {', '.join(unknown)}; it takes {', '.join(config)}")
        checked = type(self)(**{**config, **changes})
        factor = self.lr / self.base_lr   # what a schedule has made of the base rate by now
        self.base_lr, self.weight_decay, self.hyper = checked.base_lr, checked.weight_decay, checked.hyper
        for k, v in self.hyper.items():
            setattr(self, k, v)
        self.lr = self.base_lr * factor


# What each hyper-parameter may be: (test, rule in words). Decay rates live in [0, 1) (1 would divide by zero
# or never forget); epsilon is positive. The constructors and the CLI's options check against this one table.
RANGES = {
    **dict.fromkeys(("rho", "beta1", "beta2", "momentum"), (lambda v: 0 <= v < 1, "in [0, 1)")),
    "epsilon": (lambda v: 0 < v < math.inf, "positive and finite"),
}


def _check_range(owner, name, value):
    test, rule = RANGES.get(name, (None, None))
    if test is not None and not (is_number(value) and test(value)):
        raise ValueError(f"{owner}: {name} must be {rule}, got {value!r}")


def _zeros(state, name, like):
    if name not in state:
        state[name] = np.zeros_like(like)
    return state[name]


# The adaptive optimizers' updates run in place through one scratch array a call: written as expressions,
# Adam's made seven arrays the size of its parameter, each a pass over memory of its own. alexnet_mini's
# 2.2M weights on one thread: 9.2 -> 5.5 ms an Adam update (medians of 30); its whole steps at batch 64 took
# 0.92 of the time with Adam and 0.93-0.94 with RMSprop, AdaGrad and AdaDelta (ten in-process alternations).

def _moving_average(average, rate, new, scratch):
    """``average = rate * average + (1 - rate) * new``, in place, as ``average += (1 - rate) * (new - average)``.
    ``scratch`` is overwritten; it may be ``new`` itself."""
    np.subtract(new, average, out=scratch)
    scratch *= 1 - rate
    average += scratch


def _divided_step(p, lr, numerator, squares, epsilon, scratch):
    """``p -= lr * numerator / (sqrt(squares) + epsilon)``, in place through ``scratch``."""
    np.sqrt(squares, out=scratch)
    scratch += epsilon
    np.divide(numerator, scratch, out=scratch)
    scratch *= lr
    p -= scratch


@keras_names(lr="learning_rate")
class SGD(Optimizer):
    """Stochastic gradient descent, with optional (Nesterov) momentum, as PyTorch computes it.

    ``v = momentum * v + g`` and ``p -= lr * v`` (Nesterov: ``p -= lr * (g + momentum * v)``);
    without momentum, ``p -= lr * g``.

    Args:
        lr: the learning rate, positive.
        momentum: in [0, 1); 0.9 is the usual choice with convolutions.
        nesterov: use Nesterov momentum (needs a momentum above 0).
        weight_decay: L2 penalty: ``weight_decay * W`` is added to the gradient of weight matrices and
            kernels (keys "W") only, never to biases or BatchNorm scales. 0 for none.

    Raises:
        ValueError: an argument out of range, or ``nesterov`` without momentum.

    Example:
        >>> from core.optimizers import SGD
        >>> opt = SGD(lr=0.05, momentum=0.9)
    """

    slots = ("v",)

    def __init__(self, lr=0.01, momentum=0.0, nesterov=False, weight_decay=0.0):
        if nesterov and momentum == 0:
            raise ValueError("SGD: nesterov needs a momentum above 0")
        super().__init__(lr, weight_decay, momentum=float(momentum), nesterov=bool(nesterov))

    def update(self, state, p, g):
        if self.momentum == 0:
            p -= self.lr * g
            return
        v = _zeros(state, "v", p)
        v *= self.momentum
        v += g
        p -= self.lr * (g + self.momentum * v if self.nesterov else v)


@keras_names(lr="learning_rate")
class AdaGrad(Optimizer):
    """AdaGrad: each parameter's step shrinks with the sum of its squared gradients.

    ``acc += g * g`` and ``p -= lr * g / (sqrt(acc) + epsilon)``.

    Args:
        lr: the learning rate, positive.
        epsilon: added to the root before dividing, positive.
        weight_decay: L2 penalty: ``weight_decay * W`` is added to the gradient of weight matrices and
            kernels (keys "W") only, never to biases or BatchNorm scales. 0 for none.

    Raises:
        ValueError: an argument out of range, naming it.
    """

    slots = ("acc",)

    def __init__(self, lr=0.01, epsilon=1e-7, weight_decay=0.0):
        super().__init__(lr, weight_decay, epsilon=float(epsilon))

    def update(self, state, p, g):
        acc, scratch = _zeros(state, "acc", p), np.empty_like(p)
        np.multiply(g, g, out=scratch)
        acc += scratch
        _divided_step(p, self.lr, g, acc, self.epsilon, scratch)


@keras_names(lr="learning_rate")
class RMSprop(Optimizer):
    """RMSprop: each step divided by a running root mean square of the gradients.

    ``s = rho * s + (1 - rho) * g * g`` and ``p -= lr * g / (sqrt(s) + epsilon)``.

    Args:
        lr: the learning rate, positive.
        rho: how slowly the running mean square forgets, in [0, 1).
        epsilon: added to the root before dividing, positive.
        weight_decay: L2 penalty: ``weight_decay * W`` is added to the gradient of weight matrices and
            kernels (keys "W") only, never to biases or BatchNorm scales. 0 for none.

    Raises:
        ValueError: an argument out of range, naming it.
    """

    slots = ("s",)

    def __init__(self, lr=0.001, rho=0.9, epsilon=1e-7, weight_decay=0.0):
        super().__init__(lr, weight_decay, rho=float(rho), epsilon=float(epsilon))

    def update(self, state, p, g):
        s, scratch = _zeros(state, "s", p), np.empty_like(p)
        _moving_average(s, self.rho, np.multiply(g, g, out=scratch), scratch)
        _divided_step(p, self.lr, g, s, self.epsilon, scratch)


@keras_names(lr="learning_rate")
class AdaDelta(Optimizer):
    """Zeiler's AdaDelta; ``lr`` scales the step (1.0 is the paper's method).

    Running means of squared gradients and of squared steps make the step's
    units those of the parameter: ``dx = sqrt(E[dx²] + eps) / sqrt(E[g²] + eps) * g``.

    Args:
        lr: scales the step, positive; 1.0 is the paper's method.
        rho: how slowly the running means forget, in [0, 1).
        epsilon: keeps the roots away from zero, positive.
        weight_decay: L2 penalty: ``weight_decay * W`` is added to the gradient of weight matrices and
            kernels (keys "W") only, never to biases or BatchNorm scales. 0 for none.

    Raises:
        ValueError: an argument out of range, naming it.
    """

    slots = ("eg", "edx")

    def __init__(self, lr=1.0, rho=0.95, epsilon=1e-6, weight_decay=0.0):
        super().__init__(lr, weight_decay, rho=float(rho), epsilon=float(epsilon))

    def update(self, state, p, g):
        eg, edx = _zeros(state, "eg", p), _zeros(state, "edx", p)
        scratch, dx = np.empty_like(p), np.empty_like(p)
        _moving_average(eg, self.rho, np.multiply(g, g, out=scratch), scratch)
        np.sqrt(np.add(edx, self.epsilon, out=dx), out=dx)       # dx = sqrt(edx + eps) / sqrt(eg + eps) * g
        dx /= np.sqrt(np.add(eg, self.epsilon, out=scratch), out=scratch)
        dx *= g
        _moving_average(edx, self.rho, np.multiply(dx, dx, out=scratch), scratch)
        dx *= self.lr
        p -= dx


@keras_names(lr="learning_rate")
class Adam(Optimizer):
    """Adam: steps from bias-corrected running means of the gradient and of its square.

    ``m = beta1 * m + (1 - beta1) * g``, ``v = beta2 * v + (1 - beta2) * g * g``, and
    ``p -= lr * m_hat / (sqrt(v_hat) + epsilon)``, as PyTorch computes it.

    Args:
        lr: the learning rate, positive; 0.001 is the usual start.
        beta1: how slowly the mean of gradients forgets, in [0, 1).
        beta2: how slowly the mean of squared gradients forgets, in [0, 1).
        epsilon: added to the root before dividing, positive.
        weight_decay: L2 penalty: ``weight_decay * W`` is added to the gradient of weight matrices and
            kernels (keys "W") only, never to biases or BatchNorm scales. 0 for none.

    Raises:
        ValueError: an argument out of range, naming it.

    Example:
        >>> from core.optimizers import Adam
        >>> model.compile(optimizer=Adam(lr=1e-3), loss="crossentropy")
    """

    slots = ("m", "v")

    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999, epsilon=1e-8, weight_decay=0.0):
        super().__init__(lr, weight_decay, beta1=float(beta1), beta2=float(beta2), epsilon=float(epsilon))

    def update(self, state, p, g):
        m, v, scratch = _zeros(state, "m", p), _zeros(state, "v", p), np.empty_like(p)
        _moving_average(m, self.beta1, g, scratch)
        _moving_average(v, self.beta2, np.multiply(g, g, out=scratch), scratch)
        t = self.iterations
        step = self.lr * math.sqrt(1 - self.beta2 ** t) / (1 - self.beta1 ** t)
        _divided_step(p, step, m, v, self.epsilon * math.sqrt(1 - self.beta2 ** t), scratch)


OPTIMIZERS = {cls.__name__.lower(): cls for cls in (SGD, Adam, AdaGrad, AdaDelta, RMSprop)}

# Where the CLI and the app start other than the class: SGD with momentum, as the pretrained models were trained.
SUGGESTED = {"SGD": {"momentum": 0.9}}


def optimizer_class(name):
    """The optimizer class called ``name`` (any case), or a ValueError listing the known ones.

    Args:
        name: "sgd", "adam", "adagrad", "adadelta" or "rmsprop", in any case.

    Raises:
        ValueError: an unknown name; the message lists the known ones.
    """
    try:
        return OPTIMIZERS[name.lower()]
    except KeyError:
        raise ValueError(f"unknown optimizer {name!r}; choose one of {', '.join(OPTIMIZERS)}") from None


def starting_values(name):
    """{argument: value} that optimizer ``name`` starts from in the CLI and the Training panel.

    The constructor's defaults, read from its signature so that each is written
    only there, with ``SUGGESTED`` on top. Its keys are the arguments it takes.

    Args:
        name: an optimizer's name, as ``optimizer_class`` takes it.
    """
    cls = optimizer_class(name)
    values = {key: p.default for key, p in inspect.signature(cls).parameters.items()}
    return {**values, **SUGGESTED.get(cls.__name__, {})}


def from_config(config):
    """An optimizer from ``Optimizer.get_config``'s output (model.json's optimizer).

    Args:
        config: ``{"type": "SGD", "lr": 0.05, ...}``; missing arguments take their defaults.

    Raises:
        ValueError: an unknown type, or an argument out of range.
    """
    config = dict(config)
    return optimizer_class(config.pop("type"))(**config)
