"""One training run described by a RunConfig: build the split, train the model, summarise the result."""

from __future__ import annotations

import math
import time
from dataclasses import replace

import numpy as np

from ..data import Mnist
from ..errors import LinclassError
from ..models import LinearClassifier, LogisticRegression, SoftmaxRegression
from ..preprocess import Split, binary_split, ten_class_split
from ..training import METRIC_NAMES, Callback, EarlyStopping, Trainer
from .config import DTYPES, RunConfig

def make_split(config: RunConfig, mnist: Mnist) -> Split:
    """The training/validation split this config asks for."""
    dtype = DTYPES[config.dtype]
    if config.model == "logistic":
        return binary_split(mnist, config.digits, n_train=config.n_train, n_val=config.n_val, dtype=dtype)
    return ten_class_split(mnist, n_train=config.n_train, n_val=config.n_val, dtype=dtype)


def make_model(config: RunConfig) -> LinearClassifier:
    if config.model == "logistic":
        return LogisticRegression(l2_strength=config.l2, penalize_bias=config.penalize_bias)
    return SoftmaxRegression(n_classes=10, l2_strength=config.l2, penalize_bias=config.penalize_bias)


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
