"""core.preprocess: any picture becomes the input an MNIST-trained network expects."""
import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageOps

from core import NumpynetError, ShapeError, zoo
from core.preprocess import NothingDrawn, class_names, gray, predict_files, prepare, preprocessing_mode


def seven(size=(200, 160), box=(20, 15, 70, 95), width=7, ink=0, paper=255):
    """A grey PIL image (width, height) ``size`` with a '7' drawn in ``box`` (left, top, right, bottom)."""
    img = Image.new("L", size, paper)
    left, top, right, bottom = box
    ImageDraw.Draw(img).line([(left, top), (right, top), (left + (right - left) // 3, bottom)],
                             fill=ink, width=width, joint="curve")
    return img


def centre_of_mass(a):
    rows, cols = np.indices(a.shape)
    return (rows * a).sum() / a.sum(), (cols * a).sum() / a.sum()


def ink_box(a):
    rows, cols = np.flatnonzero(a.any(axis=1)), np.flatnonzero(a.any(axis=0))
    return rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1


def correlation(a, b):
    a, b = a.ravel() - a.mean(), b.ravel() - b.mean()
    return float(a @ b / np.sqrt((a @ a) * (b @ b)))


def aligned_correlation(x, digit):
    """Correlation of a prepared input with a 28x28 digit, forgiving the whole-pixel shift that
    rounding the centre of mass may add."""
    img = x[0, 0]
    return max(correlation(np.roll(img, (dy, dx), axis=(0, 1)), digit)
               for dy in (-1, 0, 1) for dx in (-1, 0, 1))


def test_a_small_off_centre_digit_is_boxed_in_20x20_with_its_mass_at_the_centre():
    x = prepare(seven())
    assert x.shape == (1, 1, 28, 28) and x.dtype == np.float32
    assert x.min() >= 0 and x.max() == pytest.approx(1.0, abs=0.02)
    img = x[0, 0]
    assert max(ink_box(img > 0)) == 20 and min(ink_box(img > 0)) <= 20
    cy, cx = centre_of_mass(img)
    assert abs(cy - 14) <= 0.5 and abs(cx - 14) <= 0.5, (cy, cx)
    assert img[:, :2].sum() == 0 and img[:2].sum() == 0        # the frame's edges stay dark


def test_dark_on_light_and_light_on_dark_give_the_same_input():
    dark_ink = prepare(seven())
    light_ink = prepare(ImageOps.invert(seven()))
    np.testing.assert_allclose(dark_ink, light_ink, atol=1e-5)


def test_grey_paper_and_ink_are_stretched_to_black_and_white():
    faded = prepare(seven(ink=90, paper=200))
    np.testing.assert_allclose(faded, prepare(seven()), atol=0.02)


def test_rgb_rgba_and_large_images_are_read_like_grey_ones():
    grey = prepare(seven())
    rgb = prepare(seven().convert("RGB"))
    np.testing.assert_allclose(rgb, grey, atol=0.01)
    big = seven(size=(1000, 800), box=(600, 100, 850, 500), width=35).convert("RGB")
    assert correlation(prepare(big), grey) > 0.95
    # Strokes on a transparent sheet: the ink is the opaque part, whatever its colour.
    for colour in ((0, 0, 0), (255, 255, 255)):
        sheet = Image.new("RGBA", (200, 160), (*colour, 0))
        sheet.putalpha(ImageOps.invert(seven()))
        np.testing.assert_allclose(prepare(sheet), grey, atol=0.01)


def test_arrays_in_any_layout_and_range():
    grey = prepare(seven())
    a = np.asarray(seven())
    for layout in (a, a[None], a[None, None], np.stack([a] * 3), np.stack([a] * 3, axis=-1),
                   a.astype(np.float32) / 255, a.astype(np.float64), a[..., None]):
        np.testing.assert_allclose(prepare(layout), grey, atol=1e-5, err_msg=str(layout.shape))


@pytest.mark.parametrize("blank", [np.full((280, 280), 255, np.uint8), np.zeros((28, 28), np.float32),
                                   np.full((50, 50, 4), 0, np.uint8)])
def test_a_blank_image_is_nothing_drawn(blank):
    with pytest.raises(NothingDrawn, match="blank"):
        prepare(blank)
    assert issubclass(NothingDrawn, NumpynetError) and issubclass(NothingDrawn, ValueError)


def test_faint_noise_alone_is_nothing_drawn():
    noise = 0.9 + 0.05 * np.random.default_rng(0).random((100, 100))
    with pytest.raises(NothingDrawn):
        prepare(noise)


def test_other_input_shapes_keep_the_20_of_28_proportions():
    x = prepare(seven(), input_shape=(1, 56, 56))
    assert x.shape == (1, 1, 56, 56)
    assert max(ink_box(x[0, 0] > 0)) == 40
    cy, cx = centre_of_mass(x[0, 0])
    assert abs(cy - 28) <= 0.5 and abs(cx - 28) <= 0.5
    colour = prepare(seven(), input_shape=(3, 28, 28))
    assert colour.shape == (1, 3, 28, 28)
    np.testing.assert_allclose(colour[0, 0], colour[0, 2])


def test_fit_mode_fills_the_frame_centred_by_its_box():
    trousers = Image.new("L", (300, 300), 255)
    ImageDraw.Draw(trousers).rectangle((120, 40, 180, 260), fill=20)
    x = prepare(trousers, mode="fit")[0, 0]
    height, width = ink_box(x > 0.01)
    assert height == 28 and 5 <= width <= 10
    columns = np.flatnonzero((x > 0.01).any(axis=0))
    assert abs(columns[0] - (27 - columns[-1])) <= 1


def test_wrong_arguments_say_what_was_expected():
    with pytest.raises(ValueError, match="mnist, fit"):
        prepare(seven(), mode="photo")
    with pytest.raises(ShapeError, match="1 or 3 channels"):
        prepare(seven(), input_shape=(784,))
    with pytest.raises(ShapeError, match=r"\(5, 5, 5, 5\)"):
        prepare(np.ones((5, 5, 5, 5)))
    with pytest.raises(ValueError, match="NaN"):
        prepare(np.full((10, 10), np.nan))


def test_gray_is_what_prepare_reads():
    np.testing.assert_allclose(gray(seven().convert("RGB")), np.asarray(seven()) / 255, atol=1 / 255)


def test_real_mnist_digits_come_back_as_themselves(mnist):
    digits = mnist.x_test[:100, 0]
    same = [aligned_correlation(prepare(d), d) for d in digits]
    assert np.median(same) > 0.99 and min(same) > 0.9
    # The same digits scanned large, as black ink on white paper.
    scans = [Image.fromarray(255 - np.uint8(d * 255)).resize((280, 280), Image.BICUBIC) for d in digits[:30]]
    scanned = [aligned_correlation(prepare(s), d) for s, d in zip(scans, digits)]
    assert np.median(scanned) > 0.95 and min(scanned) > 0.9


def small_model(**meta):
    model = zoo.build("mlp", seed=0)
    model.meta.update(meta)
    return model


def test_predict_files_gives_the_top_classes_of_each_file(tmp_path):
    model = small_model(class_names=list("abcdefghij"), preprocessing="mnist")
    paths = [tmp_path / "seven.png", tmp_path / "inverted.jpg"]
    seven().save(paths[0])
    ImageOps.invert(seven()).save(paths[1])
    results = predict_files(model, paths, top=3)
    assert [path for path, _ in results] == [str(p) for p in paths]
    expected = model.predict(prepare(seven()))[0]
    names, probs = zip(*results[0][1])
    assert list(probs) == sorted(probs, reverse=True) and len(probs) == 3
    assert names[0] == "abcdefghij"[expected.argmax()]
    assert probs[0] == pytest.approx(expected.max())
    blank = tmp_path / "blank.png"
    Image.new("L", (50, 50), 255).save(blank)
    with pytest.raises(NothingDrawn, match="blank.png"):
        predict_files(model, [blank])


def test_model_metadata_with_fallbacks():
    assert class_names(small_model()) == [str(i) for i in range(10)]
    assert class_names(small_model(class_names=["only", "two"])) == [str(i) for i in range(10)]
    assert preprocessing_mode(small_model()) == "mnist"
    assert preprocessing_mode(small_model(preprocessing="fit")) == "fit"
    with pytest.raises(ValueError, match="'sharpen'"):
        preprocessing_mode(small_model(preprocessing="sharpen"))
