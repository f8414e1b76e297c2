"""Pixels -> features: scale to [-1, 1], append the bias column, one-hot labels; the splits of the two
protocols.

- assignment: train on the first n_train training images, validate on the first n_val test images
  (the course report's protocol; there is no untouched test set).
- holdout: train on the first n_train (at most 50,000) training images, validate on training images
  50,000-59,999, and keep the 10,000 test images aside for one evaluation after training.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._validation import check_choice, check_classes, check_count, check_float_dtype
from .data import ImageDataset, dataset_source
from .errors import LinclassError
from .features import N_PIXELS, STORED, PixelFeatures, scale_pixels

PROTOCOLS = ("assignment", "holdout")
HOLDOUT_START = 50000  # holdout: training images from here on are the validation set
TRAIN_SIZE_LIMITS = {"assignment": 60000, "holdout": HOLDOUT_START}
TRAIN_SIZE_WHY = {"assignment": " (the training set)",
                  "holdout": " under the holdout protocol (training images 50,000-59,999 are its validation set)"}


def check_train_size(value, protocol: str, name: str = "train_size") -> int:
    """How many of the first training images to train on: 1 to the protocol's limit (TRAIN_SIZE_LIMITS)."""
    return check_count(name, value, TRAIN_SIZE_LIMITS[protocol], TRAIN_SIZE_WHY[protocol])


def preprocess(images: np.ndarray, dtype=np.float64) -> np.ndarray:
    """(N, 28, 28) images (or one (28, 28) image) of pixels in [0, 255] -> (N, 785) features:
    each pixel p becomes p / 127.5 - 1, in [-1, 1], then a constant 1 (the bias input)."""
    images = _check_images(images)
    return _preprocess_into(np.empty((len(images), N_PIXELS + 1), dtype=check_float_dtype(dtype)), images)


def _check_images(images) -> np.ndarray:
    """The public entry's checks: a numeric, non-empty stack of 28 x 28 pixel images in [0, 255]."""
    images = np.asarray(images)
    if images.dtype.kind in "uif" and images.shape == (28, 28):
        images = images[None]  # one image
    if images.dtype.kind not in "uif" or images.ndim < 2 or len(images) == 0:
        raise LinclassError(f"images must be a numeric, non-empty (N, 28, 28) array (or one (28, 28) image) of "
                            f"pixels in [0, 255]; got {images.dtype} of shape {images.shape}.")
    if images.dtype.kind in "iu" and images.dtype != np.uint8:
        low, high = int(images.min()), int(images.max())
        if low < 0 or high > 255:
            raise LinclassError(f"images must hold pixels in [0, 255]; got values from {low} to {high}.")
    if images.dtype.kind == "f":
        if not np.isfinite(images).all():
            raise LinclassError("images contain NaN or infinity; give pixels in [0, 255].")
        low, high = float(images.min()), float(images.max())
        if low < -1e-6 or high > 255 + 1e-6:  # rounding of a resampled image is not an error
            raise LinclassError(f"images must hold pixels in [0, 255]; got values from {low:g} to {high:g}.")
        if high <= 1.0 and high > 0:
            raise LinclassError(f"images look already scaled to [0, 1] (largest value {high:g}); preprocess expects "
                                "pixels in [0, 255] as MNIST stores them: multiply by 255 first.")
    return images


def _preprocess_into(out: np.ndarray, images: np.ndarray) -> np.ndarray:
    images = np.asarray(images)
    if images.dtype.kind not in "uif" or images.ndim < 2:
        raise LinclassError(f"images must be a numeric (N, 28, 28) array of pixels in [0, 255]; "
                            f"got {images.dtype} of shape {images.shape}.")
    flat = images.reshape(len(images), -1)
    if flat.shape[1] != out.shape[1] - 1:
        raise LinclassError(f"each image has {flat.shape[1]} pixels (shape {images.shape[1:]}); expected "
                            f"{out.shape[1] - 1} (28x28).")
    scale_pixels(flat, out[:, :-1])
    out[:, -1] = 1.0
    return out


def one_hot(y: np.ndarray, n_classes: int, dtype=np.float64) -> np.ndarray:
    """(N,) int labels in [0, K) -> (N, K) one-hot rows."""
    y = np.asarray(y)
    if y.ndim != 1 or y.dtype.kind not in "iub":
        raise LinclassError(f"labels must be a (N,) integer array; got {y.dtype} of shape {y.shape}.")
    if y.size and (y.min() < 0 or y.max() >= n_classes):
        raise LinclassError(f"labels must be in [0, {n_classes}); got values from {y.min()} to {y.max()}.")
    Y = np.zeros((len(y), n_classes), dtype=dtype)
    Y[np.arange(len(y)), y] = 1
    return Y


@dataclass(frozen=True)
class Split:
    """Training and validation features (N, 785) and int labels (N,), ready for a model.

    X_train and X_val are PixelFeatures: views of one (N_train + N_val) buffer of uint8 pixels,
    converted to floats (the values preprocess() gives) only as rows are used. X_test (PixelFeatures
    too) and y_test are the held-out test set of the holdout protocol (None under the assignment's,
    whose validation set is the test set); training never reads them. class_names: the name of each model class (for the two-class
    task: target 0, then target 1).
    """

    X_train: PixelFeatures
    y_train: np.ndarray
    X_val: PixelFeatures
    y_val: np.ndarray
    n_classes: int
    description: str
    X_test: PixelFeatures | None = None
    y_test: np.ndarray | None = None
    class_names: tuple[str, ...] = ()
    protocol: str = "assignment"
    dataset: str = "MNIST"  # the dataset's title, for figures


def _stacked(train_images, val_images, dtype) -> tuple[PixelFeatures, PixelFeatures]:
    """Both sets' pixels in one zero-padded (N_train + N_val, 786) uint8 buffer, as features of dtype."""
    n_train = len(train_images)
    pixels = np.zeros((n_train + len(val_images), STORED), dtype=np.uint8)
    for rows, images in ((pixels[:n_train], train_images), (pixels[n_train:], val_images)):
        rows[:, :N_PIXELS] = np.asarray(images, dtype=np.uint8).reshape(len(images), N_PIXELS)
    X = PixelFeatures(pixels, np.dtype(dtype).type)
    return X[:n_train], X[n_train:]


def _check_split_inputs(data, dtype) -> np.dtype:
    """A split's data must be a loaded dataset and its dtype float32 or float64; returns the dtype."""
    if not isinstance(data, ImageDataset):
        raise LinclassError(f"data must be a dataset from linclass.load_dataset(name) or load_mnist(); got "
                            f"{type(data).__name__}.")
    return check_float_dtype(dtype)


def _parts(data: ImageDataset, protocol: str, n_train: int, n_val: int) -> tuple[list, str]:
    """[(images, labels) of training, validation, test or None] and the sentence describing them."""
    check_choice("protocol", protocol, PROTOCOLS)
    check_count("n_train", n_train, min(len(data.train_images), TRAIN_SIZE_LIMITS[protocol]),
                TRAIN_SIZE_WHY[protocol] if protocol == "holdout" else "")
    train = (data.train_images[:n_train], data.train_labels[:n_train])
    if protocol == "assignment":
        check_count("n_val", n_val, len(data.test_images))
        return [train, (data.test_images[:n_val], data.test_labels[:n_val]), None], (
            f"first {n_train} training images, first {n_val} test images as validation")
    check_count("n_val", n_val, max(0, len(data.train_images) - HOLDOUT_START), " under the holdout protocol")
    stop = HOLDOUT_START + n_val
    return [train, (data.train_images[HOLDOUT_START:stop], data.train_labels[HOLDOUT_START:stop]),
            (data.test_images, data.test_labels)], (
        f"first {n_train} training images, training images {HOLDOUT_START}-{stop - 1} as validation, "
        f"{len(data.test_images)} test images held out")


def binary_split(data: ImageDataset, classes=None, *, n_train: int = 20000, n_val: int = 10000,
                 dtype=np.float64, protocol: str = "assignment") -> Split:
    """The two-class task: target 1 for classes[0], 0 for classes[1] (default: the dataset's pair).

    Each set of the protocol (see the module) keeps only the images of either class.
    """
    dtype = _check_split_inputs(data, dtype)
    source = dataset_source(data.name)
    first, second = check_classes(source.default_classes if classes is None else classes, source.class_names)
    parts, where = _parts(data, protocol, n_train, n_val)

    def select(part):
        if part is None:
            return None, None
        images, labels = part
        keep = (labels == first) | (labels == second)
        return images[keep], (labels[keep] == first).astype(np.int64)

    (train_images, y_train), (val_images, y_val), (test_images, y_test) = (select(part) for part in parts)
    if len(y_train) == 0 or len(y_val) == 0:
        raise LinclassError(
            f"{source.class_label(first)} and {source.class_label(second)} leave {len(y_train)} training and "
            f"{len(y_val)} validation images; use more images or other classes."
        )
    X_train, X_val = _stacked(train_images, val_images, dtype)
    X_test = None if test_images is None else _stacked(test_images, test_images[:0], dtype)[0]
    return Split(X_train, y_train, X_val, y_val, 2,
                 f"{source.class_label(first)} (target 1) vs {source.class_label(second)} (target 0) of "
                 f"{source.title}: {where}", X_test, y_test,
                 (source.class_names[second], source.class_names[first]), protocol, source.title)


def ten_class_split(data: ImageDataset, *, n_train: int = 20000, n_val: int = 10000,
                    dtype=np.float64, protocol: str = "assignment") -> Split:
    """The ten-class task on each set of the protocol (see the module)."""
    dtype = _check_split_inputs(data, dtype)
    source = dataset_source(data.name)
    ((train_images, train_labels), (val_images, val_labels), test), where = _parts(data, protocol, n_train, n_val)
    X_train, X_val = _stacked(train_images, val_images, dtype)
    X_test, y_test = ((None, None) if test is None
                      else (_stacked(test[0], test[0][:0], dtype)[0], test[1].astype(np.int64)))
    return Split(X_train, train_labels.astype(np.int64), X_val, val_labels.astype(np.int64), 10,
                 f"ten {'digits' if source.is_digits else 'classes'} of {source.title}: {where}",
                 X_test, y_test, source.class_names, protocol, source.title)
