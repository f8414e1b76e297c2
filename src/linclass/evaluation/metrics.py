"""Classification metrics with scikit-learn's definitions, from a confusion matrix, in plain NumPy."""

from __future__ import annotations

import numpy as np


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> np.ndarray:
    """(N,) true and (N,) predicted labels in [0, K) -> (K, K) int64 counts; rows true, columns predicted."""
    y_true, y_pred = np.asarray(y_true, dtype=np.int64), np.asarray(y_pred, dtype=np.int64)
    counts = np.bincount(y_true * n_classes + y_pred, minlength=n_classes * n_classes)
    return counts.reshape(n_classes, n_classes)


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """numerator / denominator, 0 where the denominator is 0 (scikit-learn's zero_division default)."""
    safe = np.where(denominator > 0, denominator, 1)
    return np.where(denominator > 0, numerator / safe, 0.0)


def per_class_metrics(matrix: np.ndarray) -> dict[str, np.ndarray]:
    """(K, K) confusion matrix -> (K,) precision, recall, f1 and support (true count) per class.

    precision = TP / predicted, recall = TP / true, f1 = 2 TP / (predicted + true), each 0 when
    its denominator is 0, as scikit-learn's classification_report.
    """
    hits = np.diag(matrix).astype(np.float64)
    predicted, true = matrix.sum(axis=0), matrix.sum(axis=1)
    return {"precision": _ratio(hits, predicted), "recall": _ratio(hits, true),
            "f1-score": _ratio(2 * hits, predicted + true), "support": true}


def classification_report(matrix: np.ndarray, class_names: list[str]) -> dict:
    """The dict scikit-learn's classification_report(output_dict=True) returns, from a confusion matrix.

    One entry per class name ({precision, recall, f1-score, support}), 'accuracy', and the
    'macro avg' (unweighted mean over classes) and 'weighted avg' (weighted by support).
    """
    metrics = per_class_metrics(matrix)
    support = metrics["support"]
    total = int(support.sum())
    names = ("precision", "recall", "f1-score")
    report = {name: {key: float(metrics[key][k]) for key in names} | {"support": int(support[k])}
              for k, name in enumerate(class_names)}
    report["accuracy"] = float(np.trace(matrix) / total) if total else 0.0
    report["macro avg"] = {key: float(metrics[key].mean()) for key in names} | {"support": total}
    weights = support / total if total else np.zeros_like(support, dtype=np.float64)
    report["weighted avg"] = {key: float(metrics[key] @ weights) for key in names} | {"support": total}
    return report
