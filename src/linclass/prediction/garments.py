"""Fashion-MNIST-style normalisation of a photographed garment, after the steps Fashion-MNIST was made
with (its README: trim the background, resize the longer edge to 28, centre on a 28 x 28 canvas,
negate). Fashion-MNIST also sharpened its images with a Gaussian operator; that step is left out.
"""

from __future__ import annotations

import numpy as np

from .normalize import FRAME, checked_gray, light_on_black, scale_longer_side

TRIM_THRESHOLD = 0.05  # an edge row or column with nothing above 5% of the strongest intensity is background

GARMENT_STEPS = (
    "convert to grayscale",
    "invert when the background (median of the border pixels) is lighter than the mean, so the garment is "
    "light on black (Fashion-MNIST negated its photographs of garments on white)",
    "subtract the background and stretch the garment to 0-255",
    "trim the edge rows and columns with nothing above 5% of the strongest intensity",
    "scale the longer side to 28 pixels, keeping the aspect ratio, by area averaging (anti-aliased)",
    "centre the result in a 28 x 28 frame",
)


def normalize_garment(gray: np.ndarray) -> np.ndarray:
    """(H, W) grey image of one garment, values in [0, 255], any polarity -> (28, 28) float64 in [0, 255].

    The steps are GARMENT_STEPS. Raises LinclassError for a blank image, a non-2-D array, or values
    outside [0, 255].
    """
    light = light_on_black(checked_gray(gray))
    rows, cols = np.nonzero(light > TRIM_THRESHOLD * 255.0)
    box = scale_longer_side(light[rows.min():rows.max() + 1, cols.min():cols.max() + 1], FRAME)
    height, width = box.shape
    top, left = (FRAME - height + 1) // 2, (FRAME - width + 1) // 2  # an odd margin: its extra pixel above, left
    frame = np.zeros((FRAME, FRAME))
    frame[top:top + height, left:left + width] = box
    return frame
