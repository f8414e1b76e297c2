"""RunConfig: everything that determines one training run, with the course report's defaults."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields

import numpy as np

from .._validation import (check_bool, check_choice, check_classes, check_count, check_int, check_non_negative_float,
                           check_optional_baseline, check_optional_int, check_positive_float)
from ..data import DATASETS
from ..errors import LinclassError
from ..preprocess import HOLDOUT_START, PROTOCOLS, check_train_size

# The course report's settings for each model.
MODEL_DEFAULTS = {
    "logistic": {"learning_rate": 0.05, "batch_size": 128, "max_epochs": 500, "shuffle": False},
    "softmax": {"learning_rate": 0.01, "batch_size": 128, "max_epochs": 50, "shuffle": True},
}
VALIDATIONS_PER_EPOCH = 5  # the report validates every fifth of an epoch
DTYPES = {"float64": np.float64, "float32": np.float32}
# Field names of old config.json files (run folders, checkpoints, reproductions): before issue 8
# (l2, epochs) and before issue 13 (digits, n_train).
RENAMED_FIELDS = {"l2": "l2_strength", "epochs": "max_epochs", "digits": "classes", "n_train": "train_size"}


@dataclass(frozen=True)
class RunConfig:
    """Everything that determines a run; two equal configs on the same data give identical results.

    classes: the two classes of the logistic model, target 1 then target 0 (default: the
    dataset's pair, 2 and 3 for MNIST); None for softmax, which uses all ten. protocol and
    train_size: see linclass.preprocess (train on the first train_size training images).
    """

    model: str = "softmax"
    dataset: str = "mnist"
    classes: tuple[int, int] | None = None
    learning_rate: float | None = None
    batch_size: int | None = None
    max_epochs: int | None = None
    l2_strength: float = 0.0  # J = C + l2_strength * sum(W^2)
    penalize_bias: bool = True
    shuffle: bool | None = None
    patience: int | None = 10  # None: no early stopping
    # The best validation loss starts here (None: infinity); the original assignment code used 1.0.
    early_stopping_baseline: float | None = None
    restore_best_weights: bool = True  # False: keep the weights at the stop, as the original code did
    seed: int = 0
    dtype: str = "float64"
    protocol: str = "assignment"
    train_size: int = 20000
    n_val: int = 10000
    extra: dict = field(default_factory=dict, compare=False)
    # Set on the configs resolved() returns, so a config is checked once however many layers resolve it.
    _checked: bool = field(default=False, init=False, repr=False, compare=False)

    @property
    def digits(self) -> tuple[int, int] | None:
        """The name of `classes` before Fashion-MNIST (the two digits on MNIST)."""
        return self.classes

    def resolved(self) -> "RunConfig":
        """A copy with the model's defaults filled in and every field checked (LinclassError naming it)."""
        if self._checked:
            return self
        values = {f.name: getattr(self, f.name) for f in fields(self) if f.init}
        check_choice("model", self.model, MODEL_DEFAULTS)
        source = DATASETS[check_choice("dataset", self.dataset, DATASETS)]
        for name, default in MODEL_DEFAULTS[self.model].items():
            if values[name] is None:
                values[name] = default
        protocol = check_choice("protocol", self.protocol, PROTOCOLS)
        if self.model == "logistic":
            classes = check_classes(source.default_classes if self.classes is None else self.classes,
                                    source.class_names)
        elif self.classes is not None:
            raise LinclassError(f"classes chooses the two classes of the logistic model; the {self.model} model "
                                f"uses all ten, so leave classes unset (got {self.classes!r}).")
        else:
            classes = None
        values.update(
            classes=classes,
            learning_rate=check_positive_float("learning_rate", values["learning_rate"]),
            batch_size=check_int("batch_size", values["batch_size"]),
            max_epochs=check_int("max_epochs", values["max_epochs"]),
            l2_strength=check_non_negative_float("l2_strength", self.l2_strength),
            penalize_bias=check_bool("penalize_bias", self.penalize_bias),
            shuffle=check_bool("shuffle", values["shuffle"]),
            patience=check_optional_int("patience", self.patience),
            early_stopping_baseline=check_optional_baseline("early_stopping_baseline", self.early_stopping_baseline),
            restore_best_weights=check_bool("restore_best_weights", self.restore_best_weights),
            seed=check_int("seed", self.seed, minimum=0),
            dtype=check_choice("dtype", self.dtype, DTYPES),
            train_size=check_train_size(self.train_size, protocol),
            n_val=check_count("n_val", self.n_val, 60000 - HOLDOUT_START if protocol == "holdout" else 10000),
        )
        if values["patience"] is None and values["early_stopping_baseline"] is not None:
            raise LinclassError("early_stopping_baseline needs early stopping; give a patience or drop the baseline.")
        checked = RunConfig(**values)
        object.__setattr__(checked, "_checked", True)
        return checked

    def to_json(self) -> dict:
        """The config as config.json holds it; classes only where it applies (the logistic model)."""
        data = asdict(self)
        del data["extra"], data["_checked"]
        if self.classes is None:
            del data["classes"]
        else:
            data["classes"] = list(self.classes)
        return data

    @classmethod
    def from_json(cls, data: dict) -> "RunConfig":
        """The config of a config.json, written now or before a renaming (l2, epochs, digits, n_train)."""
        values = {RENAMED_FIELDS.get(key, key): value for key, value in data.items()}
        known = {f.name for f in fields(cls) if f.init and f.name != "extra"}
        unknown = set(values) - known
        if unknown:
            raise LinclassError(f"config has unknown keys {sorted(unknown)}; is it from another version?")
        if len(values) != len(data):
            raise LinclassError(f"config gives a field under its old and its new name ({sorted(data)}); keep one.")
        if values.get("model", "softmax") != "logistic" and "digits" in data:
            del values["classes"]  # configs before issue 13 held digits (2, 3) for softmax too, unused
        if values.get("classes") is not None:
            values["classes"] = tuple(values["classes"])
        return cls(**values)
