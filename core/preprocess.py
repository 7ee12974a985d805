"""Any image to a model input, made the way the training images were made.

MNIST digits were cropped to their ink, scaled into a 20x20 box keeping their
aspect ratio (anti-aliased), and placed in a 28x28 frame with their centre of
mass at its centre; their pen is about a tenth of their size (``core.pen_width``
widens a far finer one). A network trained on them has only ever seen that, so a
drawing, a photo or a scanned digit goes through the same steps ("mnist" mode)
before it is shown to the network. Fashion-MNIST and Quick, Draw! items fill
their frame instead ("fit" mode). A folder of the user's own pictures was
loaded as it is, only resized, in colour or grey ("resize" mode: no crop, no
change of polarity or colour). The draw pad, "Open image..." and
``numpynet predict`` all come through ``prepare``, so all three agree.
"""
import numpy as np
from PIL import Image

from .errors import NumpynetError, ShapeError
from .images import composite_alpha, from_pil, luma, read_image, resize, to_channels
from .layers.base import fmt_shape
from .pen_width import normalise_pen

MODES = ("mnist", "fit", "resize")
_BOX = 20 / 28                   # MNIST's digit box relative to its frame
_INK = 0.2                       # ink differs from the paper by > 20% of the ink range (crop edge)
_MIN_CONTRAST = 0.1              # an image whose ink differs less than this from its paper is blank


class NothingDrawn(NumpynetError, ValueError):
    """The image has no ink to recognise: an empty canvas or a uniform picture."""


def prepare(image, input_shape=(1, 28, 28), mode="mnist"):
    """A (1, C, H, W) float32 model input in [0, 1], light ink on a dark background.

    ``image``: a PIL image or an array (H, W), (H, W, 3|4), (C, H, W) or
    (1, C, H, W); uint8 or float, any size, either polarity (read from the
    border). ``mode``: "mnist" (crop to the ink, a pen far finer than MNIST's
    widened to MNIST's, fit into 20/28 of the frame, centre of mass at the
    centre), "fit" (crop to the ink, fill the frame, centred) or "resize"
    (the whole picture resized, colours and polarity as they are). Raises
    ``NothingDrawn`` for a blank image (not in "resize" mode: a plain picture
    is still a picture).
    """
    channels, height, width = _check_input_shape(input_shape)
    if mode not in MODES:
        raise ValueError(f"unknown preprocessing mode {mode!r}; expected one of {', '.join(MODES)}")
    if mode == "resize":
        return resize(to_channels(_as_chw(image), channels), (height, width))[None]
    ink = _crop_to_ink(_light_on_dark(to_channels(_as_chw(image), channels)))
    if mode == "fit":
        return _place(_fit(ink, (height, width)), (height, width), by_mass=False)
    if channels == 1:             # a colour picture keeps its colours (and its pen)
        ink = _crop_to_ink(normalise_pen(ink[0])[None])
    box = (max(1, round(height * _BOX)), max(1, round(width * _BOX)))
    return _place(_fit(ink, box), (height, width), by_mass=True)


def gray(image):
    """(H, W) float32 grey levels in [0, 1] of an image as ``prepare`` reads it (transparency flattened).

    The draw pad shows an opened file with this, so what is shown is what is prepared.
    """
    return luma(_as_chw(image))


def class_names(model):
    """The model's class names (``meta['class_names']``), else '0', '1', ..."""
    count = model.output_shape[-1]
    names = model.meta.get("class_names")
    return [str(n) for n in names] if names and len(names) == count else [str(i) for i in range(count)]


# Datasets whose images were made the MNIST way (digit centred by its mass in a
# 20x20 box); every other dataset's images fill their frame.
_MNIST_STYLE = ("mnist", "synthetic-digits")


def mode_for_dataset(name):
    """The preprocessing a model trained on dataset ``name`` expects: 'mnist' or 'fit'
    (``Dataset.preprocessing`` asks it, unless the loader knew better: a folder is 'resize')."""
    return "mnist" if (name or "").lower() in _MNIST_STYLE else "fit"


def preprocessing_mode(model):
    """The mode the model was trained with (``meta['preprocessing']``), "mnist" when unrecorded."""
    mode = model.meta.get("preprocessing") or "mnist"
    if mode not in MODES:
        raise ValueError(f"the model's preprocessing {mode!r} is unknown; expected one of {', '.join(MODES)}")
    return mode


def prepare_for(model, image):
    """``prepare`` with the model's own input shape and preprocessing mode."""
    return prepare(image, model.input_shape, preprocessing_mode(model))


def predict_files(model, paths, top=3):
    """[(path, [(class name, probability), ...best first, ``top`` of them]), ...] per image file.

    Raises ``ImageFileError`` or ``NothingDrawn`` naming the first file that cannot be read
    (``images.read_image`` reads them, as it reads folders of images and the draw pad's files).
    """
    names = class_names(model)
    results = []
    for path in paths:
        try:
            x = prepare_for(model, read_image(path))
        except NothingDrawn as e:
            raise NothingDrawn(f"{path}: {e}") from None
        probs = model.predict(x)[0]
        best = np.argsort(probs)[::-1][:top]
        results.append((str(path), [(names[i], float(probs[i])) for i in best]))
    return results


# ----- reading any image as (C, H, W) floats in [0, 1] ---------------------------------------

def _check_input_shape(input_shape):
    shape = tuple(int(d) for d in input_shape)
    if len(shape) != 3 or shape[0] not in (1, 3) or min(shape) < 1:
        raise ShapeError(f"images can be prepared for an input shape (C, H, W) with 1 or 3 channels, "
                         f"not {fmt_shape(input_shape)}")
    return shape


def _as_chw(image):
    if isinstance(image, Image.Image):
        return from_pil(image)
    a = np.asarray(image)
    if a.ndim == 4 and a.shape[0] == 1:
        a = a[0]
    if a.ndim == 2:
        a = a[None]
    elif a.ndim == 3 and a.shape[-1] in (1, 3, 4) and a.shape[0] not in (1, 3, 4):
        a = np.moveaxis(a, -1, 0)
    elif not (a.ndim == 3 and a.shape[0] in (1, 3, 4)):
        raise ShapeError(f"an image must be (H, W), (H, W, 3), (H, W, 4) or (C, H, W) with C 1 or 3; "
                         f"got an array of shape {fmt_shape(a.shape)}")
    if min(a.shape) < 1:
        raise ShapeError(f"the image is empty: shape {fmt_shape(a.shape)}")
    a = _unit_range(a)
    return composite_alpha(a) if len(a) == 4 else a


def _unit_range(a):
    if a.dtype == bool:
        return a.astype(np.float32)
    a = a.astype(np.float32)
    if not np.isfinite(a).all():
        raise ValueError("the image contains NaN or infinite values")
    top = float(a.max())
    return a / 255.0 if 1.0 < top <= 255.0 else a / top if top > 255.0 else a


# ----- the MNIST recipe ---------------------------------------------------------------------

def _light_on_dark(x):
    """Paper (the border's median) to 0, the strongest ink to 1, whichever is lighter."""
    lum = luma(x)
    paper = float(np.median(np.concatenate([lum[0], lum[-1], lum[:, 0], lum[:, -1]])))
    dark, light = paper - float(lum.min()), float(lum.max()) - paper
    contrast = max(dark, light)
    if contrast < _MIN_CONTRAST:
        raise NothingDrawn("nothing to recognise: the image is blank (no ink differs from the background)")
    ink = paper - x if dark > light else x - paper
    return np.clip(ink / contrast, 0.0, 1.0).astype(np.float32)


def _crop_to_ink(x):
    mask = luma(x) > _INK
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    return x[:, rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]


def _fit(x, box):
    """Scale (C, h, w) to fit ``box`` (rows, cols), keeping the aspect ratio, anti-aliased."""
    _, h, w = x.shape
    scale = min(box[0] / h, box[1] / w)
    return resize(x, (max(1, min(box[0], round(h * scale))), max(1, min(box[1], round(w * scale)))))


def _place(patch, frame, by_mass):
    """Put ``patch`` in a zero frame: centre of mass at the frame's centre, or centred by its box;
    never beyond the frame's edges.

    Whole-pixel shifts, as MNIST did: its digits' centres of mass sit at row and column
    14.0 +- 0.29 (the spread of rounding), i.e. at index ``size / 2``.
    """
    _, ph, pw = patch.shape
    height, width = frame
    if by_mass:
        lum = luma(patch)
        total = float(lum.sum()) or 1.0
        cy = float((lum.sum(axis=1) * np.arange(ph)).sum()) / total
        cx = float((lum.sum(axis=0) * np.arange(pw)).sum()) / total
        top, left = round(height / 2 - cy), round(width / 2 - cx)
    else:
        top, left = (height - ph) // 2, (width - pw) // 2
    top, left = min(max(top, 0), height - ph), min(max(left, 0), width - pw)
    out = np.zeros((len(patch), height, width), np.float32)
    out[:, top:top + ph, left:left + pw] = patch
    return out[None]
