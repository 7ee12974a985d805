"""Stroke thickness: grey-level dilation and erosion by a disk, per image, with known answers."""
import numpy as np
import pytest

from core.augment import Augment, thicken
from core.stress import damage


def line(width=1, size=11, channels=None):
    """One image with a horizontal line ``width`` pixels thick across its middle."""
    x = np.zeros((1, size, size), np.float32)
    x[0, size // 2 - width // 2: size // 2 - width // 2 + width] = 1
    return x if channels is None else np.repeat(x[:, None], channels, axis=1)


def rows_with_ink(image):
    return int((image.max(axis=-1) > 0).sum())


@pytest.mark.parametrize("radius, rows", [(1, 3), (2, 5), (3, 7)])
def test_a_one_pixel_line_dilated_by_r_is_2r_plus_1_wide(radius, rows):
    out = thicken(line(), radius)
    assert rows_with_ink(out[0]) == rows
    np.testing.assert_array_equal(out[0][out[0] > 0], 1)          # a line of full ink, not a smear
    vertical = thicken(line().transpose(0, 2, 1), radius)[0]
    assert rows_with_ink(vertical.T) == rows                       # both axes alike


def test_a_point_grows_into_a_disk():
    x = np.zeros((1, 9, 9), np.float32)
    x[0, 4, 4] = 1
    assert thicken(x, 1).sum() == 5 and thicken(x, 2).sum() == 13        # plus, then the radius-2 disk


def test_strength_zero_is_the_identity():
    x = np.random.default_rng(0).random((4, 1, 12, 12), dtype=np.float32)
    np.testing.assert_array_equal(thicken(x, 0), x)
    np.testing.assert_array_equal(thicken(x, np.zeros(4)), x)
    np.testing.assert_array_equal(Augment(thickness=0)(x, 0), x)


def test_negative_radius_erodes():
    assert rows_with_ink(thicken(line(3), -1)[0]) == 1
    assert rows_with_ink(thicken(line(5), -2)[0]) == 1
    assert not thicken(line(1), -1).any()                          # a hairline is eaten away


def test_grey_levels_take_the_largest_or_smallest_neighbour():
    x = np.zeros((1, 3, 5), np.float32)
    x[0, :] = [0.2, 0.9, 0.4, 0.0, 0.6]
    np.testing.assert_allclose(thicken(x, 1)[0, 1], [0.9, 0.9, 0.9, 0.6, 0.6])
    np.testing.assert_allclose(thicken(x, -1)[0, 1], [0.0, 0.2, 0.0, 0.0, 0.0])   # outside is background
    assert not thicken(x, -1)[0, [0, 2]].any()


def test_a_fractional_radius_blends_the_whole_ones():
    out = thicken(line(), 0.5)[0][:, 3]
    np.testing.assert_allclose(out[4:7], [0.5, 1, 0.5])
    assert out[:4].sum() == 0 and out[7:].sum() == 0
    x = np.random.default_rng(1).random((3, 10, 10), dtype=np.float32)
    np.testing.assert_allclose(thicken(x, 1.25), 0.75 * thicken(x, 1) + 0.25 * thicken(x, 2), atol=1e-6)
    np.testing.assert_allclose(thicken(x, -0.3), 0.7 * x + 0.3 * thicken(x, -1), atol=1e-6)


def test_each_image_takes_its_own_radius():
    x = np.random.default_rng(2).random((4, 2, 10, 10), dtype=np.float32)
    radii = np.array([1.5, -0.5, 0.0, 2.0])
    out = thicken(x, radii)
    assert out.shape == x.shape and out.dtype == np.float32
    for image, r, got in zip(x, radii, out):
        np.testing.assert_allclose(got, thicken(image[None], r)[0], atol=1e-6)


def test_channels_are_thickened_alike():
    out = thicken(line(channels=3), 1)
    assert all(rows_with_ink(channel) == 3 for channel in out[0])


@pytest.mark.parametrize("bad", [np.nan, np.inf, [1.0, 2.0], np.ones((1, 1))])
def test_a_bad_radius_is_refused_saying_what_was_expected(bad):
    with pytest.raises(ValueError, match="thicken radius"):
        thicken(np.zeros((3, 5, 5), np.float32), bad)


def test_augment_thickness_draws_thicker_and_thinner_strokes():
    x = np.zeros((64, 1, 28, 28), np.float32)
    x[:, :, 13:16, 4:24] = 1                                           # a bar 3 pixels thick, 20 long
    aug = Augment(thickness=1.0)
    out = aug(x, np.random.default_rng(0))
    ink = out.reshape(64, -1).sum(axis=1) / x[0].sum()
    assert (ink > 1.2).any() and (ink < 0.8).any()                      # both ways
    assert ink.min() >= 18 / 60 - 1e-6 and ink.max() <= 106 / 60 + 1e-6   # never beyond a radius of 1
    np.testing.assert_array_equal(out, aug(x, np.random.default_rng(0)))   # seeded
    assert not aug.is_identity and "thickness=1" in repr(aug)


def test_augment_thickness_in_config_and_checked():
    aug = Augment(shift=1, thickness=0.5)
    assert Augment.from_config(aug.get_config()).thickness == 0.5
    with pytest.raises(ValueError, match="thickness"):
        Augment(thickness=-1)


def test_the_lab_damages_with_the_same_transform():
    x = np.random.default_rng(3).random((5, 1, 12, 12), dtype=np.float32)
    for radius in (1.5, -0.75, 2):
        np.testing.assert_array_equal(damage(x, "thickness", radius), thicken(x, radius))
