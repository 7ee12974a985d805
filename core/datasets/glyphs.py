"""Digit glyphs rendered once, for the synthetic digits: from fonts and from pen strokes.

Pillow's bundled font (``ImageFont.load_default(size=...)``) needs no system
fonts, so this works on a fresh machine; every TrueType font found on the
system adds variety. A font whose digits do not look like the bundled
font's digits (a symbol font, boxes for missing glyphs) is left out.
Rendering is the slow part, so the bank is built once per process.
"""
import functools
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from .pen_digits import SKELETONS, draw_pen_digit

CANVAS = 64          # side of a cached glyph image, pixels
INK_HEIGHT = 40      # height of a digit's ink in the canvas (about 2x the 20 pixels of MNIST)
STROKES = (0, 1, 2)      # extra stroke widths (canvas pixels) rendered for each font
PEN_WIDTHS = (3, 5, 7)   # pen widths (canvas pixels) of the stroke-drawn digits
FONT, PEN = 0, 1         # kinds of glyph
MAX_FONTS = 24
_BLUR = 1.0          # pre-filter (canvas pixels) so sampling at half resolution does not alias


@dataclass(frozen=True)
class GlyphBank:
    images: np.ndarray    # (K, CANVAS, CANVAS) float32 in [0, 1], light on dark
    digits: np.ndarray    # (K,) which digit each image shows
    kinds: np.ndarray     # (K,) FONT or PEN
    centres: np.ndarray   # (K, 2) centre of mass (y, x)
    outlines: np.ndarray  # (K, P, 2) outermost ink points (y, x), for bounding boxes after a warp
    fonts: tuple          # names of the fonts used


@functools.lru_cache(maxsize=1)
def glyph_bank():
    """Every digit from every usable font at every stroke width, and every pen-drawn
    variant at every pen width."""
    fonts = _usable_fonts()
    images, digits, kinds = [], [], []
    for font in fonts.values():
        for stroke in STROKES:
            for d in range(10):
                images.append(_render(font, str(d), stroke))
                digits.append(d)
                kinds.append(FONT)
    for d, variants in SKELETONS.items():
        for strokes in variants:
            for width in PEN_WIDTHS:
                images.append(_finish(draw_pen_digit(strokes, INK_HEIGHT, width, CANVAS)))
                digits.append(d)
                kinds.append(PEN)
    images = np.stack(images)
    return GlyphBank(images, np.array(digits), np.array(kinds), _centres(images), _outlines(images),
                     tuple(fonts))


def _usable_fonts():
    """{name: font at the size that draws digits INK_HEIGHT tall}: the bundled font and every
    system font whose digits look like digits."""
    bundled = _sized(_bundled_font)
    reference = _digit_shapes(bundled)
    fonts = {"Pillow default": bundled}
    for path in font_files():
        try:
            font = _sized(functools.partial(ImageFont.truetype, str(path)))
            usable = _looks_like_digits(_digit_shapes(font), reference)
        except (OSError, ValueError):
            continue
        if usable:
            fonts.setdefault(path.stem, font)
    return fonts


def font_files(limit=MAX_FONTS):
    """TrueType/OpenType files in the usual font folders, an even spread of at most ``limit``."""
    found = set()
    for folder in _font_dirs():
        if folder.is_dir():
            for dirpath, _, files in os.walk(folder):
                found.update(Path(dirpath) / f for f in files if f.lower().endswith((".ttf", ".otf")))
    found = sorted(found)
    if len(found) > limit:
        found = [found[i] for i in np.linspace(0, len(found) - 1, limit).astype(int)]
    return found


def _font_dirs():
    home = Path.home()
    if sys.platform == "win32":
        return [Path(os.environ.get("WINDIR", "C:/Windows")) / "Fonts"]
    if sys.platform == "darwin":
        return [Path("/System/Library/Fonts"), Path("/Library/Fonts"), home / "Library/Fonts"]
    return [Path("/usr/share/fonts"), Path("/usr/local/share/fonts"), home / ".fonts",
            home / ".local/share/fonts"]


def _bundled_font(size):
    try:
        return ImageFont.load_default(size=size)
    except (TypeError, AttributeError, ImportError):     # Pillow < 10.1 or no FreeType
        return ImageFont.load_default()


def _sized(loader):
    """The font from ``loader(size)`` at the size where its digits are INK_HEIGHT tall."""
    top, bottom = loader(100).getbbox("0")[1::2]
    if bottom <= top:
        raise ValueError("the font draws no '0'")
    return loader(max(1, round(100 * INK_HEIGHT / (bottom - top))))


def _render(font, text, stroke):
    """One glyph, light on dark, its ink centred on the canvas (a bitmap font's scaled up)."""
    page = Image.new("L", (3 * CANVAS, 3 * CANVAS))
    ImageDraw.Draw(page).text((CANVAS, CANVAS), text, fill=255, font=font,
                              stroke_width=stroke, stroke_fill=255)
    box = page.getbbox()
    if box is None:
        raise ValueError(f"the font draws no {text!r}")
    ink = page.crop(box)
    grow = INK_HEIGHT / ink.height if ink.height < 0.8 * INK_HEIGHT else 1.0
    fit = min(grow, (CANVAS - 8) / max(ink.size))
    if fit != 1.0:
        ink = ink.resize((max(1, round(ink.width * fit)), max(1, round(ink.height * fit))), Image.LANCZOS)
    canvas = Image.new("L", (CANVAS, CANVAS))
    canvas.paste(ink, ((CANVAS - ink.width) // 2, (CANVAS - ink.height) // 2))
    return _finish(canvas)


def _finish(canvas):
    return np.asarray(canvas.filter(ImageFilter.GaussianBlur(_BLUR)), np.float32) / 255


def _digit_shapes(font):
    """The ten digits as small normalised 16x16 silhouettes, for comparing fonts."""
    shapes = []
    for d in range(10):
        glyph = _render(font, str(d), 0)
        rows, cols = np.flatnonzero(glyph.max(1) > 0.3), np.flatnonzero(glyph.max(0) > 0.3)
        if not len(rows):
            raise ValueError(f"the font draws no {d}")
        crop = Image.fromarray((glyph[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1] * 255).astype(np.uint8))
        small = np.asarray(crop.resize((16, 16), Image.BILINEAR), np.float32).ravel()
        shapes.append((small - small.mean()) / (small.std() + 1e-6))
    return np.stack(shapes)


def _looks_like_digits(shapes, reference):
    """At least 8 of the ten digits are closest to the same digit of the bundled font."""
    similarity = shapes @ reference.T
    return (similarity.argmax(axis=1) == np.arange(10)).sum() >= 8


def _centres(images):
    mass = images.sum(axis=(1, 2))
    grid = np.arange(images.shape[1], dtype=np.float32)
    return np.stack([(images.sum(2) @ grid) / mass, (images.sum(1) @ grid) / mass], axis=1)


def _outlines(images, threshold=0.05, directions=32):
    """Each glyph's outermost ink points in many directions: after any linear map, the
    bounding box of these is the glyph's (to a fraction of a pixel)."""
    angles = np.linspace(0, np.pi, directions, endpoint=False)
    toward = np.stack([np.cos(angles), np.sin(angles)]).astype(np.float32)     # (2, directions)
    outlines = []
    for image in images:
        corners = _row_ends(image > threshold)
        reach = corners @ toward
        outlines.append(np.concatenate([corners[reach.argmax(0)], corners[reach.argmin(0)]]))
    return np.stack(outlines)


def _row_ends(ink):
    """The corners of the first and last ink pixel of each row: no other pixel can be outermost."""
    rows = np.flatnonzero(ink.any(axis=1))
    first = ink[rows].argmax(axis=1)
    last = ink.shape[1] - 1 - ink[rows, ::-1].argmax(axis=1)
    ends = np.concatenate([np.stack([rows, first], 1), np.stack([rows, last], 1)]).astype(np.float32)
    return (ends[:, None, :] + np.array([[-.5, -.5], [-.5, .5], [.5, -.5], [.5, .5]], np.float32)).reshape(-1, 2)
