"""Augmentation: off by default, exact whole-pixel shifts, seeded, vectorised over the batch."""
import numpy as np
import pytest

from core import zoo
from core.augment import Augment, add_noise, bilinear_sample, smooth_field, warp
from core.layers import Dense, Flatten, Softmax
from core.model import Sequential
from core.optimizers import SGD


@pytest.fixture
def batch():
    return np.random.default_rng(0).random((16, 1, 28, 28), dtype=np.float32)


def test_default_changes_nothing(batch):
    aug = Augment()
    assert aug.is_identity
    assert aug(batch, np.random.default_rng(0)) is batch


@pytest.mark.parametrize("shape", [(8, 1, 28, 28), (8, 28, 28), (8, 3, 20, 24)])
def test_shape_and_dtype_preserved(shape):
    x = np.random.default_rng(0).random(shape).astype(np.float32)
    out = Augment(shift=2, rotate=10, scale=0.1, elastic=1.5)(x, np.random.default_rng(1))
    assert out.shape == x.shape and out.dtype == np.float32
    assert np.isfinite(out).all() and not np.allclose(out, x)


def test_float64_in_is_float32_out():
    x = np.random.default_rng(0).random((4, 1, 28, 28))
    assert Augment(rotate=5)(x, np.random.default_rng(0)).dtype == np.float32


def test_seeded_reproducible(batch):
    aug = Augment(shift=2, rotate=15, scale=0.1, elastic=2)
    a = aug(batch, np.random.default_rng(7))
    b = aug(batch, np.random.default_rng(7))
    c = aug(batch, np.random.default_rng(8))
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_each_sample_gets_its_own_transform():
    x = np.zeros((32, 1, 28, 28), np.float32)
    x[:, 0, 10:18, 10:18] = 1
    out = Augment(shift=3)(x, np.random.default_rng(0)).reshape(32, -1)
    assert len({tuple(np.round(row, 4)) for row in out}) == 32


def test_whole_pixel_shift_is_exact(batch):
    out = warp(batch, dy=2, dx=-3)
    np.testing.assert_array_equal(out[:, :, 2:, :-3], batch[:, :, :-2, 3:])
    assert not out[:, :, :2].any() and not out[:, :, :, -3:].any()


def test_per_sample_shifts():
    x = np.zeros((2, 1, 5, 5), np.float32)
    x[:, 0, 2, 2] = 1
    out = warp(x, dy=np.array([1, -1]), dx=np.array([0, 2]))
    assert out[0, 0, 3, 2] == 1 and out[1, 0, 1, 4] == 1 and out.sum() == 2


def test_rotation_by_90_degrees_is_rot90_counter_clockwise(batch):
    np.testing.assert_allclose(warp(batch, angle=90), np.rot90(batch, 1, axes=(2, 3)), atol=1e-5)


def test_zoom_scales_about_the_centre():
    x = np.zeros((1, 1, 29, 29), np.float32)
    x[0, 0, 14, 18] = 1                        # 4 pixels right of the centre
    out = warp(x, scale=2.0)
    assert out[0, 0, 14, 22] == pytest.approx(1) and out[0, 0, 14, 18] == 0


def test_a_constant_elastic_field_is_a_shift(batch):
    field = np.zeros((16, 2, 28, 28), np.float32)
    field[:, 0] = 1.0                          # every output pixel reads one row further down
    np.testing.assert_allclose(warp(batch, field=field), warp(batch, dy=-1), atol=1e-6)


def test_all_channels_of_a_sample_move_together():
    grey = np.random.default_rng(0).random((6, 1, 28, 28)).astype(np.float32)
    out = Augment(shift=2, rotate=20, elastic=1.5)(np.repeat(grey, 3, axis=1), np.random.default_rng(0))
    np.testing.assert_array_equal(out[:, 0], out[:, 1])
    np.testing.assert_array_equal(out[:, 0], out[:, 2])


def test_smooth_field_has_unit_spread_and_is_smooth():
    field = smooth_field(np.random.default_rng(0), 400, (28, 28), 4.0)
    assert field.shape == (400, 2, 28, 28) and field.dtype == np.float32
    assert field.std() == pytest.approx(1, abs=0.05)
    neighbours = np.corrcoef(field[:, 0, 14, 14], field[:, 0, 14, 15])[0, 1]
    far = np.corrcoef(field[:, 0, 14, 14], field[:, 0, 14, 26])[0, 1]
    assert neighbours > 0.9 and abs(far) < 0.3


def test_elastic_magnitude_is_about_the_requested_pixels():
    """A diagonal ramp measures displacement: reading (y, x) + d shifts its value by dy + dx."""
    ramp = np.add.outer(np.arange(28.0), np.arange(28.0)).astype(np.float32)[None, None]
    x = np.repeat(ramp, 200, axis=0)
    out = Augment(elastic=2.0)(x, np.random.default_rng(0))
    inner = (out - x)[:, 0, 8:20, 8:20]
    assert np.sqrt((inner ** 2).mean()) == pytest.approx(2.0 * np.sqrt(2), rel=0.2)


def test_bilinear_sample_reads_between_pixels_and_outside_is_fill():
    image = np.array([[[0.0, 1.0], [2.0, 3.0]]], np.float32)
    ys = np.array([[[0.5, 0.0, -5.0]]], np.float32)
    xs = np.array([[[0.5, 0.25, 0.0]]], np.float32)
    np.testing.assert_allclose(bilinear_sample(image, ys, xs), [[[1.5, 0.25, 0.0]]])
    assert bilinear_sample(image, ys, xs, fill=9.0)[0, 0, 2] == 9.0


def test_config_round_trip_and_bad_arguments():
    aug = Augment(shift=2, rotate=12, scale=0.1, elastic=1.5)
    again = Augment.from_config(aug.get_config())
    assert again.get_config() == aug.get_config() and "rotate=12" in repr(again)
    for bad in ({"shift": -1}, {"scale": 1.0}, {"rotate": float("nan")}, {"elastic_sigma": 0}):
        with pytest.raises(ValueError):
            Augment(**bad)


def test_fit_calls_augment_on_each_batch():
    calls = []
    aug = Augment(shift=1, rotate=5)

    def spy(x, rng):
        calls.append(len(x))
        return aug(x, rng)

    rng = np.random.default_rng(0)
    x, y = rng.random((40, 1, 8, 8)).astype(np.float32), rng.integers(0, 3, 40)
    model = Sequential([Flatten(), Dense(3), Softmax()], input_shape=(1, 8, 8), seed=0)
    model.compile(SGD(lr=0.1), "crossentropy")
    model.fit(x, y, epochs=1, batch_size=16, augment=spy, seed=0)
    assert calls == [16, 16, 8]
    assert zoo.names()   # the zoo imports cleanly alongside augment


def test_noise_draws_a_sigma_per_image_and_stays_in_range():
    x = np.full((200, 1, 28, 28), 0.5, np.float32)
    out = Augment(noise=0.3)(x, np.random.default_rng(0))
    spread = out.reshape(200, -1).std(axis=1)
    assert out.min() >= 0 and out.max() <= 1 and out.dtype == np.float32
    assert spread.max() == pytest.approx(0.3, abs=0.03) and spread.min() < 0.03    # sigma uniform in [0, 0.3]
    assert Augment.from_config(Augment(noise=0.2).get_config()).noise == 0.2
    with pytest.raises(ValueError, match="noise"):
        Augment(noise=-0.1)


def test_add_noise_is_clipped_gaussian_noise():
    x = np.zeros((2, 3, 50, 50), np.float32)
    out = add_noise(x, [0.0, 0.5], np.random.default_rng(1))
    assert not out[0].any() and out[1].min() == 0
    assert out[1].mean() == pytest.approx(0.5 / np.sqrt(2 * np.pi), rel=0.05)    # E[max(0, 0.5 z)]: negatives clipped


def test_flip_mirrors_about_the_given_share_of_images_left_to_right():
    x = np.random.default_rng(0).random((2000, 1, 5, 7), dtype=np.float32)
    out = Augment(flip=0.5)(x, 3)
    mirrored = (out == x[..., ::-1]).all(axis=(1, 2, 3))
    kept = (out == x).all(axis=(1, 2, 3))
    assert (mirrored | kept).all() and 900 < mirrored.sum() < 1100     # each image whole, about half of them
    np.testing.assert_array_equal(Augment(flip=1)(x, 3), x[..., ::-1])
    np.testing.assert_array_equal(Augment(flip=0)(x, 3), x)
    assert out.shape == x.shape and out.dtype == np.float32


def test_flip_is_a_probability_in_config_and_checked():
    assert Augment.from_config(Augment(flip=0.5).get_config()).flip == 0.5
    assert not Augment(flip=0.5).is_identity
    for bad in (-0.1, 1.5):
        with pytest.raises(ValueError, match="flip"):
            Augment(flip=bad)
