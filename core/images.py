"""Image files and PIL images as float32 (C, H, W) arrays in [0, 1]: the one place that knows pixel formats.

Folders of images, ``numpynet predict`` and the draw pad all read pictures here,
so the same file gives the same numbers everywhere. Scaling follows the pixel
format, never the picture's own brightest pixel (which would stretch a dim
image and treat every file of a dataset differently):

- 1-bit: 0 or 1; 8-bit (grey, palette, colour): / 255; 16-bit: / 65535
  (Pillow opens 16-bit PNGs as "I;16", or "I" in older versions);
- 32-bit float ("F", e.g. TIFF): taken as it is, so it must lie in [0, 1].

Transparency is flattened onto paper of the colour opposite to the opaque
pixels, so black ink on a transparent background stays visible (and so does
white ink).
"""
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import ImageFileError

_LUMA = np.array([0.299, 0.587, 0.114], np.float32)   # ITU-R 601, as Pillow's "L" conversion
_UNDECODABLE = (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError)
_SIXTEEN_BIT = 65535.0


def read_image(path, channels=None):
    """A (C, H, W) float32 array in [0, 1] of the picture in file ``path``, upright (EXIF applied).

    ``channels``: None keeps grey pictures as 1 channel and colour as 3;
    1 or 3 converts (grey by luma, colour by repeating grey). Raises
    ``ImageFileError`` (a ``DatasetError``) naming the file when it is
    missing, not a picture, or holds values outside its format's range.
    """
    if channels not in (None, 1, 3):
        raise ValueError(f"channels must be 1, 3 or None, got {channels!r}")
    try:
        with Image.open(path) as img:
            img.load()
            img = ImageOps.exif_transpose(img)
    except FileNotFoundError:
        raise ImageFileError(path, "image file not found") from None
    except _UNDECODABLE as e:
        raise ImageFileError(path, f"cannot read the image ({e or type(e).__name__}); "
                                   f"use a PNG, JPEG, BMP, GIF or TIFF picture") from None
    try:
        return to_channels(from_pil(img), channels)
    except ValueError as e:
        raise ImageFileError(path, str(e)) from None


def from_pil(img):
    """(C, H, W) float32 in [0, 1] of a PIL image, scaled by its mode; C is 1 (grey) or 3 (colour)."""
    if img.mode in ("1", "F") or img.mode.startswith("I"):
        return _single_band(img)
    if "A" in img.getbands() or "a" in img.getbands() or "transparency" in img.info:
        with_alpha = img.convert("LA" if img.mode in ("L", "LA", "La") else "RGBA")
        return composite_alpha(_channels_first(np.asarray(with_alpha, np.float32) / 255.0))
    plain = img.convert("L" if img.mode == "L" else "RGB")
    return _channels_first(np.asarray(plain, np.float32) / 255.0)


def _single_band(img):
    """1-bit, 16-bit and float pictures, read at their own depth (Pillow's conversion to "LA"
    would clip them to 8 bits); a transparency key marks the transparent pixels."""
    raw = np.asarray(img)
    grey = (raw.astype(np.float32) if img.mode == "1" else
            _unit_floats(raw.astype(np.float32)) if img.mode == "F" else _sixteen_bit(raw))
    key = img.info.get("transparency")
    if not isinstance(key, (int, float)) or isinstance(key, bool):
        return grey[None]
    return composite_alpha(np.stack([grey, (raw != key).astype(np.float32)]))


def _sixteen_bit(a):
    low, high = int(a.min()), int(a.max())
    if low < 0 or high > _SIXTEEN_BIT:
        raise ValueError(f"integer pixels from {low} to {high} do not fit 16 bits; "
                         f"save the picture as 8- or 16-bit")
    return a.astype(np.float32) / np.float32(_SIXTEEN_BIT)


def _unit_floats(a):
    if not np.isfinite(a).all():
        raise ValueError("the picture holds NaN or infinite pixel values")
    if a.size and (a.min() < 0 or a.max() > 1):
        raise ValueError(f"floating-point pixels must lie in [0, 1], found {a.min():g} to {a.max():g}; "
                         f"rescale the picture or save it as 8- or 16-bit")
    return a


def _channels_first(a):
    return a[None] if a.ndim == 2 else np.ascontiguousarray(np.moveaxis(a, -1, 0))


def composite_alpha(a):
    """(C+1, H, W) with alpha last -> (C, H, W): transparent pixels become paper of the colour
    opposite to the ink, so ink shows either way."""
    colour, alpha = a[:-1], a[-1:]
    opaque = luma(colour)[alpha[0] > 0.5]
    paper = 1.0 if opaque.size and opaque.mean() < 0.5 else 0.0
    return (colour * alpha + paper * (1.0 - alpha)).astype(np.float32)


def luma(x):
    """(H, W) grey levels of a (1, H, W) or (3, H, W) image."""
    return x[0] if len(x) == 1 else np.tensordot(_LUMA, x, axes=1)


def to_channels(x, channels):
    """(C, H, W) as ``channels`` channels (None: as it is): grey by luma, colour by repeating grey."""
    if channels is None or len(x) == channels:
        return x
    return luma(x)[None] if channels == 1 else np.repeat(x, channels, axis=0)


def resize(x, size):
    """(C, H, W) floats in [0, 1] resized to ``size`` (height, width), anti-aliased (Lanczos),
    clipped back into [0, 1] (Lanczos overshoots at sharp edges)."""
    width_height = (int(size[1]), int(size[0]))
    planes = [np.asarray(Image.fromarray(plane).resize(width_height, Image.LANCZOS)) for plane in x]
    return np.clip(np.stack(planes), 0.0, 1.0).astype(np.float32)
