"""MNIST-style normalisation of a photographed or drawn digit, the way MNIST itself was made.

The same steps, in the same order and with the same arithmetic, are written in JavaScript in
linclass/export/widget.js, so the page in the browser sees what `linclass predict` sees.
"""

from __future__ import annotations

import numpy as np

from ..errors import LinclassError

FRAME = 28  # MNIST images are 28 x 28
BOX = 20  # the digit's longer side, as in MNIST
MIN_CONTRAST = 32.0  # ink less than this many grey levels (of 255) from the background: a blank image
INK_THRESHOLD = 0.3  # the bounding box holds the pixels above this fraction of the strongest ink

NORMALIZATION_STEPS = (
    "convert to grayscale",
    "invert when the background (median of the border pixels) is lighter than the mean, so the ink is light",
    "subtract the background and stretch the ink to 0-255",
    "crop to the ink's bounding box (pixels above 30% of the strongest ink)",
    "scale the longer side to 20 pixels, keeping the aspect ratio, by area averaging (anti-aliased)",
    "place the result in a 28 x 28 frame with its centre of mass at pixel (14, 14), the centre",
)


def to_grayscale(rgb: np.ndarray) -> np.ndarray:
    """(H, W, 3) RGB in [0, 255] -> (H, W) float64 luminance, ITU-R 601 weights (as Pillow's 'L')."""
    rgb = np.asarray(rgb, dtype=np.float64)
    return rgb[..., 0] * 0.299 + rgb[..., 1] * 0.587 + rgb[..., 2] * 0.114


def area_resize_matrix(n_in: int, n_out: int) -> np.ndarray:
    """(n_out, n_in) matrix whose row i averages the input cells covered by output cell i.

    Output cell i spans [i * s, (i + 1) * s) in input coordinates, s = n_in / n_out; each input
    cell is weighted by its overlap, so every row sums to 1 (area averaging, an anti-aliasing filter).
    """
    scale = n_in / n_out
    starts = np.arange(n_out)[:, None] * scale
    cells = np.arange(n_in)[None, :]
    overlap = np.minimum(starts + scale, cells + 1) - np.maximum(starts, cells)
    return np.clip(overlap, 0.0, None) / scale


def checked_gray(gray) -> np.ndarray:
    """gray as a (H, W) float64 array; LinclassError unless it is one grey image with values in [0, 255]."""
    gray = np.asarray(gray, dtype=np.float64)
    if gray.ndim != 2 or min(gray.shape) < 1:
        raise LinclassError(f"expected one (H, W) grey image; got shape {gray.shape}")
    if not np.isfinite(gray).all() or gray.min() < 0 or gray.max() > 255:
        raise LinclassError("pixel values must be finite and in [0, 255]")
    return gray


def light_on_black(gray: np.ndarray) -> np.ndarray:
    """(H, W) grey levels -> (H, W) ink in [0, 255]: light ink on a zero background, its strongest at 255.
    Raises LinclassError for a blank image (nothing stands out from the background)."""
    border = np.concatenate([gray[0], gray[-1], gray[1:-1, 0], gray[1:-1, -1]])
    background = np.median(border)
    if background > gray.mean():  # the background is lighter than the ink: invert
        gray, background = 255.0 - gray, 255.0 - background
    ink = np.clip(gray - background, 0.0, None)
    peak = ink.max()
    if peak < MIN_CONTRAST:
        raise LinclassError(f"blank image: no ink stands out from the background (contrast {peak:.0f} of 255 "
                            f"grey levels, at least {MIN_CONTRAST:.0f} needed)")
    return ink * (255.0 / peak)


def normalize_digit(gray: np.ndarray) -> np.ndarray:
    """(H, W) grey image of one digit, values in [0, 255], any polarity -> (28, 28) float64 in [0, 255].

    The steps are NORMALIZATION_STEPS: light ink on black, cropped to the ink, the longer side
    scaled to 20 pixels and the centre of mass placed at the centre of the 28 x 28 frame. Raises
    LinclassError for a blank image, a non-2-D array, or values outside [0, 255].
    """
    ink = light_on_black(checked_gray(gray))
    rows, cols = np.nonzero(ink > INK_THRESHOLD * 255.0)
    box = scale_longer_side(ink[rows.min():rows.max() + 1, cols.min():cols.max() + 1], BOX)
    return place_by_centre_of_mass(box)


def scale_longer_side(image: np.ndarray, size: int) -> np.ndarray:
    """(H, W) -> (h, w) with the longer side size pixels and the aspect ratio kept, by area averaging."""
    height, width = image.shape
    longer = max(height, width)
    out_h, out_w = (max(1, int(np.floor(n * size / longer + 0.5))) for n in (height, width))
    return area_resize_matrix(height, out_h) @ image @ area_resize_matrix(width, out_w).T


def place_by_centre_of_mass(box: np.ndarray) -> np.ndarray:
    """(h, w) ink with h, w <= 28 -> (28, 28) frame with the ink's centre of mass at pixel (14, 14).

    The shift is a whole number of pixels, so the centre lands in [13.5, 14.5) (MNIST's own range),
    limited so that no ink leaves the frame.
    """
    height, width = box.shape
    total = box.sum()
    centre_y = (box.sum(axis=1) @ np.arange(height)) / total
    centre_x = (box.sum(axis=0) @ np.arange(width)) / total
    # Whole-pixel shifts that land the centre in [13.5, 14.5) on each axis, as in MNIST.
    top = int(np.clip(np.ceil(FRAME / 2 - 0.5 - centre_y), 0, FRAME - height))
    left = int(np.clip(np.ceil(FRAME / 2 - 0.5 - centre_x), 0, FRAME - width))
    frame = np.zeros((FRAME, FRAME))
    frame[top:top + height, left:left + width] = box
    return frame
