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
PEN_WIDTHS = (4, 6, 8)   # pen widths (canvas pixels) of the stroke-drawn digits
FONT, PEN = 0, 1         # kinds of glyph
MAX_FONTS = 24
_BLUR = 1.0          # pre-filter (canvas pixels) so sampling at half resolution does not alias


@dataclass(frozen=True)
class GlyphBank:
    images: np.ndarray    # (K, CANVAS, CANVAS) float32 in [0, 1], light on dark
    digits: np.ndarray    # (K,) which digit each image shows
    kinds: np.ndarray     # (K,) FONT or PEN
    centres: np.ndarray   # (K, 2) centre of mass (y, x)
    outlines: np.ndarray  # (K, P, 2) convex hull of the ink (y, x), padded by repetition
    fonts: tuple          # names of the fonts used

    def select(self, digit, kind):
        return np.flatnonzero((self.digits == digit) & (self.kinds == kind))


@functools.lru_cache(maxsize=1)
def glyph_bank():
    """Every digit from every usable font at every stroke width, and every pen-drawn
    variant at every pen width."""
    fonts, names = _usable_fonts()
    images, digits, kinds = [], [], []
    for loader in fonts:
        for stroke in STROKES:
            for d in range(10):
                images.append(_render(loader, str(d), stroke))
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
                     tuple(names))


def _usable_fonts():
    """The bundled font and every system font whose digits look like digits."""
    reference = _digit_shapes(_bundled_font)
    fonts, names = [_bundled_font], ["Pillow default"]
    for path in font_files():
        loader = functools.partial(_truetype, path)
        try:
            shapes = _digit_shapes(loader)
        except (OSError, ValueError):
            continue
        if _looks_like_digits(shapes, reference):
            fonts.append(loader)
            names.append(path.stem)
    return fonts, names


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


def _truetype(path, size):
    return ImageFont.truetype(str(path), size)


@functools.lru_cache(maxsize=None)
def _font_size(loader):
    """The size at which this font's digits are INK_HEIGHT pixels tall."""
    probe = loader(100)
    top, bottom = probe.getbbox("0")[1], probe.getbbox("0")[3]
    if bottom <= top:
        raise ValueError("the font draws no '0'")
    return max(1, round(100 * INK_HEIGHT / (bottom - top)))


def _render(loader, text, stroke):
    """One glyph, light on dark, its ink centred on the canvas (a bitmap font's scaled up)."""
    font = loader(_font_size(loader))
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


def _digit_shapes(loader):
    """The ten digits as small normalised 16x16 silhouettes, for comparing fonts."""
    shapes = []
    for d in range(10):
        glyph = _render(loader, str(d), 0)
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


def _outlines(images, threshold=0.05):
    """Convex hull of each glyph's ink: enough to find the bounding box after any affine map."""
    hulls = [_convex_hull(_row_ends(image > threshold)) for image in images]
    longest = max(len(h) for h in hulls)
    return np.stack([np.concatenate([h, np.repeat(h[-1:], longest - len(h), axis=0)]) for h in hulls])


def _row_ends(ink):
    """The first and last ink pixel of each row, as pixel corners: the hull needs no others."""
    rows = np.flatnonzero(ink.any(axis=1))
    first = ink[rows].argmax(axis=1)
    last = ink.shape[1] - 1 - ink[rows, ::-1].argmax(axis=1)
    ends = np.concatenate([np.stack([rows, first], 1), np.stack([rows, last], 1)]).astype(np.float32)
    return (ends[:, None, :] + np.array([[-.5, -.5], [-.5, .5], [.5, -.5], [.5, .5]], np.float32)).reshape(-1, 2)


def _convex_hull(points):
    """Andrew's monotone chain; (P, 2) vertices."""
    pts = sorted(set(map(tuple, points.tolist())))
    if len(pts) < 3:
        return np.array(pts, np.float32)

    def half(seq):
        chain = []
        for p in seq:
            while len(chain) >= 2 and _cross(chain[-2], chain[-1], p) <= 0:
                chain.pop()
            chain.append(p)
        return chain[:-1]
    return np.array(half(pts) + half(pts[::-1]), np.float32)


def _cross(o, a, b):
    return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])
