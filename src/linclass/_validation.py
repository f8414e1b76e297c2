"""The one home for parameter checks: each raises LinclassError naming the parameter, the allowed
values and the value received."""

from __future__ import annotations

import math
import operator

import numpy as np

from .errors import LinclassError


def is_number(value) -> bool:
    """A real number (int or float, NumPy's included), but not a bool."""
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def check_int(name: str, value, minimum: int = 1) -> int:
    """An integer (not a bool) >= minimum, as a Python int."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise LinclassError(f"{name} must be an integer >= {minimum}; got {value!r}.")
    return int(value)


def check_count(name: str, value, available: int) -> int:
    """An integer in [1, available]."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 1 <= value <= available:
        raise LinclassError(f"{name} must be between 1 and {available}; got {value!r}.")
    return int(value)


def check_positive_float(name: str, value) -> float:
    """A finite number > 0, as a float."""
    if not is_number(value) or not math.isfinite(value) or value <= 0:
        raise LinclassError(f"{name} must be a finite number > 0; got {value!r}.")
    return float(value)


def check_non_negative_float(name: str, value) -> float:
    """A finite number >= 0, as a float."""
    if not is_number(value) or not math.isfinite(value) or value < 0:
        raise LinclassError(f"{name} must be a finite number >= 0; got {value!r}.")
    return float(value)


def check_features(X, name: str = "X", n_features: int | None = None) -> np.ndarray:
    """X must be a finite floating (N, D) array, with D == n_features when given."""
    if not isinstance(X, np.ndarray):
        raise LinclassError(f"{name} must be a NumPy array; got {type(X).__name__}.")
    if X.ndim != 2 or 0 in X.shape:
        raise LinclassError(f"{name} must be a non-empty (N, D) array; got shape {X.shape}.")
    if X.dtype not in (np.float32, np.float64):
        raise LinclassError(f"{name} must be float32 or float64; got {X.dtype}. Use linclass.preprocess(images).")
    if n_features is not None and X.shape[1] != n_features:
        raise LinclassError(f"{name} has {X.shape[1]} features; the model expects {n_features} "
                            "(784 pixels + 1 bias, as made by linclass.preprocess).")
    if not np.isfinite(X).all():
        raise LinclassError(f"{name} contains NaN or infinity; clean the input first.")
    return X


def check_labels(y, n_rows: int, n_classes: int, name: str = "y") -> np.ndarray:
    """y must be (N,) integers in [0, n_classes) with N == n_rows."""
    y = np.asarray(y)
    if y.ndim != 1 or len(y) != n_rows:
        raise LinclassError(f"{name} must have shape ({n_rows},) to match X; got {y.shape}.")
    if not (np.issubdtype(y.dtype, np.integer) or np.issubdtype(y.dtype, np.bool_)):
        raise LinclassError(f"{name} must hold integer labels; got dtype {y.dtype}.")
    if len(y) and (y.min() < 0 or y.max() >= n_classes):
        raise LinclassError(f"{name} must be in [0, {n_classes}); got values {y.min()} to {y.max()}.")
    return y.astype(np.int64, copy=False)


def validate_digits(digits) -> tuple[int, int]:
    """Check a pair of distinct digits in 0-9 and return it as two ints."""
    try:
        if any(isinstance(d, bool) for d in digits):
            raise TypeError
        pair = tuple(operator.index(d) for d in digits)  # integers only: 2.7 and "2" are not digits
    except TypeError:
        raise LinclassError(f"digits must be two integers in 0-9; got {digits!r}.") from None
    if len(pair) != 2 or any(not 0 <= d <= 9 for d in pair):
        raise LinclassError(f"digits must be two integers in 0-9; got {digits!r}.")
    if pair[0] == pair[1]:
        raise LinclassError(f"digits must differ; got {pair[0]} twice.")
    return pair


def check_choice(name: str, value, choices) -> str:
    """One of choices (compared by equality; the message lists them in order)."""
    if isinstance(value, bool) or value not in tuple(choices):
        raise LinclassError(f"{name} must be one of {', '.join(map(str, choices))}; got {value!r}.")
    return value


def check_bool(name: str, value) -> bool:
    """True or False (NumPy's bool included), as a Python bool."""
    if not isinstance(value, (bool, np.bool_)):
        raise LinclassError(f"{name} must be True or False; got {value!r}.")
    return bool(value)


def check_optional_int(name: str, value, minimum: int = 1) -> int | None:
    """None, or an integer >= minimum (see check_int)."""
    return None if value is None else check_int(name, value, minimum)


def check_subset(name: str, values, choices) -> tuple:
    """A non-empty collection of items from choices, as a tuple in the order of choices."""
    try:
        items = set(values) if not isinstance(values, str) else None
    except TypeError:
        items = None
    if not items or not items <= set(choices):
        raise LinclassError(f"{name} must be a non-empty subset of {', '.join(choices)}; got {values!r}.")
    return tuple(choice for choice in choices if choice in items)
