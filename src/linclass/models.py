"""The two linear classifiers as estimators: the maths lives in losses.py, the loop in trainer.py."""

from __future__ import annotations

import numpy as np

from . import losses
from ._validation import check_features, check_labels
from .errors import LinclassError
from .preprocess import one_hot
from .training import Trainer


class LinearClassifier:
    """Shared estimator API. Subclasses fix the output function (sigmoid or softmax)."""

    n_outputs: int

    def __init__(self, *, l2_strength: float = 0.0, penalize_bias: bool = True):
        numeric = isinstance(l2_strength, (int, float, np.integer, np.floating))
        if isinstance(l2_strength, bool) or not numeric or not np.isfinite(l2_strength) or l2_strength < 0:
            raise LinclassError(f"l2_strength must be a finite number >= 0; got {l2_strength!r}.")
        self.l2_strength = float(l2_strength)
        self.penalize_bias = bool(penalize_bias)
        self.weights_ = None
        self.history_ = None

    # -- the maths, one output function per subclass
    n_classes: int

    def encode_targets(self, y: np.ndarray, dtype) -> np.ndarray:
        """(N,) int labels -> (N, n_outputs) targets for the loss."""
        raise NotImplementedError

    def loss_and_residual(self, logits, targets, out=None) -> tuple[float, np.ndarray]:
        raise NotImplementedError

    def cross_entropy(self, logits: np.ndarray, y: np.ndarray) -> float:
        raise NotImplementedError

    def predict_from_logits(self, logits: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    # -- estimator API
    def init_weights(self, n_features: int, dtype=np.float64) -> None:
        """Zero weights (D, n_outputs); the bias is the last row."""
        self.weights_ = np.zeros((n_features, self.n_outputs), dtype=dtype)

    def get_weights(self) -> np.ndarray:
        return self._fitted_weights().copy()

    def set_weights(self, W: np.ndarray) -> None:
        self.weights_ = np.array(W, copy=True)

    def fit(self, X, y, X_val=None, y_val=None, *, trainer=None):
        """Train on X (N, D), y (N,) with mini-batch SGD; validate on X_val, y_val if given."""
        trainer = trainer if trainer is not None else Trainer()
        trainer.fit(self, X, y, X_val, y_val)
        return self

    def decision_function(self, X) -> np.ndarray:
        """(N, D) -> (N, n_outputs) logits X @ W."""
        W = self._fitted_weights()
        return check_features(X, n_features=W.shape[0]) @ W

    def predict(self, X) -> np.ndarray:
        """(N, D) -> (N,) int labels."""
        return self.predict_from_logits(self.decision_function(X))

    def score(self, X, y) -> float:
        """Fraction of X's rows whose predicted label equals y."""
        predicted = self.predict(X)
        return float(np.mean(predicted == check_labels(y, len(predicted), self.n_classes)))

    def l2_penalty(self) -> float:
        """l2_strength * sum(W**2) for the current weights (not part of the reported loss)."""
        return losses.l2_penalty(self._fitted_weights(), self.l2_strength, self.penalize_bias)

    def _fitted_weights(self) -> np.ndarray:
        if self.weights_ is None:
            raise LinclassError(f"this {type(self).__name__} is not fitted yet; call fit first.")
        return self.weights_

    def __repr__(self) -> str:
        return f"{type(self).__name__}(l2_strength={self.l2_strength}, penalize_bias={self.penalize_bias})"


class LogisticRegression(LinearClassifier):
    """Binary logistic regression: P(y=1 | x) = sigmoid(x @ w), w (D, 1); predicts 1 when P >= 0.5."""

    n_outputs = 1
    n_classes = 2

    def encode_targets(self, y, dtype):
        return y.reshape(-1, 1).astype(dtype)

    def loss_and_residual(self, logits, targets, out=None):
        return losses.logistic_loss_and_residual(logits, targets, out)

    def cross_entropy(self, logits, y):
        return losses.binary_cross_entropy(logits, y)

    def predict_from_logits(self, logits):
        return (losses.sigmoid(logits.reshape(-1)) >= 0.5).astype(np.int64)

    def predict_proba(self, X) -> np.ndarray:
        """(N, D) -> (N,) P(class 1)."""
        return losses.sigmoid(self.decision_function(X).reshape(-1))


class SoftmaxRegression(LinearClassifier):
    """Multinomial (softmax) regression over K classes, W (D, K); predicts the arg-max."""

    def __init__(self, *, n_classes: int = 10, l2_strength: float = 0.0, penalize_bias: bool = True):
        super().__init__(l2_strength=l2_strength, penalize_bias=penalize_bias)
        if isinstance(n_classes, bool) or not isinstance(n_classes, (int, np.integer)) or n_classes < 2:
            raise LinclassError(f"n_classes must be an integer >= 2; got {n_classes!r}.")
        self.n_classes = self.n_outputs = int(n_classes)

    def encode_targets(self, y, dtype):
        return one_hot(y, self.n_classes, dtype=dtype)

    def loss_and_residual(self, logits, targets, out=None):
        return losses.softmax_loss_and_residual(logits, targets, out)

    def cross_entropy(self, logits, y):
        return losses.softmax_cross_entropy(logits, y)

    def predict_from_logits(self, logits):
        return logits.argmax(axis=1)

    def predict_proba(self, X) -> np.ndarray:
        """(N, D) -> (N, K) class probabilities; rows sum to 1."""
        return losses.softmax(self.decision_function(X))
