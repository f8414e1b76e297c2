"""A model's file: the run folder's weights.npz format, with the model kind, classes and parameters
added as plain arrays (strings as NumPy unicode). Read back without unpickling, and checked."""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ._io import read_npz, save_npz
from .errors import LinclassError


@dataclass
class ModelFile:
    """What a model file holds: weights (D, K), the kind ("logistic"/"softmax", None in old run
    folders), the sorted classes (K,) or None, and the scalar parameters."""

    weights: np.ndarray
    kind: str | None = None
    classes: np.ndarray | None = None
    params: dict = field(default_factory=dict)


def write_model_file(path, model_file: ModelFile) -> None:
    """Write the arrays of model_file atomically as an uncompressed .npz."""
    extra = {"kind": np.array(model_file.kind)} if model_file.kind is not None else {}
    if model_file.classes is not None:
        extra["classes"] = np.asarray(model_file.classes)
    params = {name: np.asarray(value) for name, value in model_file.params.items() if value is not None}
    save_npz(path, weights=model_file.weights, **extra, **params)


def read_model_file(path, param_names: list[str] | None = None) -> ModelFile:
    """The ModelFile at path; any problem is one LinclassError line naming the file."""
    if not Path(path).is_file():
        raise LinclassError(f"{path} {'is not a file' if Path(path).exists() else 'does not exist'}; give a file "
                            "written by save().")
    try:
        arrays = read_npz(path)
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise LinclassError(f"{path} is not a readable model file ({exc}); give a file written by save().") from None
    if "weights" not in arrays:
        raise LinclassError(f"{path}: no 'weights' array (found {sorted(arrays)}); give a file written by save().")
    kind = arrays.get("kind")
    if kind is not None and not (kind.shape == () and kind.dtype.kind == "U"):
        raise LinclassError(f"{path}: kind must be a string; got {kind!r}.")
    classes = arrays.get("classes")
    if classes is not None and (classes.ndim != 1 or classes.dtype.kind not in "iu" or np.any(np.diff(classes) <= 0)):
        raise LinclassError(f"{path}: classes must be sorted distinct integers; got {classes!r}.")
    params = {}
    for name in (param_names or []):
        if name in arrays:
            if arrays[name].shape != () or arrays[name].dtype.kind not in "fiub":
                raise LinclassError(f"{path}: {name} must be a single number or boolean; got {arrays[name]!r}. "
                                    "Give a file written by save().")
            params[name] = arrays[name].item()
    return ModelFile(arrays["weights"], None if kind is None else str(kind),
                     None if classes is None else classes.astype(np.int64), params)
