"""One training run described by a RunConfig: build the split, train the model, summarise the result."""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field, fields, replace

import numpy as np

from .callbacks import METRIC_NAMES, Callback, EarlyStopping
from .data import Mnist
from .errors import LinclassError
from .models import LinearClassifier, LogisticRegression, SoftmaxRegression
from .preprocess import Split, binary_split, ten_class_split, validate_digits
from .trainer import Trainer

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


def make_split(config: RunConfig, mnist: Mnist) -> Split:
    """The training/validation split this config asks for."""
    dtype = DTYPES[config.dtype]
    if config.model == "logistic":
        return binary_split(mnist, config.digits, n_train=config.n_train, n_val=config.n_val, dtype=dtype)
    return ten_class_split(mnist, n_train=config.n_train, n_val=config.n_val, dtype=dtype)


def make_model(config: RunConfig) -> LinearClassifier:
    if config.model == "logistic":
        return LogisticRegression(l2_strength=config.l2, penalize_bias=config.penalize_bias)
    return SoftmaxRegression(l2_strength=config.l2, penalize_bias=config.penalize_bias)


def make_trainer(config: RunConfig, callbacks: list[Callback] = (), stop_event=None,
                 threads: int | None = None) -> Trainer:
    stoppers = [EarlyStopping(patience=config.patience)] if config.patience is not None else []
    return Trainer(learning_rate=config.learning_rate, batch_size=config.batch_size,
                   max_epochs=config.epochs, shuffle=config.shuffle, seed=config.seed,
                   callbacks=stoppers + list(callbacks), stop_event=stop_event, threads=threads)


def train(config: RunConfig, split: Split, callbacks: list[Callback] = (), *,
          resume_from: dict | None = None, stop_event=None) -> LinearClassifier:
    """Train a fresh model as config says on split, or continue an interrupted one (resume_from).

    When stop_event (see checkpoint.stop_on_signals) is set, training ends after the current step;
    the model then has interrupted_ = True and checkpoint_ for a later resume. Sets wall_seconds_.
    """
    config = config.resolved()
    model = make_model(config)
    trainer = make_trainer(config, callbacks, stop_event)
    started = time.perf_counter()
    trainer.fit(model, split.X_train, split.y_train, split.X_val, split.y_val, resume_from=resume_from)
    model.wall_seconds_ = time.perf_counter() - started
    model.checkpoint_ = trainer.checkpoint() if model.interrupted_ else None
    return model


def train_many(configs: list[RunConfig], split: Split,
               callbacks_per_model: list[list[Callback]] | None = None, *, resume_from: dict | None = None,
               stop_event=None, threads: int | None = None) -> list[LinearClassifier]:
    """Train runs that differ only in their L2 settings in lock-step (Trainer.fit_many).

    Each model ends exactly as train() would leave it; they share batches and products, so a
    sweep costs far less than the runs one by one. Sets wall_seconds_ (shared) on every model,
    and checkpoint_ (shared; for resume_from) when stop_event interrupted them.
    """
    configs = [config.resolved() for config in configs]
    base = configs[0]
    for config in configs[1:]:
        if replace(config, l2=base.l2, penalize_bias=base.penalize_bias) != base:
            raise LinclassError("train_many needs runs that differ only in l2 and penalize_bias.")
    models = [make_model(config) for config in configs]
    trainer = make_trainer(base, stop_event=stop_event, threads=threads)
    started = time.perf_counter()
    trainer.fit_many(models, split.X_train, split.y_train, split.X_val, split.y_val,
                     callbacks_per_model=None if callbacks_per_model is None else [
                         [EarlyStopping(patience=base.patience)] * (base.patience is not None) + list(extra)
                         for extra in callbacks_per_model], resume_from=resume_from)
    checkpoint = trainer.checkpoint() if any(model.interrupted_ for model in models) else None
    for model in models:
        model.wall_seconds_ = time.perf_counter() - started
        model.checkpoint_ = checkpoint
    return models


def weight_norms(W: np.ndarray) -> tuple[float, float]:
    """(||W||, ||W||^2) over all entries, bias row included."""
    squared = float(np.sum(W.astype(np.float64) ** 2))
    return math.sqrt(squared), squared


def summarize(model: LinearClassifier) -> dict:
    """The RUN record of a trained model: where it stopped, metrics at stop and at best, weight norms."""
    norm, squared = weight_norms(model.weights_)
    stop = model.early_stop_
    return {
        "early_stop": None if stop is None else {"step": stop.step, "epoch": stop.epoch},
        "steps": model.n_steps_,
        "best_step": model.best_step_,
        "at_stop": _metrics(model.final_metrics_),
        "best": _metrics(model.best_metrics_),
        "weight_norm": norm,
        "weight_norm_squared": squared,
    }


def _metrics(logs: dict | None) -> dict | None:
    return None if logs is None else {name: float(logs[name]) for name in METRIC_NAMES if name in logs}
