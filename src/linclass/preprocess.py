"""Pixels -> features: scale to [-1, 1], append the bias column, one-hot labels, the report's splits."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._validation import check_count, validate_digits
from .data import Mnist
from .errors import LinclassError

N_PIXELS = 28 * 28


def preprocess(images: np.ndarray, dtype=np.float64) -> np.ndarray:
    """(N, 28, 28) uint8 images -> (N, 785) features: scaled pixels then a constant 1."""
    return _preprocess_into(np.empty((len(images), N_PIXELS + 1), dtype=dtype), images)


def _preprocess_into(out: np.ndarray, images: np.ndarray) -> np.ndarray:
    dtype = out.dtype.type
    images = np.asarray(images)
    if images.dtype.kind not in "uif" or images.ndim < 2:
        raise LinclassError(f"images must be a numeric (N, 28, 28) array of pixels in [0, 255]; "
                            f"got {images.dtype} of shape {images.shape}.")
    flat = images.reshape(len(images), -1)
    if flat.shape[1] != out.shape[1] - 1:
        raise LinclassError(f"images have {flat.shape[1]} pixels; expected {out.shape[1] - 1} (28x28).")
    np.divide(flat, dtype(127.5), out=out[:, :-1], dtype=dtype)
    out[:, :-1] -= dtype(1.0)
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

    X_train and X_val are views of one (N_train + N_val, 785) buffer, so a trainer can compute
    both sets' outputs with a single matrix product.
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    n_classes: int
    description: str


def _stacked(train_images, val_images, dtype) -> tuple[np.ndarray, np.ndarray]:
    n_train = len(train_images)
    X = np.empty((n_train + len(val_images), N_PIXELS + 1), dtype=dtype)
    _preprocess_into(X[:n_train], train_images)
    _preprocess_into(X[n_train:], val_images)
    return X[:n_train], X[n_train:]


def binary_split(mnist: Mnist, digits: tuple[int, int] = (2, 3), *, n_train: int = 20000,
                 n_val: int = 10000, dtype=np.float64) -> Split:
    """The report's two-digit task: target 1 for digits[0], 0 for digits[1].

    Training: the first n_train training images showing either digit; validation: the same
    from the first n_val test images.
    """
    first, second = validate_digits(digits)
    check_count("n_train", n_train, len(mnist.train_images))
    check_count("n_val", n_val, len(mnist.test_images))

    def select(images, labels, count):
        images, labels = images[:count], labels[:count]
        keep = (labels == first) | (labels == second)
        return images[keep], (labels[keep] == first).astype(np.int64)

    train_images, y_train = select(mnist.train_images, mnist.train_labels, n_train)
    val_images, y_val = select(mnist.test_images, mnist.test_labels, n_val)
    if len(y_train) == 0 or len(y_val) == 0:
        raise LinclassError(
            f"digits {first} and {second} leave {len(y_train)} training and {len(y_val)} validation "
            "images; use more images or other digits."
        )
    X_train, X_val = _stacked(train_images, val_images, dtype)
    return Split(X_train, y_train, X_val, y_val, 2,
                 f"digits {first} (target 1) vs {second} (target 0): first {n_train} training images, "
                 f"first {n_val} test images as validation")


def ten_class_split(mnist: Mnist, *, n_train: int = 20000, n_val: int = 10000,
                    dtype=np.float64) -> Split:
    """The report's ten-digit task: the first n_train training images, n_val test images as validation."""
    check_count("n_train", n_train, len(mnist.train_images))
    check_count("n_val", n_val, len(mnist.test_images))
    X_train, X_val = _stacked(mnist.train_images[:n_train], mnist.test_images[:n_val], dtype)
    return Split(X_train, mnist.train_labels[:n_train].astype(np.int64), X_val,
                 mnist.test_labels[:n_val].astype(np.int64), 10,
                 f"ten digits: first {n_train} training images, first {n_val} test images as validation")
