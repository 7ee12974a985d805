"""Loss values and the label forms they accept (gradients: test_gradients.py)."""
import numpy as np
import pytest
from numpy.testing import assert_allclose

from core import ShapeError
from core.losses import MSE, CrossEntropy, get, one_hot


def test_crossentropy_is_minus_mean_log_softmax_of_the_label():
    z = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]], np.float32)
    y = np.array([2, 0])
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    expected = -(np.log(p[0, 2]) + np.log(p[1, 0])) / 2
    assert CrossEntropy().value(z, y) == pytest.approx(expected, rel=1e-6)
    loss, grad = CrossEntropy().value_and_grad(z, y)
    assert loss == pytest.approx(expected, rel=1e-6)
    assert_allclose(grad, (p - one_hot(y, 3)) / 2, rtol=1e-5)
    assert grad.dtype == np.float32


def test_crossentropy_index_and_one_hot_labels_agree():
    rng = np.random.default_rng(0)
    z, y = rng.standard_normal((6, 4)).astype(np.float32), rng.integers(0, 4, 6)
    a, ga = CrossEntropy().value_and_grad(z, y)
    b, gb = CrossEntropy().value_and_grad(z, one_hot(y, 4))
    assert a == pytest.approx(b)
    assert_allclose(ga, gb)


def test_crossentropy_is_finite_for_huge_logits():
    z = np.array([[1e30, -1e30, 0.0], [-1e30, 1e30, 1e30]], np.float32)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        loss, grad = CrossEntropy().value_and_grad(z, np.array([1, 0]))
    assert np.isfinite(loss) and loss > 1e30
    assert np.isfinite(grad).all()


def test_crossentropy_of_a_confident_right_answer_is_near_zero():
    z = np.array([[50.0, 0.0, 0.0]], np.float32)
    assert CrossEntropy().value(z, np.array([0])) == pytest.approx(0.0, abs=1e-6)


def test_mse_is_the_mean_over_every_output():
    out = np.array([[0.5, 0.5], [1.0, 0.0]], np.float32)
    y = np.array([0, 1])                          # one-hot [[1, 0], [0, 1]]
    expected = (0.25 + 0.25 + 1 + 1) / 4
    loss, grad = MSE().value_and_grad(out, y)
    assert loss == pytest.approx(expected) and MSE().value(out, y) == pytest.approx(expected)
    assert_allclose(grad, 2 * (out - one_hot(y, 2)) / 4)
    assert MSE().value(out, np.array([[0.5, 0.5], [1.0, 0.0]])) == 0


@pytest.mark.parametrize("loss", [CrossEntropy(), MSE()], ids=["crossentropy", "mse"])
def test_labels_out_of_range_are_a_value_error(loss):
    z = np.zeros((2, 3), np.float32)
    with pytest.raises(ValueError, match=r"\[0, 2\]"):
        loss.value(z, np.array([0, 3]))
    with pytest.raises(ValueError, match=r"\[0, 2\]"):
        loss.value(z, np.array([-1, 0]))


@pytest.mark.parametrize("loss", [CrossEntropy(), MSE()], ids=["crossentropy", "mse"])
def test_labels_of_the_wrong_shape_are_a_shape_error(loss):
    with pytest.raises(ShapeError, match=r"\(2, 4\).*3 outputs"):
        loss.value(np.zeros((2, 3), np.float32), np.zeros((2, 4)))


def test_get_by_name():
    assert isinstance(get("crossentropy"), CrossEntropy) and isinstance(get("CrossEntropy"), CrossEntropy)
    assert isinstance(get("mse"), MSE)
    loss = MSE()
    assert get(loss) is loss
    with pytest.raises(ValueError, match="hinge"):
        get("hinge")


def test_config_names_the_type():
    assert CrossEntropy().get_config() == {"type": "CrossEntropy"}
    assert isinstance(get(MSE().get_config()["type"]), MSE)
