"""Arrays to QImages: the one place pixels cross from NumPy into Qt.

Colour maps are computed with NumPy; every view that shows an array as an
image goes through here, so all of them look alike.
"""
import numpy as np
from PySide6.QtGui import QImage


def rgb_qimage(rgb):
    """A QImage owning a copy of an (H, W, 3) uint8 array."""
    rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
    h, w, _ = rgb.shape
    return QImage(rgb.data, w, h, 3 * w, QImage.Format_RGB888).copy()


def gray_qimage(a, vmin=0.0, vmax=1.0):
    """A grey image of a 2-D array, ``vmin`` black and ``vmax`` white."""
    scaled = np.clip((np.asarray(a, np.float32) - vmin) / max(vmax - vmin, 1e-12), 0, 1)
    g = (scaled * 255).astype(np.uint8)
    return rgb_qimage(np.repeat(g[:, :, None], 3, axis=2))


# Blue - white - red, for signed values such as weights and gradients.
_DIVERGING = np.array([[33, 102, 172], [103, 169, 207], [209, 229, 240], [247, 247, 247],
                       [253, 219, 199], [239, 138, 98], [178, 24, 43]], np.float32)


def diverging_rgb(a, limit=None):
    """(H, W, 3) uint8 colours of a signed array, white at zero, symmetric around it."""
    a = np.asarray(a, np.float32)
    limit = float(limit if limit is not None else np.abs(a).max()) or 1.0
    t = np.clip(a / limit, -1, 1) * 0.5 + 0.5
    pos = t * (len(_DIVERGING) - 1)
    lo = np.floor(pos).astype(int).clip(0, len(_DIVERGING) - 2)
    frac = (pos - lo)[..., None]
    return (_DIVERGING[lo] * (1 - frac) + _DIVERGING[lo + 1] * frac).astype(np.uint8)


def diverging_qimage(a, limit=None):
    return rgb_qimage(diverging_rgb(a, limit))


def heat_rgb(t):
    """The "hot" colour map: 0 black, then red, yellow, 1 white; (..., 3) float in [0, 1]."""
    t = np.clip(np.asarray(t, np.float32), 0, 1)[..., None]
    return np.clip(3 * t - np.array([0, 1, 2], np.float32), 0, 1)


def overlay_rgb(image, heat, strength=0.85):
    """(H, W, 3) uint8: ``image`` (H, W in [0, 1]) dimmed to grey, ``heat`` (in [0, 1]) laid over it."""
    heat = np.clip(heat, 0, 1)[..., None]
    base = np.repeat(np.clip(image, 0, 1)[..., None], 3, axis=2) * 0.6
    alpha = np.clip(heat * 2, 0, 1) * strength
    return (255 * (base * (1 - alpha) + heat_rgb(heat[..., 0]) * alpha)).astype(np.uint8)
