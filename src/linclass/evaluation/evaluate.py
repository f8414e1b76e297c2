"""Evaluate a trained model on one set of its run: loss, accuracy, per-class metrics, confusion
matrix, and its most confident mistakes."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import LinclassError
from ..prediction import class_probabilities
from .metrics import classification_report, confusion_matrix

SPLITS = ("val", "train", "test")
# What each split is called in messages, the printed description and the figures' titles.
SET_NAMES = {"val": "validation set", "train": "training set", "test": "held-out test set"}
N_MISTAKES = 25


@dataclass(frozen=True)
class EvaluationSet:
    """The features X (N, 785) and int labels y (N,) of one set, a sentence saying what it is, and the
    title of its dataset ("Fashion-MNIST"; empty when unknown)."""

    name: str
    X: np.ndarray
    y: np.ndarray
    description: str
    dataset: str = ""


NO_TEST_IMAGES = ("--split test: this run validated on its dataset's test images (the assignment's protocol), so "
                  "none are left unseen; use --split val, which is those test images, or train with --protocol holdout.")


def check_split(name: str, has_test: bool) -> None:
    """Refuse a split name that does not exist, or 'test' for a run without unseen test images (has_test:
    its protocol keeps them aside, 'holdout'); the command line calls it before any data is loaded."""
    if name not in SPLITS:
        raise LinclassError(f"split must be one of {', '.join(SPLITS)}; got {name!r}.")
    if name == "test" and not has_test:
        raise LinclassError(NO_TEST_IMAGES)


def evaluation_set(split, name: str) -> EvaluationSet:
    """The 'val', 'train' or 'test' set of a run's Split.

    'test' means test images the run never validated on. The report's protocol validates on the
    first 10,000 test images, which leaves none; a split that carries X_test and y_test (a
    protocol with a separate hold-out) enables it.
    """
    X_test, y_test = getattr(split, "X_test", None), getattr(split, "y_test", None)
    check_split(name, has_test=X_test is not None and y_test is not None and len(y_test) > 0)
    X, y = {"train": (split.X_train, split.y_train), "val": (split.X_val, split.y_val), "test": (X_test, y_test)}[name]
    return EvaluationSet(name, X, y, f"{SET_NAMES[name]} ({split.description})", getattr(split, "dataset", ""))


def pixels_of(X: np.ndarray) -> np.ndarray:
    """(N, 785) features made by linclass.preprocess -> (N, 28, 28) uint8 images, for display."""
    return np.rint((X[:, :-1] + 1.0) * 127.5).clip(0, 255).astype(np.uint8).reshape(-1, 28, 28)


def evaluate(model, data: EvaluationSet, class_names: list[str]) -> dict:
    """Every number of an evaluation: loss, accuracy, classification report, confusion matrix, mistakes.

    class_names: the name of each class index (K). Mistakes are the N_MISTAKES wrong predictions
    with the highest predicted probability, most confident first (row index, true, predicted, p).
    """
    logits = model.decision_function(data.X)
    probs = class_probabilities(model, data.X)
    predicted = model.predict(data.X)
    matrix = confusion_matrix(data.y, predicted, len(class_names))
    confidence = probs[np.arange(len(predicted)), predicted]
    wrong = np.flatnonzero(predicted != data.y)
    worst = wrong[np.argsort(-confidence[wrong], kind="stable")[:N_MISTAKES]]
    return {
        "split": data.name,
        "description": data.description,
        "dataset": data.dataset,
        "n_images": int(len(data.y)),
        "classes": list(class_names),
        "loss": float(model.cross_entropy(logits, data.y)),
        "accuracy": float(np.mean(predicted == data.y)),
        "report": classification_report(matrix, class_names),
        "confusion_matrix": matrix.tolist(),
        "mistakes": [{"index": int(i), "true": class_names[data.y[i]], "predicted": class_names[predicted[i]],
                      "probability": float(confidence[i])} for i in worst],
    }


def format_evaluation(result: dict) -> str:
    """The printed form: loss and accuracy, the per-class table, the confusion matrix."""
    names, report = result["classes"], result["report"]
    width = max(12, *(len(name) for name in names))
    lines = [f"{result['n_images']} images of the {result['description']}",
             f"loss {result['loss']:.6f}, accuracy {result['accuracy']:.6f}", "",
             f"{'class':>{width}} {'precision':>9} {'recall':>9} {'f1-score':>9} {'support':>8}"]
    for name in [*names, "macro avg", "weighted avg"]:
        row = report[name]
        lines.append(f"{name:>{width}} {row['precision']:9.4f} {row['recall']:9.4f} {row['f1-score']:9.4f} "
                     f"{row['support']:8d}")
    lines += ["", "confusion matrix (rows: true class, columns: predicted class)", *format_matrix(
        names, result["confusion_matrix"], digits=len(str(result["n_images"])))]
    return "\n".join(lines)


def format_matrix(names: list[str], matrix: list[list[int]], digits: int, max_width: int = 100) -> list[str]:
    """The confusion matrix (K, K) as aligned lines. Columns are headed by the class names when the lines
    then fit in max_width characters, else by the class numbers, and each row then says "true <number> <name>"."""
    cell = max(5, digits + 1, max(len(name) for name in names) + 1)
    by_name_width = max(len(f"true {name}") for name in names) + len(names) * cell
    if by_name_width > max_width and any(name != str(k) for k, name in enumerate(names)):
        cell, headers = max(5, digits + 1), [str(k) for k in range(len(names))]
        labels = [f"true {k} {name}" for k, name in enumerate(names)]
    else:
        headers, labels = names, [f"true {name}" for name in names]
    width = max(len(label) for label in labels)  # every cell is wider than its number and its header
    lines = [" " * width + "".join(f"{header:>{cell}}" for header in headers)]
    lines += [f"{label:<{width}}" + "".join(f"{count:>{cell}d}" for count in row) for label, row in zip(labels, matrix)]
    return lines
