"""Read the images a user wants classified: picture files (Pillow), .npy arrays and IDX files.

read_images gives a file's (N, 28, 28) stack as stored (or one picture's grey levels), checked;
prepare_images brings images into the run's dataset's form (NORMALIZERS), float64 in [0, 255], light
ink on black, ready for linclass.preprocess, a slice at a time if the caller wishes. Any problem raises
LinclassError with a message that does not name the file (the caller prefixes it).
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np

from .._npz import read_npy
from ..data import read_idx
from ..errors import LinclassError
from .garments import normalize_garment
from .normalize import FRAME, normalize_digit, to_grayscale

IMAGE_FORMATS = ("PNG", "JPEG", "BMP", "GIF")
# dataset -> how a picture is brought into the form of that dataset's images
NORMALIZERS = {"mnist": normalize_digit, "fashion-mnist": normalize_garment}
MAX_PICTURE_PIXELS = 50_000_000  # a 50-megapixel photo; anything larger is refused before it is decoded
MAX_ARRAY_BYTES = 1 << 30  # a .npy of images: 1 GB of uint8 is 1.3 million 28 x 28 images
MAX_SIDE = 2048  # a larger picture is first reduced by a whole factor (box averaging) to at most this side
ROWS_AT_ONCE = 512  # a picture's rows converted to grey levels at a time, so memory stays near its size
_IDX_MAGIC = b"\x00\x00\x08"
_GZIP_MAGIC = b"\x1f\x8b"


def read_picture(path) -> np.ndarray:
    """A PNG, JPEG, BMP or GIF file (first frame) -> (H, W) float64 grey levels in [0, 255].

    Turned upright by its EXIF orientation (as a phone photo is shown); 16-bit grey levels scaled to
    0-255; transparent pixels laid over white, as an image viewer shows them; a side over MAX_SIDE
    reduced first (_reduced). Pictures over MAX_PICTURE_PIXELS are refused from their header.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    too_large = (f"the image has more than {MAX_PICTURE_PIXELS // 10**6} megapixels, more than predict reads; "
                 "scale it down first")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                if image.format not in IMAGE_FORMATS:
                    raise LinclassError(f"{image.format} images are not supported; use one of "
                                        f"{', '.join(IMAGE_FORMATS)}")
                if image.width * image.height > MAX_PICTURE_PIXELS:
                    raise LinclassError(f"{too_large} (it is {image.width}x{image.height})")
                image.load()
                if image.width == 0 or image.height == 0:
                    raise LinclassError("the image is empty (0 pixels)")
                return _grey_levels(_reduced(ImageOps.exif_transpose(image)))
    except Image.DecompressionBombError:
        raise LinclassError(too_large) from None
    except UnidentifiedImageError:
        raise LinclassError("not an image, a .npy array or an IDX file") from None
    except (OSError, SyntaxError, ValueError) as exc:
        if isinstance(exc, LinclassError):
            raise
        raise LinclassError(f"damaged image file ({exc})") from None


def _reduced(image):
    """image, or for a side over MAX_SIDE, image reduced by the smallest whole factor that brings both sides
    to MAX_SIDE or less, each pixel the mean of its box (the normalisation later shrinks the ink to 20 pixels
    by area averaging anyway): memory then stays small whatever the camera."""
    factor = -(-max(image.size) // MAX_SIDE)
    if factor <= 1:
        return image
    if image.mode.startswith("I;16"):
        image = image.convert("I")  # the same 16-bit values, in a mode reduce() takes
    elif image.mode not in ("L", "LA", "RGB", "RGBA", "I", "F"):
        image = image.convert("RGBA" if "A" in image.getbands() or "transparency" in image.info else "RGB")
    return image.reduce(factor)


def _grey_levels(image) -> np.ndarray:
    """A decoded Pillow image -> (H, W) float64 grey levels in [0, 255], ROWS_AT_ONCE rows at a time."""
    if image.mode.startswith("I;16") or image.mode in ("I", "F"):  # one channel of 16 or 32 bits
        grey = np.asarray(image, dtype=np.float64)
        if image.mode != "F" and 255 < grey.max() <= 65535 and grey.min() >= 0:
            return grey / 257.0  # 16-bit grey levels, 65535 white (a 16-bit file holding 0-255 is read as it is)
        if not np.isfinite(grey).all() or grey.min() < 0 or grey.max() > 255:
            raise LinclassError(f"a {image.mode} image with values from {np.nanmin(grey):g} to {np.nanmax(grey):g}; "
                                "save it as an 8- or 16-bit image")
        return grey
    rgba = np.asarray(image.convert("RGBA"))  # uint8
    grey = np.empty(rgba.shape[:2])
    for start in range(0, len(rgba), ROWS_AT_ONCE):
        block = rgba[start:start + ROWS_AT_ONCE].astype(np.float64)
        alpha = block[..., 3:] / 255.0
        grey[start:start + ROWS_AT_ONCE] = to_grayscale(block[..., :3] * alpha + 255.0 * (1.0 - alpha))
    return grey


def read_array(path: str | os.PathLike) -> np.ndarray:
    """A .npy file of shape (28, 28) or (N, 28, 28) -> (N, 28, 28), its dtype kept; never unpickles, and
    its header is checked before its data is allocated."""
    try:
        array = read_npy(path, MAX_ARRAY_BYTES)
    except (OSError, ValueError, EOFError) as exc:
        raise LinclassError(f"not a readable .npy array ({exc})") from None
    return _stack(array, "array")


def read_idx_images(path: str | os.PathLike) -> np.ndarray:
    """An IDX image file (raw or gzip), e.g. MNIST's t10k-images -> (N, 28, 28), its dtype kept."""
    try:
        array = read_idx(path)
    except LinclassError as exc:
        raise LinclassError(str(exc).removeprefix(f"{path}: ")) from None
    return _stack(array, "IDX file")


def _stack(array: np.ndarray, what: str) -> np.ndarray:
    if array.dtype.kind not in "uif" or array.ndim not in (2, 3) or array.shape[-2:] != (FRAME, FRAME):
        raise LinclassError(f"the {what} holds {array.dtype} of shape {array.shape}; "
                            f"expected numbers of shape ({FRAME}, {FRAME}) or (N, {FRAME}, {FRAME})")
    stack = array.reshape(-1, FRAME, FRAME)  # as stored: converted to floats a slice at a time (prepare_images)
    if len(stack) == 0:
        raise LinclassError(f"the {what} holds no images (shape {array.shape})")
    if stack.dtype.kind == "f" and not np.isfinite(stack).all():
        raise LinclassError(f"the {what} holds NaN or infinity; give pixel values in 0-255")
    if stack.min() < 0 or stack.max() > 255:
        raise LinclassError(f"pixel values must be in 0-255; the {what} holds values from "
                            f"{stack.min():g} to {stack.max():g}")
    return stack


def check_not_scaled(images: np.ndarray) -> np.ndarray:
    """(N, H, W) pixels: refuse ones that look already scaled to [0, 1] (a common mistake)."""
    peak = images.max()
    if 0 < peak <= 1:
        raise LinclassError("pixel values are all in [0, 1]; the image looks already scaled: "
                            "multiply by 255 (linclass expects 0-255 pixels and scales them itself)")
    return images


def check_mnist_style(images: np.ndarray, first: int = 0, count: int | None = None) -> np.ndarray:
    """(N, 28, 28) images used as they are: refuse other sizes and images without ink. first and count
    (default N) number them in messages when they are a slice of a file's images."""
    if images.shape[-2:] != (FRAME, FRAME):
        raise LinclassError(f"the image is {images.shape[-1]}x{images.shape[-2]} pixels; --as-is needs "
                            f"{FRAME}x{FRAME} images made like the dataset's (drop --as-is to normalise it)")
    blank = images.reshape(len(images), -1).max(axis=1) == 0
    if blank.any():
        where = f"image {first + int(np.argmax(blank))} is" if (count or len(images)) > 1 else "it is"
        raise LinclassError(f"blank image: {where} all 0 (no ink)")
    return images


def load_images(path: str | os.PathLike, as_is: bool = False, dataset: str = "mnist") -> np.ndarray:
    """Any supported file -> (N, 28, 28) float64 in [0, 255], normalised in the form of dataset's images
    (NORMALIZERS: MNIST's digits or Fashion-MNIST's garments) unless as_is."""
    return prepare_images(read_images(path), as_is, dataset)


def read_images(path: str | os.PathLike) -> np.ndarray:
    """Any supported file -> its images, checked: (N, 28, 28) as stored for an array or IDX file, (1, H, W)
    float64 grey levels for a picture; all in [0, 255], not already scaled to [0, 1]."""
    path = Path(path)
    if not path.is_file():
        try:
            path.stat()
        except OSError as exc:
            raise LinclassError("no such file" if isinstance(exc, FileNotFoundError) and not path.is_symlink()
                                else f"cannot read it: {exc.strerror}") from None
        raise LinclassError("not a file")
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
    return check_not_scaled(images)


def prepare_images(images: np.ndarray, as_is: bool = False, dataset: str = "mnist", first: int = 0,
                   count: int | None = None) -> np.ndarray:
    """images (n, H, W) from read_images -> (n, 28, 28) float64 in the form of dataset's images (as they are
    with as_is); first and count (default n) number them in messages when they are a slice of a file's."""
    count = len(images) if count is None else count
    if as_is:
        return check_mnist_style(images, first, count).astype(np.float64)
    normalize = NORMALIZERS[dataset]
    return np.stack([_normalized(normalize, image.astype(np.float64), first + index, count)
                     for index, image in enumerate(images)])


def _normalized(normalize, image: np.ndarray, index: int, count: int) -> np.ndarray:
    try:
        return normalize(image)  # each image has its own bounding box: one at a time
    except LinclassError as exc:
        raise LinclassError(f"image {index}: {exc}" if count > 1 else str(exc)) from None
