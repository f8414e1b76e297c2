"""Read the images a user wants classified: picture files (Pillow), .npy arrays and IDX files.

Each reader returns (N, 28, 28) float64 pixels in [0, 255], light ink on black, ready for
linclass.preprocess, normalised the way the run's dataset was made (NORMALIZERS); any problem raises
LinclassError with a message that does not name the file (the caller prefixes it).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..data import read_idx
from ..errors import LinclassError
from .garments import normalize_garment
from .normalize import FRAME, normalize_digit, to_grayscale

IMAGE_FORMATS = ("PNG", "JPEG", "BMP", "GIF")
# dataset -> how a picture is brought into the form of that dataset's images
NORMALIZERS = {"mnist": normalize_digit, "fashion-mnist": normalize_garment}
_IDX_MAGIC = b"\x00\x00\x08"
_GZIP_MAGIC = b"\x1f\x8b"


def read_picture(path: str | os.PathLike) -> np.ndarray:
    """A PNG, JPEG, BMP or GIF file (first frame) -> (H, W) float64 grey levels in [0, 255].

    Transparent pixels are laid over white, as an image viewer shows them.
    """
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            if image.format not in IMAGE_FORMATS:
                raise LinclassError(f"{image.format} images are not supported; use one of {', '.join(IMAGE_FORMATS)}")
            image.load()
            if image.width == 0 or image.height == 0:
                raise LinclassError("the image is empty (0 pixels)")
            rgba = np.asarray(image.convert("RGBA"), dtype=np.float64)
    except UnidentifiedImageError:
        raise LinclassError("not an image, a .npy array or an IDX file") from None
    except (OSError, SyntaxError, ValueError) as exc:
        if isinstance(exc, LinclassError):
            raise
        raise LinclassError(f"damaged image file ({exc})") from None
    alpha = rgba[..., 3:] / 255.0
    return to_grayscale(rgba[..., :3] * alpha + 255.0 * (1.0 - alpha))


def read_array(path: str | os.PathLike) -> np.ndarray:
    """A .npy file of shape (28, 28) or (N, 28, 28) -> (N, 28, 28) float64; never unpickles."""
    try:
        array = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as exc:
        raise LinclassError(f"not a readable .npy array ({exc})") from None
    return _stack(array, "array")


def read_idx_images(path: str | os.PathLike) -> np.ndarray:
    """An IDX image file (raw or gzip), e.g. MNIST's t10k-images -> (N, 28, 28) float64."""
    try:
        array = read_idx(path)
    except LinclassError as exc:
        raise LinclassError(str(exc).removeprefix(f"{path}: ")) from None
    return _stack(array, "IDX file")


def _stack(array: np.ndarray, what: str) -> np.ndarray:
    if array.dtype.kind not in "uif" or array.ndim not in (2, 3) or array.shape[-2:] != (FRAME, FRAME):
        raise LinclassError(f"the {what} holds {array.dtype} of shape {array.shape}; "
                            f"expected numbers of shape ({FRAME}, {FRAME}) or (N, {FRAME}, {FRAME})")
    stack = array.reshape(-1, FRAME, FRAME).astype(np.float64)
    if len(stack) == 0:
        raise LinclassError(f"the {what} holds no images (shape {array.shape})")
    if not np.isfinite(stack).all() or stack.min() < 0 or stack.max() > 255:
        raise LinclassError(f"pixel values must be in 0-255; the {what} holds values from "
                            f"{np.nanmin(stack):g} to {np.nanmax(stack):g}")
    return stack


def check_not_scaled(images: np.ndarray) -> np.ndarray:
    """(N, H, W) pixels: refuse ones that look already scaled to [0, 1] (a common mistake)."""
    peak = images.max()
    if 0 < peak <= 1:
        raise LinclassError("pixel values are all in [0, 1]; the image looks already scaled: "
                            "multiply by 255 (linclass expects 0-255 pixels and scales them itself)")
    return images


def check_mnist_style(images: np.ndarray) -> np.ndarray:
    """(N, 28, 28) images used as they are: refuse other sizes and images without ink."""
    if images.shape[-2:] != (FRAME, FRAME):
        raise LinclassError(f"the image is {images.shape[-1]}x{images.shape[-2]} pixels; --as-is needs "
                            f"{FRAME}x{FRAME} images made like the dataset's (drop --as-is to normalise it)")
    blank = images.reshape(len(images), -1).max(axis=1) == 0
    if blank.any():
        where = f"image {int(np.argmax(blank))} is" if len(images) > 1 else "it is"
        raise LinclassError(f"blank image: {where} all 0 (no ink)")
    return images


def load_images(path: str | os.PathLike, as_is: bool = False, dataset: str = "mnist") -> np.ndarray:
    """Any supported file -> (N, 28, 28) float64 in [0, 255], normalised in the form of dataset's images
    (NORMALIZERS: MNIST's digits or Fashion-MNIST's garments) unless as_is."""
    path = Path(path)
    if not path.is_file():
        raise LinclassError("no such file" if not path.exists() else "not a file")
    try:
        with open(path, "rb") as handle:
            head = handle.read(4)
    except OSError as exc:
        raise LinclassError(f"cannot read it: {exc.strerror}") from None
    if path.suffix.lower() == ".npy":
        images = read_array(path)
    elif head[:3] == _IDX_MAGIC or head[:2] == _GZIP_MAGIC:
        images = read_idx_images(path)
    else:
        images = read_picture(path)[None]
    check_not_scaled(images)
    if as_is:
        return check_mnist_style(images)
    normalize = NORMALIZERS[dataset]
    return np.stack([_normalized(normalize, image, index, len(images)) for index, image in enumerate(images)])


def _normalized(normalize, image: np.ndarray, index: int, count: int) -> np.ndarray:
    try:
        return normalize(image)  # each image has its own bounding box: one at a time
    except LinclassError as exc:
        raise LinclassError(f"image {index}: {exc}" if count > 1 else str(exc)) from None
