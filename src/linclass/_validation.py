"""The one home for parameter checks: each raises LinclassError naming the parameter, the allowed
values and the value received."""

from __future__ import annotations

import math
import operator
import warnings

import numpy as np

from .errors import LinclassError
from .features import PixelFeatures


def is_number(value) -> bool:
    """A real number (int or float, NumPy's included), but not a bool."""
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def check_int(name: str, value, minimum: int = 1) -> int:
    """An integer (not a bool) >= minimum, as a Python int."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise LinclassError(f"{name} must be an integer >= {minimum}; got {value!r}.")
    return int(value)


def check_count(name: str, value, available: int, why: str = "") -> int:
    """An integer in [1, available]; why (e.g. ' under the holdout protocol') explains the limit."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 1 <= value <= available:
        raise LinclassError(f"{name} must be between 1 and {available}{why}; got {value!r}.")
    return int(value)


def check_batch_size(batch_size: int, n_rows: int) -> int:
    """A batch size that fits in the n_rows training rows."""
    if batch_size > n_rows:
        raise LinclassError(f"batch_size must be at most the {n_rows} training rows; got {batch_size}.")
    return batch_size


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


def check_optional_baseline(name: str, value) -> float | None:
    """None, or a finite loss >= 0 (an early-stopping baseline, e.g. 1.0), as a float."""
    if value is not None and not (is_number(value) and math.isfinite(value) and value >= 0):
        raise LinclassError(f"{name} must be None or a finite loss >= 0, e.g. 1.0; got {value!r}.")
    return None if value is None else float(value)


def check_seed(value) -> int | None:
    """None or an integer >= 0 (the seed of np.random.default_rng)."""
    return None if value is None else check_int("seed", value, minimum=0)


def check_features(X, name: str = "X", n_features: int | None = None) -> np.ndarray:
    """X must be a finite floating (N, D) array (array-likes go through np.asarray), D == n_features when given."""
    if X is None:
        raise LinclassError(f"{name} must be an (N, D) array of features; got None.")
    try:  # PixelFeatures (float features of uint8 pixels, finite by construction) stay as they are
        X = X if isinstance(X, PixelFeatures) else np.asarray(X)
    except (ValueError, TypeError) as exc:
        raise LinclassError(f"{name} must be an (N, D) array of numbers; got a {type(X).__name__} "
                            f"NumPy cannot read as one ({exc}).") from None
    if X.ndim != 2 or 0 in X.shape:
        raise LinclassError(f"{name} must be a non-empty (N, D) array; got shape {X.shape}.")
    if X.dtype not in (np.float32, np.float64):
        raise LinclassError(f"{name} must be float32 or float64; got {X.dtype}. Use linclass.preprocess(images).")
    if n_features is not None and X.shape[1] != n_features:
        hint = {n_features - 1: "one column short: add the bias column with linclass.preprocess",
                n_features + 1: "one column too many: is the bias column added twice?"}.get(
                    X.shape[1], "prepare it the same way as the features the model was fitted on")
        raise LinclassError(f"{name} has {X.shape[1]} features; the model expects {n_features}, "
                            f"the number of columns it was fitted on ({hint}).")
    if not isinstance(X, PixelFeatures) and not np.isfinite(X).all():
        raise LinclassError(f"{name} contains NaN or infinity; clean the input first.")
    return X


def warn_without_bias(X: np.ndarray) -> None:
    """Warn (UserWarning) when the last column of X (N, D) is not the constant bias column of ones."""
    if not isinstance(X, PixelFeatures) and not np.all(X[:, -1] == 1):
        warnings.warn("the last column of X is not the constant bias column of ones, so the model learns no bias; "
                      "add it with linclass.preprocess(images), or np.hstack([X, np.ones((len(X), 1))]).",
                      UserWarning, stacklevel=4)


def check_labels(y, n_rows: int, name: str = "y") -> np.ndarray:
    """y must be (N,) integer labels (any values) with N == n_rows."""
    if y is None:
        raise LinclassError(f"{name} is missing; pass ({n_rows},) integer labels, one per row.")
    try:
        y = np.asarray(y)
    except (ValueError, TypeError) as exc:
        raise LinclassError(f"{name} must be an (N,) array of integer labels; got {type(y).__name__} ({exc}).") from None
    if y.ndim != 1 or len(y) != n_rows:
        raise LinclassError(f"{name} must have shape ({n_rows},) to match X; got {y.shape}.")
    if not (np.issubdtype(y.dtype, np.integer) or np.issubdtype(y.dtype, np.bool_)):
        raise LinclassError(f"{name} must hold integer labels; got dtype {y.dtype}.")
    return y


def find_classes(y: np.ndarray, n_classes: int | None, name: str = "y") -> np.ndarray:
    """The sorted classes of labels y (N,): 0 .. n_classes-1 when y lies there, else y's distinct values."""
    values = np.unique(y).astype(np.int64)
    if len(values) == 1:
        raise LinclassError(f"{name} holds only one class ({values[0]}); a classifier needs examples of at least two "
                            "classes to learn from.")
    if n_classes is not None and len(values) and values[0] >= 0 and values[-1] < n_classes:
        return np.arange(n_classes, dtype=np.int64)
    wanted = 2 if n_classes is None else n_classes
    if (n_classes is None and len(values) >= 2) or len(values) == n_classes:
        return values
    shown = f"values {values[0]} to {values[-1]}" if len(values) else "no values"
    raise LinclassError(f"{name} must be in [0, {wanted}) or hold {'at least' if n_classes is None else 'exactly'} "
                        f"{wanted} distinct labels; got {len(values)} distinct labels, {shown}.")


def class_indices(y: np.ndarray, classes: np.ndarray, name: str = "y") -> np.ndarray:
    """Labels y (N,) -> (N,) int64 positions in the sorted classes; every label must be one of them."""
    positions = np.searchsorted(classes, y).clip(0, len(classes) - 1)
    unknown = np.unique(y[classes[positions] != y])
    if unknown.size:
        raise LinclassError(f"{name} must hold only the classes the model knows, {classes.tolist()}; "
                            f"got also {unknown[:10].tolist()}.")
    return positions.astype(np.int64)


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


def _listed(values) -> str:
    """A list or tuple as a user typed it ('2, 11'); anything else as its repr."""
    return ", ".join(map(str, values)) if isinstance(values, (list, tuple)) else repr(values)


def check_classes(classes, class_names, name: str = "classes") -> tuple[int, int]:
    """Two distinct classes, each an index in [0, K) or a class name (any case), as two ints.

    class_names: the K names of the dataset's classes ('0'-'9' for MNIST, 'Shirt', ... for Fashion-MNIST);
    name: how the message names the parameter ('classes', or '--classes' on the command line).
    """
    allowed = f"two integers in 0-{len(class_names) - 1}"
    if not str(class_names[0]).isdigit():
        allowed += " or two class names (" + ", ".join(class_names) + ")"
    lookup = {str(label).lower(): index for index, label in enumerate(class_names)}
    try:
        if isinstance(classes, str) or any(isinstance(c, bool) for c in classes):
            raise TypeError
        pair = tuple(lookup[c.strip().lower()] if isinstance(c, str) and c.strip().lower() in lookup
                     else operator.index(int(c) if isinstance(c, str) and c.strip().isdigit() else c)
                     for c in classes)  # integers only: 2.7 is not a class
    except TypeError:
        raise LinclassError(f"{name} must be {allowed}; got {_listed(classes)}.") from None
    if len(pair) != 2 or any(not 0 <= c < len(class_names) for c in pair):
        raise LinclassError(f"{name} must be {allowed}; got {_listed(classes)}.")
    if pair[0] == pair[1]:
        raise LinclassError(f"{name} must differ; got {class_names[pair[0]]} twice.")
    return pair


def check_float_dtype(dtype, name: str = "dtype") -> np.dtype:
    """float32 or float64 (as a NumPy dtype): the working dtypes of features and weights."""
    try:
        found = np.dtype(dtype)
    except TypeError:
        found = None
    if found not in (np.float32, np.float64):
        raise LinclassError(f"{name} must be float32 or float64; got {found.name if found is not None else repr(dtype)}.")
    return found


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


def check_grid(name: str, values, *, minimum: float, inclusive: bool, integer: bool = False) -> tuple:
    """A sweep's list of values for one parameter: non-empty, numbers (integers if integer), each
    >= minimum (> minimum unless inclusive), no value twice; returned as a tuple in the order given."""
    if not isinstance(values, (list, tuple)) or not values:
        raise LinclassError(f"{name} must be a non-empty list of numbers; got {values!r}.")
    values = tuple(values)
    for value in values:
        if not is_number(value) or not math.isfinite(value) or (integer and not isinstance(value, (int, np.integer))):
            kind = "integers" if integer else "finite numbers"
            raise LinclassError(f"{name} must hold only {kind}; got {value!r}.")
        if value < minimum or (value == minimum and not inclusive):
            relation = ">=" if inclusive else ">"
            raise LinclassError(f"{name} must hold numbers {relation} {minimum:g}; got {value!r}.")
    repeated = sorted({value for value in values if values.count(value) > 1})
    if repeated:
        raise LinclassError(f"{name} must not repeat a value; got {repeated[0]!r} more than once in {list(values)}.")
    return tuple(int(value) if integer else float(value) for value in values)
