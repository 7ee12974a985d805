"""core.images.read_image: every pixel format becomes float32 (C, H, W) in [0, 1], scaled by its format,
and folders of images, ``numpynet predict`` and the draw pad all read files through it."""
import numpy as np
import pytest
from PIL import Image

from core import DatasetError, ImageFileError, NumpynetError, datasets, zoo
from core.images import read_image
from core.preprocess import predict_files, prepare

RAMP16 = np.arange(28 * 28, dtype=np.uint32).reshape(28, 28) * 65535 // (28 * 28 - 1)
RAMP = np.linspace(0, 1, 28 * 28, dtype=np.float32).reshape(28, 28)


def saved(path, image, **options):
    image.save(path, **options)
    return path


def test_sixteen_bit_grey_is_scaled_not_clipped(tmp_path):
    path = saved(tmp_path / "ramp16.png", Image.fromarray(RAMP16.astype(np.uint16)))
    x = read_image(path)
    assert x.shape == (1, 28, 28) and x.dtype == np.float32
    np.testing.assert_allclose(x[0], RAMP16 / 65535, atol=1e-6)
    big_endian = saved(tmp_path / "ramp16b.tif", Image.frombytes("I;16B", (28, 28), RAMP16.astype(">u2").tobytes()))
    assert Image.open(big_endian).mode == "I;16B"
    np.testing.assert_allclose(read_image(big_endian)[0], RAMP16 / 65535, atol=1e-6)


def test_32_bit_integer_pictures_hold_16_bit_data_or_are_refused(tmp_path):
    path = saved(tmp_path / "ramp32.tif", Image.fromarray(RAMP16.astype(np.int32)))
    assert Image.open(path).mode == "I"
    np.testing.assert_allclose(read_image(path)[0], RAMP16 / 65535, atol=1e-6)
    wide = saved(tmp_path / "wide.tif", Image.fromarray((RAMP16 * 100).astype(np.int32)))
    with pytest.raises(ImageFileError, match=r"wide\.tif.*6553500.*16 bits"):
        read_image(wide)


def test_float_pictures_in_the_unit_range_keep_their_values(tmp_path):
    path = saved(tmp_path / "ramp.tif", Image.fromarray(RAMP))
    assert Image.open(path).mode == "F"
    np.testing.assert_array_equal(read_image(path)[0], RAMP)


@pytest.mark.parametrize("values, pattern", [(RAMP * 255, r"\[0, 1\], found 0 to 255"),
                                             (RAMP - 0.5, r"\[0, 1\], found -0\.5 to 0\.5"),
                                             (np.where(RAMP > 0.5, np.nan, RAMP), "NaN")],
                         ids=["0-255", "negative", "nan"])
def test_float_pictures_outside_the_unit_range_are_refused_by_name(tmp_path, values, pattern):
    path = saved(tmp_path / "odd.tif", Image.fromarray(values.astype(np.float32)))
    with pytest.raises(ImageFileError, match=r"odd\.tif.*" + pattern):
        read_image(path)


def test_one_bit_and_eight_bit_grey(tmp_path):
    bits = RAMP > 0.5
    one = saved(tmp_path / "bits.png", Image.fromarray(bits))
    assert Image.open(one).mode == "1"
    np.testing.assert_array_equal(read_image(one)[0], bits.astype(np.float32))
    grey = np.arange(256, dtype=np.uint8).reshape(16, 16)
    np.testing.assert_allclose(read_image(saved(tmp_path / "grey.png", Image.fromarray(grey)))[0], grey / 255,
                               atol=1e-7)


def test_colour_palette_and_cmyk_come_back_as_rgb(tmp_path):
    rgb = np.random.default_rng(0).integers(0, 256, (6, 5, 3), dtype=np.uint8)
    x = read_image(saved(tmp_path / "colour.png", Image.fromarray(rgb)))
    np.testing.assert_allclose(x, rgb.transpose(2, 0, 1) / 255, atol=1e-7)
    palette = Image.fromarray(rgb).quantize(8)
    expected = np.asarray(palette.convert("RGB")).transpose(2, 0, 1) / 255
    np.testing.assert_allclose(read_image(saved(tmp_path / "palette.png", palette)), expected, atol=1e-7)
    cmyk = Image.fromarray(rgb).convert("CMYK")
    expected = np.asarray(cmyk.convert("RGB")).transpose(2, 0, 1) / 255
    np.testing.assert_allclose(read_image(saved(tmp_path / "cmyk.tif", cmyk)), expected, atol=1e-7)


def test_channels_converts_grey_and_colour_either_way(tmp_path):
    rgb = np.zeros((4, 4, 3), np.uint8)
    rgb[..., 0] = 255
    path = saved(tmp_path / "red.png", Image.fromarray(rgb))
    np.testing.assert_allclose(read_image(path, channels=1), np.full((1, 4, 4), 0.299), atol=1e-6)
    grey = saved(tmp_path / "grey.png", Image.fromarray(np.full((4, 4), 51, np.uint8)))
    np.testing.assert_allclose(read_image(grey, channels=3), np.full((3, 4, 4), 0.2), atol=1e-7)


def ink_with_alpha(ink):
    """An 8x8 'LA' picture: an opaque stroke of grey level ``ink`` on a transparent background."""
    levels = np.full((8, 8), 255 - ink, np.uint8)    # colour under the transparency: the opposite of the ink
    alpha = np.zeros((8, 8), np.uint8)
    levels[2:6, 3], alpha[2:6, 3] = ink, 255
    return Image.merge("LA", [Image.fromarray(levels), Image.fromarray(alpha)])


@pytest.mark.parametrize("ink, paper", [(0, 1.0), (255, 0.0)], ids=["black-ink-on-white", "white-ink-on-black"])
@pytest.mark.parametrize("mode, ext", [("LA", "png"), ("RGBA", "png"), ("PA", "png"), ("P", "gif")])
def test_transparency_becomes_paper_opposite_to_the_ink(tmp_path, ink, paper, mode, ext):
    picture = ink_with_alpha(ink)
    if mode in ("P", "PA"):
        picture = picture.convert("RGBA").convert("P", palette=Image.ADAPTIVE)
        picture.info["transparency"] = int(np.asarray(picture)[0, 0])
        options = {"transparency": picture.info["transparency"]}
    else:
        picture, options = picture.convert(mode), {}
    x = read_image(saved(tmp_path / f"ink.{ext}", picture, **options), channels=1)[0]
    assert x[2:6, 3] == pytest.approx(ink / 255) and x[0, 0] == paper and x[7, 7] == paper


def test_a_wrong_channel_count_is_an_argument_error_not_a_file_error(tmp_path):
    path = saved(tmp_path / "grey.png", Image.fromarray(np.zeros((4, 4), np.uint8)))
    with pytest.raises(ValueError, match="channels must be 1, 3 or None, got 2") as err:
        read_image(path, channels=2)
    assert not isinstance(err.value, ImageFileError)


def test_a_transparency_key_keeps_16_bit_depth(tmp_path):
    levels = np.array([[0, 10000, 30000, 65535]], np.uint16)
    path = saved(tmp_path / "keyed16.png", Image.fromarray(levels), transparency=65535)
    assert Image.open(path).mode == "I;16" and "transparency" in Image.open(path).info
    np.testing.assert_allclose(read_image(path)[0, 0], [0, 10000 / 65535, 30000 / 65535, 1.0], atol=1e-6)
    grey = saved(tmp_path / "keyed8.png", Image.fromarray(np.array([[0, 90, 200]], np.uint8)), transparency=200)
    np.testing.assert_allclose(read_image(grey)[0, 0], [0, 90 / 255, 1.0], atol=1e-6)   # paper behind dark ink


def test_exif_rotation_is_applied(tmp_path):
    picture = Image.fromarray(np.zeros((10, 30), np.uint8))
    exif = picture.getexif()
    exif[0x0112] = 6                                     # Orientation: rotate 90 degrees clockwise
    assert read_image(saved(tmp_path / "turned.jpg", picture, exif=exif)).shape == (1, 30, 10)


def test_unreadable_files_are_image_file_errors_naming_them(tmp_path):
    with pytest.raises(ImageFileError, match=r"nothere\.png.*not found"):
        read_image(tmp_path / "nothere.png")
    (tmp_path / "notes.png").write_text("not a picture")
    with pytest.raises(ImageFileError, match=r"notes\.png: cannot read"):
        read_image(tmp_path / "notes.png")
    good = saved(tmp_path / "good.png", Image.fromarray(RAMP16.astype(np.uint16)))
    (tmp_path / "cut.png").write_bytes(good.read_bytes()[:200])
    with pytest.raises(ImageFileError, match=r"cut\.png"):
        read_image(tmp_path / "cut.png")
    assert issubclass(ImageFileError, DatasetError) and issubclass(ImageFileError, NumpynetError)


# ----- one reader for folders, predict and the draw pad ------------------------------------

def format_zoo(folder):
    """The same 28x28 ramp in 8-bit, 16-bit and float formats."""
    folder.mkdir(parents=True)
    saved(folder / "ramp8.png", Image.fromarray(np.round(RAMP * 255).astype(np.uint8)))
    saved(folder / "ramp16.png", Image.fromarray(np.round(RAMP * 65535).astype(np.uint16)))
    saved(folder / "rampf.tif", Image.fromarray(RAMP))
    return sorted(folder.iterdir())


def test_load_folder_scales_every_format_like_read_image(tmp_path):
    files = format_zoo(tmp_path / "ramps" / "ramp")
    ds = datasets.load_folder(tmp_path / "ramps", test_fraction=0)
    assert len(ds.x_train) == len(files)
    for x in ds.x_train:
        np.testing.assert_allclose(x[0], RAMP, atol=0.5 / 255 + 1e-6)   # none clipped white, none made 0/1
    assert (ds.x_train > 0.999).mean() < 0.01
    assert ds.x_train[0].min() == 0 and 0.3 < ds.x_train[0].mean() < 0.7


def test_load_folder_resizes_after_scaling(tmp_path):
    format_zoo(tmp_path / "ramps" / "ramp")
    ds = datasets.load_folder(tmp_path / "ramps", size=(14, 14), test_fraction=0)
    assert ds.x_train.shape == (3, 1, 14, 14)
    np.testing.assert_allclose(ds.x_train.mean(axis=(1, 2, 3)), RAMP.mean(), atol=0.01)


@pytest.mark.parametrize("size", [(0, 28), (28,), (28, -1), (2.5, 28), (True, 28), 28, "auto"])
def test_load_folder_refuses_a_bad_size_before_reading(tmp_path, size):
    # size=None is no longer refused: it follows the folder's images (tests/test_datasets_lab.py)
    format_zoo(tmp_path / "ramps" / "ramp")
    with pytest.raises(ValueError, match=r"load_folder: size must be \(height, width\)"):
        datasets.load_folder(tmp_path / "ramps", size=size)


def test_predict_reads_files_like_load_folder(tmp_path):
    model = zoo.build("mlp", seed=0)
    for path in format_zoo(tmp_path / "ramps"):
        [(_, top)] = predict_files(model, [path], top=1)
        expected = model.predict(prepare(RAMP))[0]
        assert top[0][1] == pytest.approx(expected.max(), abs=1e-3)
