"""One training run described by a RunConfig: build the split, train the model, summarise the result."""

from __future__ import annotations

import math
import time
from dataclasses import replace

import numpy as np

from ..data import ImageDataset, dataset_source, load_dataset
from ..errors import LinclassError
from ..models import LinearClassifier, LogisticRegression, SoftmaxRegression
from ..preprocess import Split, binary_split, ten_class_split
from ..training import METRIC_NAMES, Callback, EarlyStopping, Trainer
from .config import DTYPES, VALIDATIONS_PER_EPOCH, RunConfig


def load_data(config: RunConfig, data_dir: str | None = None) -> ImageDataset:
    """The dataset config was (or will be) trained on, found as linclass.data.load_dataset finds it."""
    return load_dataset(config.dataset, data_dir)


def make_split(config: RunConfig, data: ImageDataset) -> Split:
    """The training/validation(/test) split this config asks for, on its dataset."""
    if data.name != config.dataset:
        raise LinclassError(f"this run was trained on {dataset_source(config.dataset).title}, not on "
                            f"{dataset_source(data.name).title}; load {config.dataset} for it.")
    dtype, sizes = DTYPES[config.dtype], {"n_train": config.train_size, "n_val": config.n_val}
    if config.model == "logistic":
        return binary_split(data, config.classes, **sizes, dtype=dtype, protocol=config.protocol)
    return ten_class_split(data, **sizes, dtype=dtype, protocol=config.protocol)


def held_out_metrics(model: LinearClassifier, split: Split) -> dict | None:
    """The kept weights on the held-out test set, once training is over (None without one)."""
    if split.X_test is None:
        return None
    logits = model.decision_function(split.X_test)
    return {"test_loss": float(model.cross_entropy(logits, split.y_test)),
            "test_accuracy": float(model.score(split.X_test, split.y_test)), "n_test_images": len(split.y_test)}


def make_model(config: RunConfig) -> LinearClassifier:
    if config.model == "logistic":
        return LogisticRegression(l2_strength=config.l2_strength, penalize_bias=config.penalize_bias)
    return SoftmaxRegression(n_classes=10, l2_strength=config.l2_strength, penalize_bias=config.penalize_bias)


def make_callbacks(config: RunConfig, callbacks: list[Callback] = ()) -> list[Callback]:
    """Early stopping as config says (none when patience is None), then the given callbacks."""
    stoppers = [EarlyStopping(patience=config.patience, baseline=config.early_stopping_baseline,
                              restore_best_weights=config.restore_best_weights)] if config.patience is not None else []
    return stoppers + list(callbacks)


def schedule(config: RunConfig) -> dict:
    """The Trainer's keyword arguments for config's schedule: learning rate, batches, epochs, validations."""
    return {"learning_rate": config.learning_rate, "batch_size": config.batch_size,
            "max_epochs": config.max_epochs, "shuffle": config.shuffle, "seed": config.seed,
            "validations_per_epoch": VALIDATIONS_PER_EPOCH}


def make_trainer(config: RunConfig, callbacks: list[Callback] = (), stop_event=None,
                 threads: int | None = None) -> Trainer:
    """A Trainer with config's schedule, early stopping (make_callbacks) and the given callbacks."""
    return Trainer(**schedule(config), callbacks=make_callbacks(config, callbacks), stop_event=stop_event,
                   threads=threads)


def train(config: RunConfig, split: Split, callbacks: list[Callback] = (), *,
          resume_from: dict | None = None, stop_event=None) -> LinearClassifier:
    """Train one model as config says: train_many of one run (see there)."""
    return train_many([config], split, [list(callbacks)], resume_from=resume_from, stop_event=stop_event)[0]


def train_many(configs: list[RunConfig], split: Split,
               callbacks_per_model: list[list[Callback]] | None = None, *, resume_from: dict | None = None,
               stop_event=None, threads: int | None = None, drop_diverged: bool = False) -> list[LinearClassifier]:
    """Train fresh models as configs say on split, or continue interrupted ones (resume_from).

    Runs that differ only in their learning rate and L2 settings (so they share the batch order) train
    in lock-step (Trainer.fit_many): they share batches and products, and each model ends exactly as it
    would alone. When stop_event (see
    training.stop_on_signals) is set, training ends after the current step; the models then have
    interrupted_ = True and checkpoint_ (shared) for a later resume_from. Sets wall_seconds_ (shared).
    A diverging run raises TrainingDiverged, or with drop_diverged leaves the group (its diverged_ says where).
    """
    configs = [config.resolved() for config in configs]
    base = configs[0]
    for config in configs[1:]:
        if replace(config, learning_rate=base.learning_rate, l2_strength=base.l2_strength,
                   penalize_bias=base.penalize_bias) != base:
            raise LinclassError("train_many needs runs that differ only in learning_rate, l2_strength and "
                                "penalize_bias.")
    extra = callbacks_per_model if callbacks_per_model is not None else [[] for _ in configs]
    if len(extra) != len(configs):
        raise LinclassError(f"callbacks_per_model has {len(extra)} lists for {len(configs)} runs; give one per run.")
    models = [make_model(config) for config in configs]
    trainer = Trainer(**schedule(base), stop_event=stop_event, threads=threads, drop_diverged=drop_diverged)
    started = time.perf_counter()
    trainer.fit_many(models, split.X_train, split.y_train, split.X_val, split.y_val,
                     callbacks_per_model=[make_callbacks(base, callbacks) for callbacks in extra],
                     learning_rates=[config.learning_rate for config in configs], resume_from=resume_from)
    wall_seconds = time.perf_counter() - started
    checkpoint = trainer.checkpoint() if any(model.interrupted_ for model in models) else None
    for model in models:
        model.wall_seconds_ = wall_seconds
        model.checkpoint_ = checkpoint
    return models


def weight_norms(W: np.ndarray) -> tuple[float, float]:
    """(||W||, ||W||^2) over all entries, bias row included."""
    squared = float(np.sum(W.astype(np.float64) ** 2))
    return math.sqrt(squared), squared


def summarize(model: LinearClassifier) -> dict:
    """The RUN record of a trained model: where it stopped, the metrics at the stop, of the best (kept)
    weights and of the weights after the last step (final_weights), and the weight norms."""
    norm, squared = weight_norms(model.weights_)
    stop = model.early_stop_
    return {
        "early_stop": None if stop is None else {"step": stop.step, "epoch": stop.epoch},
        "steps": model.n_steps_,
        "best_step": model.best_step_,
        "at_stop": _metrics(model.final_metrics_),
        "best": _metrics(model.best_metrics_),
        "final_weights": _metrics(model.final_weights_metrics_),
        "weight_norm": norm,
        "weight_norm_squared": squared,
    }


def _metrics(logs: dict | None) -> dict | None:
    return None if logs is None else {name: float(logs[name]) for name in METRIC_NAMES if name in logs}
