"""Damaged inputs and robustness curves (core.stress), with known answers."""
import numpy as np
import pytest

from core import ShapeError, zoo
from core import stress
from core.stress import DEFAULT_STRENGTHS, KINDS, damage, robustness


def asymmetric(n=3, size=9):
    """(n, 1, size, size) images no rotation or reflection maps onto itself: an L with a dot."""
    x = np.zeros((n, 1, size, size), np.float32)
    x[:, 0, 1:7, 2] = 1.0
    x[:, 0, 6, 2:6] = 0.6
    x[:, 0, 2, 6] = 0.3
    x *= np.linspace(0.5, 1, n, dtype=np.float32)[:, None, None, None]
    return x


@pytest.mark.parametrize("kind", list(KINDS))
def test_zero_strength_gives_the_images_back_as_a_float32_copy(kind):
    x = asymmetric().astype(np.float64)
    out = damage(x, kind, 0, rng=0)
    assert out.dtype == np.float32 and out.shape == x.shape
    np.testing.assert_array_equal(out, x)
    out[...] = 7
    assert x.max() == 1.0


@pytest.mark.parametrize("kind", list(KINDS))
def test_damage_never_changes_its_input(kind):
    x = asymmetric()
    before = x.copy()
    strength = {"thickness": -1.5, "occlusion": 0.5}.get(kind, 1.5)
    out = damage(x, kind, strength, rng=0)
    np.testing.assert_array_equal(x, before)
    assert out.dtype == np.float32 and out.shape == x.shape
    assert not np.array_equal(out, x), kind


def test_uint8_pixels_are_damaged_as_the_images_predict_sees():
    x = asymmetric()
    pixels = np.round(x * 255).astype(np.uint8)
    np.testing.assert_allclose(damage(pixels, "noise", 0.2, rng=3), damage(pixels / 255, "noise", 0.2, rng=3),
                               atol=1e-6)
    np.testing.assert_allclose(damage(pixels, "thickness", 0), pixels / 255, atol=1e-7)


def test_rotation_by_90_degrees_is_numpys_rot90():
    x = asymmetric()
    np.testing.assert_allclose(damage(x, "rotation", 90), np.rot90(x, axes=(2, 3)), atol=1e-5)
    np.testing.assert_allclose(damage(x, "rotation", -90), np.rot90(x, -1, axes=(2, 3)), atol=1e-5)
    np.testing.assert_allclose(damage(x[:, 0], "rotation", 180), np.rot90(x[:, 0], 2, axes=(1, 2)), atol=1e-5)


def test_noise_grows_the_squared_error_as_sigma_squared_before_clipping():
    x = np.full((200, 1, 16, 16), 0.5, np.float32)    # mid-grey: clipping is rare for small sigma
    for sigma in (0.02, 0.05, 0.1):
        mse = float(((damage(x, "noise", sigma, rng=1) - x) ** 2).mean())
        assert mse == pytest.approx(sigma ** 2, rel=0.03)


def test_noise_stays_in_the_pixel_range():
    out = damage(asymmetric(), "noise", 3.0, rng=0)
    assert out.min() == 0.0 and out.max() == 1.0


def test_occlusion_blanks_exactly_a_square_of_the_asked_side_in_every_channel():
    x = np.ones((50, 3, 20, 30), np.float32)
    out = damage(x, "occlusion", 0.25, rng=0)              # side 0.25 * 20 = 5 pixels
    blank = out == 0
    assert (blank.sum(axis=(2, 3)) == 25).all()
    assert (blank == blank[:, :1]).all()                   # the same square in every channel
    for image in blank[:, 0]:
        rows, cols = np.flatnonzero(image.any(axis=1)), np.flatnonzero(image.any(axis=0))
        assert np.ptp(rows) == 4 and np.ptp(cols) == 4
    assert len({tuple(np.argwhere(b[0])[0]) for b in blank}) > 10   # places differ between images
    assert (damage(x, "occlusion", 1.0, rng=0) == 0).sum() == 50 * 3 * 20 * 20


def test_shift_moves_the_ink_by_the_strength_in_any_direction():
    x = np.zeros((40, 1, 21, 21), np.float32)
    x[:, 0, 9:12, 9:12] = 1.0
    out = damage(x, "shift", 3.0, rng=0)
    ys, xs = np.mgrid[:21, :21]
    cy = (out[:, 0] * ys).sum(axis=(1, 2)) / out[:, 0].sum(axis=(1, 2))
    cx = (out[:, 0] * xs).sum(axis=(1, 2)) / out[:, 0].sum(axis=(1, 2))
    np.testing.assert_allclose(np.hypot(cy - 10, cx - 10), 3.0, atol=1e-3)
    np.testing.assert_allclose(out.sum(axis=(1, 2, 3)), 9.0, rtol=1e-4)
    assert np.ptp(np.arctan2(cy - 10, cx - 10)) > 3          # directions spread round the circle


def test_blur_spreads_a_dot_into_a_gaussian_of_that_sigma_keeping_the_ink():
    x = np.zeros((2, 25, 25), np.float32)
    x[:, 12, 12] = 1.0
    out = damage(x, "blur", 2.0)
    assert out.sum() == pytest.approx(2.0, rel=1e-5)
    profile = out[0, 12] / out[0, 12].sum()
    variance = (profile * (np.arange(25) - 12) ** 2).sum()
    assert variance == pytest.approx(4.0, rel=0.02)
    np.testing.assert_allclose(out[0], out[0].T, atol=1e-7)


def test_an_enormous_blur_spreads_the_ink_evenly_without_running_out_of_memory():
    x = np.zeros((1, 8, 8), np.float32)
    x[0, 4, 4] = 1.0
    out = damage(x, "blur", 1e9)
    np.testing.assert_allclose(out, out[0, 0, 0], rtol=1e-6)
    assert out.sum() == pytest.approx(64 / (1e9 * np.sqrt(2 * np.pi)) ** 2 * 1e0, rel=1e-6)


def test_thickness_dilates_a_line_and_negative_strength_erodes_it():
    x = np.zeros((1, 1, 15, 15), np.float32)
    x[0, 0, 3:12, 6:9] = 1.0                                  # a bar 3 pixels wide
    wide = damage(x, "thickness", 1)
    assert np.flatnonzero(wide[0, 0, 7] > 0).tolist() == [5, 6, 7, 8, 9]
    thin = damage(x, "thickness", -1)
    assert np.flatnonzero(thin[0, 0, 7] > 0).tolist() == [7]
    half = damage(x, "thickness", 0.5)                        # halfway: edges at half intensity
    np.testing.assert_allclose(half[0, 0, 7, 4:11], [0, 0.5, 1, 1, 1, 0.5, 0])


@pytest.mark.parametrize("kind, strength", [("noise", -0.1), ("blur", -1), ("shift", -2), ("occlusion", 1.5),
                                            ("rotation", float("nan")), ("thickness", "thick")])
def test_a_strength_out_of_range_is_refused_naming_it(kind, strength):
    with pytest.raises(ValueError, match=f"damage '{kind}'.*{strength}"):
        damage(asymmetric(), kind, strength)


def test_unknown_kind_and_flat_inputs_are_refused():
    with pytest.raises(ValueError, match="noise, rotation.*'smudge'"):
        damage(asymmetric(), "smudge", 1)
    with pytest.raises(ShapeError, match="'rotation' needs images"):
        damage(np.zeros((4, 784)), "rotation", 10)
    assert damage(np.zeros((4, 784)), "noise", 0.1, rng=0).shape == (4, 784)


@pytest.fixture(scope="module")
def small_model():
    model = zoo.build("cnn_small", input_shape=(1, 12, 12), classes=3, seed=0)
    model.compile("sgd", "crossentropy")
    return model


def test_robustness_at_zero_strength_is_the_plain_accuracy(small_model):
    rng = np.random.default_rng(0)
    x, y = rng.random((300, 1, 12, 12)).astype(np.float32), rng.integers(0, 3, 300)
    curve = robustness(small_model, x, y, "noise", [0, 0.5], rng=0)
    assert curve.complete and curve.kind == "noise"
    assert curve.accuracy[0] == small_model.evaluate(x, y)["accuracy"]
    assert curve.strengths.tolist() == [0, 0.5] and curve.accuracy[1] != curve.accuracy[0]
    np.testing.assert_array_equal(robustness(small_model, x, np.eye(3)[y], "noise", [0, 0.5], rng=0).accuracy,
                                  curve.accuracy)


def test_the_same_seed_repeats_the_curve(small_model):
    rng = np.random.default_rng(1)
    x, y = rng.random((120, 1, 12, 12)).astype(np.float32), rng.integers(0, 3, 120)
    first = robustness(small_model, x, y, "occlusion", [0.3, 0.6], rng=5).accuracy
    assert robustness(small_model, x, y, "occlusion", [0.3, 0.6], rng=5).accuracy.tolist() == first.tolist()


def test_robustness_defaults_to_ten_steps_and_progress_counts_every_image(small_model, monkeypatch):
    monkeypatch.setattr(stress, "CHUNK", 4)
    x, y = np.zeros((10, 12, 12), np.float32), np.zeros(10, int)
    calls = []
    curve = robustness(small_model, x, y, "rotation", progress=lambda done, total: calls.append((done, total)))
    assert len(DEFAULT_STRENGTHS["rotation"]) == 11 and curve.strengths.tolist() == list(range(0, 61, 6))
    assert calls[-1] == (110, 110) and len(calls) == 33
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)


def test_progress_returning_false_stops_with_the_strengths_done(small_model, monkeypatch):
    monkeypatch.setattr(stress, "CHUNK", 5)
    x, y = np.zeros((10, 1, 12, 12), np.float32), np.zeros(10, int)
    curve = robustness(small_model, x, y, "blur", [0, 1, 2, 3], progress=lambda done, total: done < 25)
    assert not curve.complete
    assert curve.strengths.tolist() == [0, 1] and len(curve.accuracy) == 2


def test_robustness_of_uint8_pixels_is_that_of_the_scaled_images(small_model):
    rng = np.random.default_rng(2)
    pixels = rng.integers(0, 256, (60, 1, 12, 12)).astype(np.uint8)
    y = rng.integers(0, 3, 60)
    scaled = robustness(small_model, pixels / np.float32(255), y, "noise", [0, 0.3], rng=0).accuracy
    np.testing.assert_array_equal(robustness(small_model, pixels, y, "noise", [0, 0.3], rng=0).accuracy, scaled)


def test_progress_raising_cancels(small_model):
    def cancel(done, total):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        robustness(small_model, np.zeros((3, 1, 12, 12)), [0, 1, 2], "noise", [0.1], progress=cancel)


def test_robustness_refuses_what_does_not_fit(small_model):
    x = np.zeros((4, 1, 12, 12), np.float32)
    with pytest.raises(ValueError, match="kind must be one of"):
        robustness(small_model, x, [0] * 4, "fog")
    with pytest.raises(ValueError, match="occlusion.*1.2"):
        robustness(small_model, x, [0] * 4, "occlusion", [0.5, 1.2])
    with pytest.raises(ShapeError, match="robustness: expected input"):
        robustness(small_model, np.zeros((4, 1, 28, 28)), [0] * 4, "noise")
    with pytest.raises(ValueError, match="different lengths"):
        robustness(small_model, x, [0] * 3, "noise")


@pytest.mark.parametrize("kind", ["noise", "shift", "occlusion", "rotation"])
def test_a_damaged_set_is_what_robustness_evaluates_at_that_strength(small_model, monkeypatch, kind):
    monkeypatch.setattr(stress, "CHUNK", 7)      # several chunks, each with its own draws
    rng = np.random.default_rng(4)
    x, y = rng.random((30, 1, 12, 12)).astype(np.float32), rng.integers(0, 3, 30)
    strength = {"occlusion": 0.5, "rotation": 40}.get(kind, 2.0 if kind == "shift" else 0.4)
    calls = []
    damaged = stress.damage_set(x, kind, strength, rng=9, progress=lambda done, total: calls.append((done, total)))
    assert damaged.dtype == np.float32 and damaged.shape == x.shape and not np.array_equal(damaged, x)
    np.testing.assert_array_equal(stress.damage_set(x, kind, strength, rng=9), damaged)    # seeded: repeatable
    accuracy = float((small_model.predict(damaged).argmax(1) == y).mean())
    assert accuracy == robustness(small_model, x, y, kind, [strength], rng=9).accuracy[0]
    assert calls == [(7, 30), (14, 30), (21, 30), (28, 30), (30, 30)]


def test_a_damaged_set_at_zero_strength_is_the_set_and_bad_strengths_are_refused():
    x = asymmetric(5)
    np.testing.assert_array_equal(stress.damage_set(x, "blur", 0, rng=0), x)
    with pytest.raises(ValueError, match="noise.*-0.1"):
        stress.damage_set(x, "noise", -0.1)
    with pytest.raises(ValueError, match="kind must be one of"):
        stress.damage_set(x, "fog", 1)


@pytest.mark.parametrize("kind", list(KINDS))
def test_the_offered_range_holds_the_default_curve_and_is_accepted(kind):
    low, high = stress.RANGES[kind]
    assert low <= DEFAULT_STRENGTHS[kind].min() and DEFAULT_STRENGTHS[kind].max() <= high
    for strength in (low, high):
        assert damage(asymmetric(), kind, strength, rng=0).shape == asymmetric().shape


@pytest.mark.slow
def test_the_pretrained_lenet5_loses_accuracy_as_noise_grows(mnist):
    from pathlib import Path

    from core import load_model
    model = load_model(Path(__file__).resolve().parents[1] / "saved_models" / "lenet5-mnist")
    x, y = mnist.x_test[:2000], mnist.y_test[:2000]
    curve = robustness(model, x, y, "noise", [0, 0.3, 0.6, 1.0], rng=0)
    assert curve.accuracy[0] == model.evaluate(x, y)["accuracy"] > 0.97
    assert (np.diff(curve.accuracy) < 0).all(), curve.accuracy
    assert curve.accuracy[-1] < curve.accuracy[0] - 0.2   # (trained with noise up to 0.3, it still falls)
