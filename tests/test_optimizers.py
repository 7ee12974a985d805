"""The first two steps of each optimizer against the formulas written out by hand (PyTorch conventions).

Each case updates a weight matrix 'W' and a bias 'b'; ``weight_decay`` adds
wd * W to the gradient of 'W' only (biases are never decayed).
"""
import inspect

import numpy as np
import pytest
from numpy.testing import assert_allclose

from core import optimizers
from core.optimizers import SGD, AdaDelta, AdaGrad, Adam, RMSprop, from_config

RNG = np.random.default_rng(0)
P0 = {"W": RNG.standard_normal((2, 3)), "b": RNG.standard_normal(3)}
G1 = {"W": RNG.standard_normal((2, 3)), "b": RNG.standard_normal(3)}
G2 = {"W": RNG.standard_normal((2, 3)), "b": RNG.standard_normal(3)}
LR = 0.1


def decayed(g, p, name, wd):
    return g + wd * p if name == "W" else g


def sgd_steps(p, g1, g2, wd, name):
    p1 = p - LR * decayed(g1, p, name, wd)
    return p1 - LR * decayed(g2, p1, name, wd)


def momentum_steps(p, g1, g2, wd, name, mu=0.9):
    v1 = decayed(g1, p, name, wd)                       # the buffer starts as the first gradient
    p1 = p - LR * v1
    v2 = mu * v1 + decayed(g2, p1, name, wd)
    return p1 - LR * v2


def nesterov_steps(p, g1, g2, wd, name, mu=0.9):
    d1 = decayed(g1, p, name, wd)
    v1 = d1
    p1 = p - LR * (d1 + mu * v1)
    d2 = decayed(g2, p1, name, wd)
    v2 = mu * v1 + d2
    return p1 - LR * (d2 + mu * v2)


def adagrad_steps(p, g1, g2, wd, name, eps=1e-7):
    d1 = decayed(g1, p, name, wd)
    s1 = d1 ** 2
    p1 = p - LR * d1 / (np.sqrt(s1) + eps)
    d2 = decayed(g2, p1, name, wd)
    s2 = s1 + d2 ** 2
    return p1 - LR * d2 / (np.sqrt(s2) + eps)


def rmsprop_steps(p, g1, g2, wd, name, rho=0.9, eps=1e-7):
    d1 = decayed(g1, p, name, wd)
    s1 = (1 - rho) * d1 ** 2
    p1 = p - LR * d1 / (np.sqrt(s1) + eps)
    d2 = decayed(g2, p1, name, wd)
    s2 = rho * s1 + (1 - rho) * d2 ** 2
    return p1 - LR * d2 / (np.sqrt(s2) + eps)


def adadelta_steps(p, g1, g2, wd, name, rho=0.95, eps=1e-6):
    d1 = decayed(g1, p, name, wd)
    eg1 = (1 - rho) * d1 ** 2
    dx1 = np.sqrt(0 + eps) / np.sqrt(eg1 + eps) * d1
    edx1 = (1 - rho) * dx1 ** 2
    p1 = p - LR * dx1
    d2 = decayed(g2, p1, name, wd)
    eg2 = rho * eg1 + (1 - rho) * d2 ** 2
    dx2 = np.sqrt(edx1 + eps) / np.sqrt(eg2 + eps) * d2
    return p1 - LR * dx2


def adam_steps(p, g1, g2, wd, name, b1=0.9, b2=0.999, eps=1e-8):
    d1 = decayed(g1, p, name, wd)
    m1, v1 = (1 - b1) * d1, (1 - b2) * d1 ** 2
    p1 = p - LR * (m1 / (1 - b1)) / (np.sqrt(v1 / (1 - b2)) + eps)
    d2 = decayed(g2, p1, name, wd)
    m2, v2 = b1 * m1 + (1 - b1) * d2, b2 * v1 + (1 - b2) * d2 ** 2
    return p1 - LR * (m2 / (1 - b1 ** 2)) / (np.sqrt(v2 / (1 - b2 ** 2)) + eps)


CASES = {
    "sgd": (lambda wd: SGD(LR, weight_decay=wd), sgd_steps),
    "momentum": (lambda wd: SGD(LR, momentum=0.9, weight_decay=wd), momentum_steps),
    "nesterov": (lambda wd: SGD(LR, momentum=0.9, nesterov=True, weight_decay=wd), nesterov_steps),
    "adagrad": (lambda wd: AdaGrad(LR, weight_decay=wd), adagrad_steps),
    "adadelta": (lambda wd: AdaDelta(LR, weight_decay=wd), adadelta_steps),
    "rmsprop": (lambda wd: RMSprop(LR, weight_decay=wd), rmsprop_steps),
    "adam": (lambda wd: Adam(LR, weight_decay=wd), adam_steps),
}


def two_steps(opt):
    params = {k: v.copy() for k, v in P0.items()}
    for grads in (G1, G2):
        opt.step([((0, name), name, params[name], grads[name]) for name in params])
    return params


@pytest.mark.parametrize("wd", [0.0, 0.05], ids=["plain", "weight-decay"])
@pytest.mark.parametrize("make, by_hand", CASES.values(), ids=CASES.keys())
def test_first_two_steps(make, by_hand, wd):
    got = two_steps(make(wd))
    for name in P0:
        assert_allclose(got[name], by_hand(P0[name], G1[name], G2[name], wd, name), rtol=1e-10, atol=1e-12,
                        err_msg=name)


@pytest.mark.parametrize("make", [c[0] for c in CASES.values()], ids=CASES.keys())
def test_a_step_writes_only_the_parameters_and_their_state(make):
    """The updates run in place through scratch arrays; the app shows a snapshot's gradients after its step, so
    the gradients must come out as they went in."""
    params = {k: v.copy() for k, v in P0.items()}
    grads = {k: v.copy() for k, v in G1.items()}
    opt = make(0.0)
    for _ in range(2):
        opt.step([((0, name), name, params[name], grads[name]) for name in params])
    for name in grads:
        np.testing.assert_array_equal(grads[name], G1[name], err_msg=name)


@pytest.mark.parametrize("make", [c[0] for c in CASES.values()], ids=CASES.keys())
def test_float32_parameters_stay_float32_and_in_place(make):
    p = P0["W"].astype(np.float32)
    opt = make(0.01)
    opt.step([((0, "W"), "W", p, G1["W"].astype(np.float32))])
    assert p.dtype == np.float32 and not np.allclose(p, P0["W"])


def test_a_changed_learning_rate_acts_at_once_on_the_momentum_step():
    """PyTorch: the buffer accumulates raw gradients and lr multiplies at the update."""
    opt = SGD(LR, momentum=0.9)
    p = P0["W"].copy()
    opt.step([((0, "W"), "W", p, G1["W"])])
    opt.lr = 0.01
    opt.step([((0, "W"), "W", p, G2["W"])])
    expected = P0["W"] - LR * G1["W"] - 0.01 * (0.9 * G1["W"] + G2["W"])
    assert_allclose(p, expected, rtol=1e-12)


def test_state_is_kept_per_slot():
    opt = SGD(LR, momentum=0.9)
    a, b = P0["W"].copy(), P0["W"].copy()
    opt.step([((0, "W"), "W", a, G1["W"]), ((1, "W"), "W", b, G2["W"])])
    assert_allclose(a, P0["W"] - LR * G1["W"])
    assert_allclose(b, P0["W"] - LR * G2["W"])


# ----- arguments and configs -----------------------------------------------------------

OPTIMIZERS = [SGD, AdaGrad, AdaDelta, RMSprop, Adam]


@pytest.mark.parametrize("cls", OPTIMIZERS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("lr", [-0.1, 0.0, float("nan")])
def test_learning_rate_must_be_positive(cls, lr):
    with pytest.raises(ValueError, match=f"{cls.__name__}: learning rate must be positive"):
        cls(lr=lr)


BAD_NUMBERS = [("lr", float("inf")), ("lr", "0.1"), ("lr", True), ("weight_decay", float("nan")),
               ("weight_decay", float("inf")), ("weight_decay", "0"), ("epsilon", float("inf"))]


@pytest.mark.parametrize("cls, argument, value", [
    (cls, argument, value) for cls in OPTIMIZERS for argument, value in BAD_NUMBERS
    if argument in inspect.signature(cls).parameters])
def test_every_number_must_be_a_finite_number(cls, argument, value):
    """lr=inf and weight_decay=nan were accepted (the first step made every weight NaN, and the guard
    blamed the learning rate); a number given as text was a bare TypeError about '>'."""
    with pytest.raises(ValueError, match=f"{cls.__name__}: .*{repr(value).strip(chr(39))}"):
        cls(**{argument: value})

@pytest.mark.parametrize("cls", OPTIMIZERS, ids=lambda c: c.__name__)
def test_negative_weight_decay_is_refused(cls):
    with pytest.raises(ValueError, match="weight_decay"):
        cls(weight_decay=-0.01)


@pytest.mark.parametrize("kwargs", [dict(momentum=1.0), dict(momentum=-0.1), dict(nesterov=True)])
def test_sgd_momentum_arguments(kwargs):
    with pytest.raises(ValueError, match="momentum"):
        SGD(0.1, **kwargs)


@pytest.mark.parametrize("make, pattern", [
    (lambda: Adam(beta1=1.0), "beta1"),
    (lambda: Adam(beta2=1.5), "beta2"),
    (lambda: Adam(beta1=-0.1), "beta1"),
    (lambda: RMSprop(rho=1.0), "rho"),
    (lambda: AdaDelta(rho=-0.5), "rho"),
    (lambda: Adam(epsilon=-1e-8), "epsilon"),
    (lambda: AdaGrad(epsilon=-1.0), "epsilon"),
], ids=["adam-beta1-1", "adam-beta2", "adam-beta1-negative", "rmsprop-rho", "adadelta-rho", "adam-eps", "adagrad-eps"])
def test_decay_rates_outside_their_range_are_refused(make, pattern):
    """beta1 = 1 divides by 1 - beta1**t = 0; PyTorch refuses these as the constructor's ValueError."""
    with pytest.raises(ValueError, match=pattern):
        make()


@pytest.mark.parametrize("opt", [SGD(0.05, momentum=0.8, nesterov=True, weight_decay=1e-4), AdaGrad(0.02, 1e-6),
                                 AdaDelta(0.5, rho=0.9), RMSprop(0.003, rho=0.8), Adam(0.002, beta1=0.8, beta2=0.99)],
                         ids=lambda o: type(o).__name__)
def test_config_round_trip(opt):
    opt.lr = opt.lr / 10        # a schedule's current rate is not the configured one
    twin = from_config(opt.get_config())
    assert type(twin) is type(opt)
    assert twin.get_config() == opt.get_config()
    assert twin.lr == opt.base_lr


@pytest.mark.parametrize("name", ["sgd", "SGD", "adam", "Adam", "adagrad", "adadelta", "rmsprop"])
def test_from_config_by_name(name):
    assert type(from_config({"type": name})).__name__.lower() == name.lower()


def test_unknown_optimizer():
    with pytest.raises(ValueError, match="lbfgs"):
        from_config({"type": "lbfgs"})


# ----- defaults, written once in each signature --------------------------------------------------

def _signature_defaults(cls):
    return {k: p.default for k, p in inspect.signature(cls).parameters.items()}


@pytest.mark.parametrize("cls", OPTIMIZERS, ids=lambda c: c.__name__)
def test_an_optimizer_made_without_arguments_has_its_signature_defaults(cls):
    assert cls().get_config() == {"type": cls.__name__, **_signature_defaults(cls)}


@pytest.mark.parametrize("cls", OPTIMIZERS, ids=lambda c: c.__name__)
def test_starting_values_are_the_signature_defaults_and_the_suggestions(cls):
    start = optimizers.starting_values(cls.__name__.lower())
    assert start == {**_signature_defaults(cls), **optimizers.SUGGESTED.get(cls.__name__, {})}
    assert optimizers.starting_values(cls.__name__.upper()) == start
    optimizer = optimizers.from_config({"type": cls.__name__, **start})   # what the panel and the CLI make
    assert optimizer.get_config() == {"type": cls.__name__, **start}


def test_sgd_starts_with_momentum_in_the_cli_and_the_app_but_not_in_the_api():
    assert optimizers.starting_values("SGD")["momentum"] == 0.9
    assert SGD().momentum == 0.0


def test_an_unknown_optimizer_is_named_with_the_known_ones():
    with pytest.raises(ValueError, match="unknown optimizer 'nadam'; choose one of sgd, adam"):
        optimizers.starting_values("nadam")
