"""A trained run ready to use: its configuration, its fitted model, and the digit each class stands for."""

from __future__ import annotations

import os

import numpy as np

from ..preprocess import preprocess
from ..runs import RunConfig
from ..runs import load_run as _load_run_folder


def load_run(run_dir: str | os.PathLike):
    """(config, model) of a run folder written by `linclass train --out RUN_DIR`.

    The model is fitted: model.predict(X), model.predict_proba(X) and model.score(X, y) take
    X = linclass.preprocess(images), (N, 785), from (N, 28, 28) pixels in [0, 255]. config is the
    run's RunConfig (config.model, config.l2_strength, config.digits, ...). Raises LinclassError when the
    folder is not a complete run.
    """
    config, model, _ = _load_run_folder(run_dir)
    return config, model


def class_digits(config: RunConfig) -> list[int]:
    """The digit of each class index: 0-9 for softmax; [digits[1], digits[0]] for logistic (target 0, 1)."""
    if config.model == "logistic":
        positive, negative = config.digits
        return [negative, positive]
    return list(range(10))


def class_probabilities(model, X: np.ndarray) -> np.ndarray:
    """(N, D) features -> (N, K) probabilities of every class; K = 2 for the logistic model."""
    probs = model.predict_proba(X)
    if probs.ndim == 1:  # the logistic model gives P(class 1) only
        return np.column_stack([1.0 - probs, probs])
    return probs


def predict_images(model, images: np.ndarray) -> np.ndarray:
    """(N, 28, 28) pixels in [0, 255] -> (N, K) class probabilities."""
    return class_probabilities(model, preprocess(images))


def top_classes(probs: np.ndarray, digits: list[int], k: int) -> list[list[tuple[int, float]]]:
    """(N, K) probabilities -> for each row the k most probable (digit, probability), most probable first.

    Ties keep the lower class index first, as argmax does.
    """
    order = np.argsort(-probs, axis=1, kind="stable")[:, :k]
    return [[(digits[c], float(p)) for c, p in zip(row, probs[n, row])] for n, row in enumerate(order)]
