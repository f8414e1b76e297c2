"""RunConfig: everything that determines one training run, with the course report's defaults."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields

import numpy as np

from .._validation import validate_digits
from ..errors import LinclassError

# The course report's settings for each model.
MODEL_DEFAULTS = {
    "logistic": {"learning_rate": 0.05, "batch_size": 128, "epochs": 500, "shuffle": False},
    "softmax": {"learning_rate": 0.01, "batch_size": 128, "epochs": 50, "shuffle": True},
}
DTYPES = {"float64": np.float64, "float32": np.float32}


@dataclass(frozen=True)
class RunConfig:
    """Everything that determines a run; two equal configs on the same data give identical results."""

    model: str = "softmax"
    digits: tuple[int, int] = (2, 3)
    learning_rate: float | None = None
    batch_size: int | None = None
    epochs: int | None = None
    l2: float = 0.0
    penalize_bias: bool = True
    shuffle: bool | None = None
    patience: int | None = 10  # None: no early stopping
    seed: int = 0
    dtype: str = "float64"
    n_train: int = 20000
    n_val: int = 10000
    extra: dict = field(default_factory=dict, compare=False)

    def resolved(self) -> "RunConfig":
        """A copy with the model's defaults filled in and every value checked."""
        if self.model not in MODEL_DEFAULTS:
            raise LinclassError(f"model must be one of {sorted(MODEL_DEFAULTS)}; got {self.model!r}.")
        if self.dtype not in DTYPES:
            raise LinclassError(f"dtype must be one of {sorted(DTYPES)}; got {self.dtype!r}.")
        values = asdict(self)
        for name, default in MODEL_DEFAULTS[self.model].items():
            if values[name] is None:
                values[name] = default
        values["digits"] = validate_digits(self.digits)
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise LinclassError(f"seed must be an integer >= 0; got {self.seed!r}.")
        if not isinstance(values["l2"], (int, float)) or not math.isfinite(values["l2"]) or values["l2"] < 0:
            raise LinclassError(f"l2 must be a finite number >= 0; got {self.l2!r}.")
        return RunConfig(**values)

    def to_json(self) -> dict:
        data = asdict(self)
        data["digits"] = list(self.digits)
        data.pop("extra")
        return data

    @classmethod
    def from_json(cls, data: dict) -> "RunConfig":
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise LinclassError(f"config has unknown keys {sorted(unknown)}; is it from another version?")
        values = dict(data)
        if "digits" in values:
            values["digits"] = tuple(values["digits"])
        return cls(**values)
