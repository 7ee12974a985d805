"""Random shifts, rotations, scalings, elastic distortions and stroke thickness changes of whole batches.

Everything is vectorised over the batch: one sampling grid per batch (each
sample's own affine map and displacement field) read with bilinear
interpolation through NumPy fancy indexing, never a Python loop over
samples, so augmenting costs little next to a training step. Elastic
distortion follows Simard et al. (2003): a smoothed random displacement
field, here smoothed with a Gaussian written as a matrix product. Stroke
thickness is a grey-level dilation or erosion (``thicken``), the one the
lab's ``core.stress.damage(x, "thickness", ...)`` applies too.

``Augment()`` with no arguments changes nothing; ``Sequential.fit`` calls an
instance as ``augment(x_batch, rng)``.
"""
import numpy as np


class Augment:
    """Callable ``augment(x, rng) -> x`` drawing fresh random transforms for every sample.

    shift: largest translation in pixels (uniform in [-shift, shift], each axis).
    rotate: largest rotation in degrees (uniform in [-rotate, rotate]).
    scale: largest relative zoom (factor uniform in [1 - scale, 1 + scale]).
    elastic: typical (rms) displacement of the elastic field in pixels;
    elastic_sigma: its smoothness, in pixels.
    thickness: largest change of stroke width, in pixels per side (radius uniform in
    [-thickness, thickness]: positive thickens, negative thins; see ``thicken``).
    noise: largest standard deviation of Gaussian noise added to each image (its sigma uniform in
    [0, noise]; the result clipped to [0, 1]), so faint specks are not taken for ink.
    flip: the probability of mirroring an image left to right (Keras's RandomFlip("horizontal") at 0.5):
    for clothes, whose two sides look alike, never for digits or letters, which a mirror makes wrong.
    """

    def __init__(self, shift=0.0, rotate=0.0, scale=0.0, elastic=0.0, elastic_sigma=4.0, thickness=0.0, noise=0.0,
                 flip=0.0):
        for name, value in (("shift", shift), ("rotate", rotate), ("scale", scale), ("elastic", elastic),
                            ("thickness", thickness), ("noise", noise), ("flip", flip)):
            if not value >= 0:
                raise ValueError(f"Augment {name} must be >= 0, got {value}")
        if flip > 1:
            raise ValueError(f"Augment flip is a probability, at most 1, got {flip}")
        if scale >= 1:
            raise ValueError(f"Augment scale must be below 1 (a zoom factor of 1 +- scale), got {scale}")
        if not elastic_sigma > 0:
            raise ValueError(f"Augment elastic_sigma must be > 0 pixels, got {elastic_sigma}")
        self.shift, self.rotate, self.scale = float(shift), float(rotate), float(scale)
        self.elastic, self.elastic_sigma = float(elastic), float(elastic_sigma)
        self.thickness, self.noise, self.flip = float(thickness), float(noise), float(flip)

    @property
    def is_identity(self):
        return not (self.shift or self.rotate or self.scale or self.elastic or self.thickness or self.noise
                    or self.flip)

    def __call__(self, x, rng=None):
        x = np.asarray(x, np.float32)
        if self.is_identity or len(x) == 0:
            return x
        rng = np.random.default_rng(rng)
        n, size = len(x), x.shape[-2:]
        dy, dx = rng.uniform(-self.shift, self.shift, (2, n)) if self.shift else (0.0, 0.0)
        angle = rng.uniform(-self.rotate, self.rotate, n) if self.rotate else 0.0
        zoom = rng.uniform(1 - self.scale, 1 + self.scale, n) if self.scale else 1.0
        field = self.elastic * smooth_field(rng, n, size, self.elastic_sigma) if self.elastic else None
        if self.thickness:                  # drawn after the others: a recipe without it keeps its random stream
            x = thicken(x, rng.uniform(-self.thickness, self.thickness, n))
        x = warp(x, dy, dx, angle, zoom, field)
        if self.noise:
            x = add_noise(x, rng.uniform(0, self.noise, n), rng)
        return mirror(x, rng.random(n) < self.flip) if self.flip else x

    def get_config(self):
        return {"shift": self.shift, "rotate": self.rotate, "scale": self.scale,
                "elastic": self.elastic, "elastic_sigma": self.elastic_sigma, "thickness": self.thickness,
                "noise": self.noise, "flip": self.flip}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        args = ", ".join(f"{k}={v:g}" for k, v in self.get_config().items())
        return f"Augment({args})"


def warp(x, dy=0.0, dx=0.0, angle=0.0, scale=1.0, field=None):
    """Move every image of ``x`` ((N, C, H, W) or (N, H, W)) by its own transform.

    Each image is scaled by ``scale`` and rotated by ``angle`` degrees
    (counter-clockwise on screen) about its centre, then shifted by
    (``dy``, ``dx``) pixels; ``field`` (N, 2, H, W) adds a displacement (in
    pixels, y then x) to where each output pixel reads. Scalars apply to all.
    Whole-pixel shifts are exact; what comes in from outside is 0.
    """
    x = np.asarray(x, np.float32)
    n, h, w = len(x), x.shape[-2], x.shape[-1]
    ys, xs = affine_grid(n, (h, w), dy, dx, angle, scale)
    if field is not None:
        ys, xs = ys + field[:, 0], xs + field[:, 1]
    images = x.reshape(-1, h, w)
    channels = len(images) // max(n, 1)
    if channels != 1:                    # every channel of a sample reads the same grid
        ys, xs = np.repeat(ys, channels, axis=0), np.repeat(xs, channels, axis=0)
    return bilinear_sample(images, ys, xs).reshape(x.shape)


def affine_grid(n, size, dy=0.0, dx=0.0, angle=0.0, scale=1.0):
    """Source coordinates (ys, xs), each (n, H, W), that output pixels read for the transforms."""
    h, w = size
    cy, cx = (h - 1) / 2, (w - 1) / 2
    per = [np.broadcast_to(np.asarray(v, np.float32), (n,))[:, None, None] for v in (dy, dx, angle, scale)]
    dy, dx, angle, scale = per
    theta = np.deg2rad(angle)
    cos, sin = np.cos(theta) / scale, np.sin(theta) / scale
    oy = np.arange(h, dtype=np.float32)[None, :, None] - dy - cy
    ox = np.arange(w, dtype=np.float32)[None, None, :] - dx - cx
    return cy + sin * ox + cos * oy, cx + cos * ox - sin * oy


def bilinear_sample(images, ys, xs, index=None, fill=0.0):
    """Read ``images`` (M, H, W) at fractional coordinates ``ys``/``xs`` (N, h, w).

    Sample i reads image ``index[i]`` (default: image i). Points outside read
    ``fill``, fading in over the border pixel like a zero-padded image.
    """
    images = np.asarray(images, np.float32)
    m, h, w = images.shape
    index = np.arange(len(ys)) if index is None else np.asarray(index)
    padded = np.full((m, h + 2, w + 2), fill, np.float32)
    padded[:, 1:-1, 1:-1] = images
    flat = padded.reshape(-1)
    itype = np.int32 if flat.size < 2 ** 31 - 1 else np.int64
    y = np.clip(ys + np.float32(1), 0, h + 1).astype(np.float32)   # padded frame; beyond it: fill
    x = np.clip(xs + np.float32(1), 0, w + 1).astype(np.float32)
    y0 = np.minimum(y.astype(itype), h)          # truncation is floor: y >= 0
    x0 = np.minimum(x.astype(itype), w)
    y -= y0
    x -= x0
    offsets = (index.astype(itype) * itype((h + 2) * (w + 2))).reshape(-1, *([1] * (ys.ndim - 1)))
    base = y0 * itype(w + 2) + x0 + offsets
    top_left, top_right = flat.take(base), flat.take(base + 1)
    top = top_left + x * (top_right - top_left)
    base += w + 2
    bottom_left, bottom_right = flat.take(base), flat.take(base + 1)
    bottom = bottom_left + x * (bottom_right - bottom_left)
    return top + y * (bottom - top)


def smooth_field(rng, n, size, sigma):
    """(n, 2, H, W) float32 random displacement fields, smooth over ``sigma`` pixels and
    scaled to unit standard deviation at every pixel.

    Gaussian bumps of width ``sigma`` on a grid about ``sigma`` apart, with
    random heights: as smooth as blurring per-pixel noise, for a fraction
    of the random numbers. The blur is two matrix products over the batch.
    """
    h, w = size
    ky, kx = _gaussian_matrix(h, sigma), _gaussian_matrix(w, sigma)
    gy, gx = ky.shape[1], kx.shape[1]
    noise = rng.standard_normal((n * 2, gy, gx), dtype=np.float32)
    along_x = (noise.reshape(-1, gx) @ kx.T).reshape(n * 2, gy, w)        # two big products,
    along_y = ky @ along_x.transpose(1, 0, 2).reshape(gy, -1)              # not one per sample
    return along_y.reshape(h, n, 2, w).transpose(1, 2, 0, 3)


def _gaussian_matrix(size, sigma):
    """(size, points) weights of Gaussian bumps on a grid spaced ~sigma (at least 1 pixel
    apart) that reaches ``sigma`` past each edge: a field is ``K @ heights``. Rows have unit
    norm, so a field of unit-variance heights has unit variance at every pixel."""
    spacing = max(float(sigma), 1.0)
    points = int(np.ceil((size - 1 + 2 * sigma) / spacing)) + 1
    centres = np.linspace(-sigma, size - 1 + sigma, points, dtype=np.float32)
    d = np.arange(size, dtype=np.float32)[:, None] - centres[None, :]
    weights = np.exp(-0.5 * (d / sigma) ** 2)
    return (weights / np.sqrt((weights ** 2).sum(axis=1, keepdims=True))).astype(np.float32)


def add_noise(x, sigma, rng):
    """``x`` plus Gaussian noise of standard deviation ``sigma`` (a number, or one per image), clipped to
    [0, 1]: the images' range, so the noise is specks of ink and holes in it, never values a pen cannot make."""
    sigma = np.asarray(sigma, np.float32).reshape(-1, *([1] * (x.ndim - 1)))
    return np.clip(x + sigma * rng.standard_normal(x.shape, dtype=np.float32), 0, 1)


def mirror(x, which):
    """``x`` with the images where ``which`` is True mirrored left to right (a new array)."""
    return np.where(np.asarray(which).reshape(-1, *([1] * (x.ndim - 1))), x[..., ::-1], x)


def thicken(x, radius):
    """Strokes of every image of ``x`` ((N, C, H, W) or (N, H, W)) made thicker or thinner.

    A positive ``radius`` is a grey-level dilation (each pixel becomes the largest value
    within a disk of that radius), a negative one an erosion (the smallest); outside the
    image is background (0). A fractional radius blends the two nearest whole ones, so
    the change grows continuously with it: a 1-pixel line becomes 3 pixels wide at
    radius 1, and half as bright on either side at 0.5. ``radius`` is one number for
    all images or one per image (N,); 0 gives the image back. Returns float32.
    """
    x = np.asarray(x, np.float32)
    radius = np.asarray(radius, np.float32)
    if radius.ndim > 1 or radius.size not in (1, len(x)) or not np.isfinite(radius).all():
        raise ValueError(f"thicken radius must be a finite number or one per image ({len(x)}), got {radius!r}")
    radius = np.broadcast_to(radius.reshape(-1), (len(x),))
    out = x.copy()
    for extreme, chosen in ((np.maximum, radius > 0), (np.minimum, radius < 0)):
        if chosen.any():
            out[chosen] = _blend_disks(x[chosen], np.abs(radius[chosen]), extreme)
    return out


def _blend_disks(x, radius, extreme):
    """``extreme`` over disks of each image's ``radius`` (N,) > 0, a fractional radius
    interpolating between the disks of its floor and its ceiling."""
    whole = np.floor(radius).astype(np.intp)
    frac = (radius - whole).reshape(-1, *([1] * (x.ndim - 1)))
    levels = [x]
    for r in range(1, int(np.ceil(radius.max())) + 1):
        levels.append(_disk_extreme(x, r, extreme))
    stack, rows = np.stack(levels), np.arange(len(x))
    low, high = stack[whole, rows], stack[np.minimum(whole + 1, len(levels) - 1), rows]
    return low + frac * (high - low)


def _disk_extreme(x, radius, extreme):
    """Every pixel replaced by ``extreme`` of the pixels within ``radius`` (a whole number >= 1)
    of it, the image zero-padded: one shifted view per disk offset, the whole batch at once."""
    h, w = x.shape[-2:]
    padded = np.pad(x, [(0, 0)] * (x.ndim - 2) + [(radius, radius)] * 2)
    out = x.copy()
    for dy in range(-radius, radius + 1):
        for dx in range(-radius, radius + 1):
            if 0 < dy * dy + dx * dx <= radius * radius:
                extreme(out, padded[..., radius + dy:radius + dy + h, radius + dx:radius + dx + w], out=out)
    return out
