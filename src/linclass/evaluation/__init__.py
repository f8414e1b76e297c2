"""Evaluate a trained run: scikit-learn's classification metrics, the confusion matrix, the mistakes."""

from .evaluate import N_MISTAKES, SPLITS, EvaluationSet, check_split, evaluate, evaluation_set, format_evaluation, pixels_of
from .figures import confusion_figure, mistakes_figure
from .metrics import classification_report, confusion_matrix, per_class_metrics
from .write import write_evaluation

__all__ = ["N_MISTAKES", "SPLITS", "EvaluationSet", "check_split", "classification_report", "confusion_figure", "confusion_matrix",
           "evaluate", "evaluation_set", "format_evaluation", "mistakes_figure", "per_class_metrics", "pixels_of",
           "write_evaluation"]
