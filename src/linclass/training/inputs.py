"""The checks of a fit's inputs, once at the boundary: models, data, callbacks and learning rates."""

from __future__ import annotations

import copy

from .._validation import check_batch_size, check_positive_float, warn_without_bias
from ..errors import LinclassError
from .callbacks import EarlyStopping, check_callbacks


def check_models(models) -> list:
    """A non-empty list of linclass models."""
    models = list(models) if isinstance(models, (list, tuple)) else []
    if not models:
        raise LinclassError("fit_many needs a list of one or more models; got none.")
    for model in models:
        if not callable(getattr(model, "prepare_fit", None)):
            raise LinclassError(f"models must be LogisticRegression or SoftmaxRegression objects; got {model!r}.")
    if len({id(model) for model in models}) != len(models):
        raise LinclassError("fit_many got the same model object more than once; pass one object per model "
                            "(sklearn.base.clone(model) or a new one).")
    return models


def per_model_settings(trainer, models: list, callbacks_per_model, learning_rates) -> tuple[list, list]:
    """(callbacks per model, learning rate per model); defaults: copies of the trainer's callbacks, its rate."""
    if callbacks_per_model is None:  # a callback holding the trainer keeps the trainer itself, not a copy
        callbacks_per_model = [copy.deepcopy(trainer.callbacks, {id(trainer): trainer}) for _ in models]
    if learning_rates is None:
        learning_rates = [trainer.learning_rate] * len(models)
    for name, values in (("callbacks_per_model", callbacks_per_model), ("learning_rates", learning_rates)):
        if not isinstance(values, (list, tuple)) or len(values) != len(models):
            raise LinclassError(f"{name} must be a list with one entry per model ({len(models)}); got {values!r}.")
    callbacks_per_model = [check_callbacks(callbacks, "callbacks_per_model") for callbacks in callbacks_per_model]
    owners = {}
    for index, callbacks in enumerate(callbacks_per_model):
        for callback in callbacks:
            if owners.setdefault(id(callback), index) != index:
                raise LinclassError(f"callbacks_per_model gives one {type(callback).__name__} object to models "
                                    f"{owners[id(callback)]} and {index}; each model needs its own (copy.deepcopy it).")
    return (callbacks_per_model,
            [check_positive_float(f"learning_rates[{i}]", rate) for i, rate in enumerate(learning_rates)])


def prepare_data(models: list, callbacks_per_model: list, batch_size: int, X, y, X_val, y_val) -> tuple:
    """Each model checks its parameters and the data (setting classes_); returns (X, y, X_val, y_val),
    labels as class indices."""
    X, y, X_val, y_val = [model.prepare_fit(X, y, X_val, y_val) for model in models][0]
    if len({(type(model), model.n_outputs) for model in models}) != 1:
        raise LinclassError("fit_many needs models of the same kind and number of classes.")
    warn_without_bias(X)
    check_batch_size(batch_size, len(X))
    for callbacks in callbacks_per_model:
        stopper = next((c for c in callbacks if isinstance(c, EarlyStopping)), None)
        if stopper is not None and stopper.monitor.startswith("val") and X_val is None:
            raise LinclassError("early stopping on val_loss needs X_val and y_val; pass them or drop it.")
    return X, y, X_val, y_val
