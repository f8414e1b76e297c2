"""The two linear classifiers as estimators with scikit-learn's conventions: the maths lives in
losses.py, the loop in training/. Models save to and load from the run folder's weights.npz format."""

from __future__ import annotations

import numpy as np

from . import losses
from ._estimator import Estimator
from ._validation import (check_bool, check_features, check_int, check_labels, check_non_negative_float,
                          class_indices, find_classes)
from .errors import LinclassError
from .model_file import ModelFile, read_model_file, write_model_file
from .preprocess import one_hot
from .training import FitResult, Trainer


class LinearClassifier(Estimator):
    """Shared estimator API; __init__ only stores its keyword arguments, fit checks them.

    Subclasses fix the output function (sigmoid or softmax). Labels may be any integers: fit maps
    them through the sorted classes_, and predict returns them.
    """

    kind: str

    def __init__(self, *, l2_strength: float = 0.0, penalize_bias: bool = True):
        self.l2_strength = l2_strength
        self.penalize_bias = penalize_bias

    def _check_params(self) -> None:
        check_non_negative_float("l2_strength", self.l2_strength)
        check_bool("penalize_bias", self.penalize_bias)

    # -- what the trainer calls; each subclass adds the maths of its output function: wanted_classes,
    # encode_targets, loss_and_residual, cross_entropy and predict_from_logits
    def prepare_fit(self, X, y, X_val=None, y_val=None) -> tuple:
        """Check the parameters and data; set classes_ and n_features_in_.

        X (N, D), y (N,) labels -> (X, y as class indices (N,), X_val or None, y_val indices or None).
        """
        self._check_params()
        X = check_features(X)
        y = check_labels(y, len(X))
        classes = find_classes(y, self.wanted_classes())
        if (X_val is None) != (y_val is None):
            raise LinclassError(f"{'y_val' if y_val is None else 'X_val'} is missing; X_val and y_val go together: "
                                "pass both or neither.")
        if X_val is not None:
            X_val = check_features(X_val, "X_val", X.shape[1])
            if X_val.dtype != X.dtype:
                raise LinclassError(f"X_val is {X_val.dtype} but X is {X.dtype}; use one dtype.")
            y_val = class_indices(check_labels(y_val, len(X_val), "y_val"), classes, "y_val")
        self.classes_, self.n_features_in_ = classes, X.shape[1]
        return X, class_indices(y, classes), X_val, y_val

    def bind_weights(self, W: np.ndarray) -> None:
        """Use W (D, K) itself as the weights, without a copy (the trainer's lock-step weight bank)."""
        self.weights_ = W

    def apply_fit_result(self, result: FitResult) -> None:
        """Set the fitted attributes from what the trainer measured."""
        self.weights_, self.history_, self.early_stop_ = result.weights, result.history, result.early_stop
        self.n_steps_, self.interrupted_ = result.n_steps, result.interrupted
        self.final_metrics_, self.best_metrics_, self.best_step_ = (result.final_metrics, result.best_metrics,
                                                                    result.best_step)
        self.final_weights_metrics_ = result.final_weights_metrics
        self.diverged_ = result.diverged  # a training.Divergence, or None

    # -- estimator API
    def fit(self, X, y, X_val=None, y_val=None, *, trainer: Trainer | None = None):
        """Train on X (N, D), y (N,) with mini-batch SGD; validate on X_val, y_val if given. Returns self."""
        trainer = trainer if trainer is not None else Trainer()
        if not isinstance(trainer, Trainer):
            raise LinclassError(f"trainer must be a linclass Trainer or None; got {trainer!r}.")
        trainer.fit(self, X, y, X_val, y_val)
        return self

    def get_weights(self) -> np.ndarray:
        return self._fitted_weights().copy()

    def set_weights(self, W) -> None:
        """Use a copy of W (D, K) as the weights: K = 1 for the binary model, one column per class otherwise."""
        outputs = self._known_outputs()
        try:
            W = np.array(W, copy=True)
        except (ValueError, TypeError):
            W = None
        if (W is None or W.ndim != 2 or W.dtype not in (np.float32, np.float64) or 0 in W.shape
                or (outputs is not None and W.shape[1] != outputs) or W.shape[1] < (1 if outputs else 2)):
            found = "an unreadable value" if W is None else f"{W.dtype} {W.shape}"
            raise LinclassError(f"weights must be a float32/float64 (D, {outputs or 'K >= 2'}) array; got {found}.")
        if not np.isfinite(W).all():
            raise LinclassError("weights contain NaN or infinity; pass finite weights.")
        self.weights_, self.n_features_in_ = W, W.shape[0]

    def decision_function(self, X) -> np.ndarray:
        """(N, D) -> (N, K) logits X @ W (the logistic model: (N,))."""
        W = self._fitted_weights()
        return check_features(X, n_features=W.shape[0]) @ W

    def predict(self, X) -> np.ndarray:
        """(N, D) -> (N,) labels, from classes_."""
        return self.known_classes()[self.predict_from_logits(self.decision_function(X))]

    def score(self, X, y) -> float:
        """Fraction of X's rows whose predicted label equals y."""
        predicted = self.predict(X)
        y = check_labels(y, len(predicted))
        class_indices(y, self.known_classes())
        return float(np.mean(predicted == y))

    def l2_penalty(self) -> float:
        """l2_strength * sum(W**2) for the current weights (not part of the reported loss)."""
        return losses.l2_penalty(self._fitted_weights(), float(self.l2_strength), bool(self.penalize_bias))

    def known_classes(self) -> np.ndarray:
        """classes_ after fit; for weights set by hand, 0 .. K-1."""
        classes = getattr(self, "classes_", None)
        return classes if classes is not None else np.arange(max(2, self._fitted_weights().shape[1]))

    def _fitted_weights(self) -> np.ndarray:
        W = getattr(self, "weights_", None)
        if W is None:
            raise LinclassError(f"this {type(self).__name__} is not fitted yet; call fit first.")
        return W

    # -- files: the run folder's weights.npz format plus kind, classes and parameters; never pickled
    def save(self, path) -> None:
        """Write weights (D, K), kind, classes and parameters as plain arrays to an .npz file."""
        self._check_params()
        write_model_file(path, ModelFile(self._fitted_weights(), self.kind, self.known_classes(), self.get_params()))

    @classmethod
    def load(cls, path) -> "LinearClassifier":
        """A model written by save(), or a run folder's weights.npz (only weights: the class called gives the kind)."""
        stored = read_model_file(path, sorted({n for kind in MODEL_KINDS.values() for n in kind._param_names()}))
        model_class = MODEL_KINDS.get(stored.kind, cls) if stored.kind is not None else cls
        try:
            if stored.kind is None and cls is LinearClassifier:
                raise LinclassError("only weights, no model kind; load it with LogisticRegression.load or "
                                    "SoftmaxRegression.load.")
            if stored.kind not in (None, *MODEL_KINDS) or not issubclass(model_class, cls):
                expected = sorted(MODEL_KINDS) if cls is LinearClassifier else [cls.kind]
                raise LinclassError(f"kind must be one of {expected}; got {stored.kind!r}. Load it with its class.")
            model = model_class(**{k: v for k, v in stored.params.items() if k in model_class._param_names()})
            model._check_params()
            model.set_weights(stored.weights)
            if stored.classes is not None and len(stored.classes) != len(model.known_classes()):
                raise LinclassError(f"classes must be {len(model.known_classes())} labels, one per output; "
                                    f"got {stored.classes.tolist()}.")
            model.classes_ = stored.classes if stored.classes is not None else model.known_classes()  # 0 .. K-1
        except LinclassError as exc:
            raise LinclassError(f"{path}: {exc}") from None
        return model


class LogisticRegression(LinearClassifier):
    """Binary logistic regression: P(y=classes_[1] | x) = sigmoid(x @ w), w (D, 1); predicts it when P >= 0.5."""

    kind = "logistic"
    n_outputs = 1

    def wanted_classes(self):
        return 2

    def _known_outputs(self):
        return 1

    def encode_targets(self, y, dtype):
        return y.reshape(-1, 1).astype(dtype)

    def cross_entropy(self, logits, y):
        """Mean binary cross-entropy of logits (N, 1) for labels y (N,)."""
        return losses.binary_cross_entropy(logits, class_indices(check_labels(y, len(logits)), self.known_classes()))

    def loss_and_residual(self, logits, targets, out=None):
        return losses.logistic_loss_and_residual(logits, targets, out)

    def predict_from_logits(self, logits):
        return (losses.sigmoid(logits.reshape(-1)) >= 0.5).astype(np.int64)

    def decision_function(self, X) -> np.ndarray:
        """(N, D) -> (N,) logits x @ w, scikit-learn's shape for a two-class model (> 0: classes_[1])."""
        return super().decision_function(X).reshape(-1)

    def predict_proba(self, X) -> np.ndarray:
        """(N, D) -> (N,) P(classes_[1])."""
        return losses.sigmoid(self.decision_function(X))


class SoftmaxRegression(LinearClassifier):
    """Multinomial (softmax) regression over K classes, W (D, K); predicts the arg-max.

    n_classes=None learns K from the labels fit sees; an integer fixes it (labels 0 .. K-1 or K distinct ones).
    """

    kind = "softmax"

    def __init__(self, *, n_classes: int | None = None, l2_strength: float = 0.0, penalize_bias: bool = True):
        super().__init__(l2_strength=l2_strength, penalize_bias=penalize_bias)
        self.n_classes = n_classes

    def _check_params(self) -> None:
        super()._check_params()
        if self.n_classes is not None:
            check_int("n_classes", self.n_classes, minimum=2)

    def wanted_classes(self):
        return None if self.n_classes is None else int(self.n_classes)

    def _known_outputs(self):
        classes = getattr(self, "classes_", None)
        return len(classes) if classes is not None else self.wanted_classes()

    @property
    def n_outputs(self) -> int:
        outputs = self._known_outputs()
        if outputs is None:
            W = getattr(self, "weights_", None)
            if W is None:
                raise LinclassError("SoftmaxRegression(n_classes=None) learns its classes in fit; call fit first.")
            return W.shape[1]
        return outputs

    def encode_targets(self, y, dtype):
        return one_hot(y, self.n_outputs, dtype=dtype)

    def cross_entropy(self, logits, y):
        """Mean softmax cross-entropy of logits (N, K) for labels y (N,)."""
        return losses.softmax_cross_entropy(logits, class_indices(check_labels(y, len(logits)), self.known_classes()))

    def loss_and_residual(self, logits, targets, out=None):
        return losses.softmax_loss_and_residual(logits, targets, out)

    def predict_from_logits(self, logits):
        return logits.argmax(axis=1)

    def predict_proba(self, X) -> np.ndarray:
        """(N, D) -> (N, K) class probabilities, columns in classes_ order; rows sum to 1."""
        return losses.softmax(self.decision_function(X))


MODEL_KINDS = {"logistic": LogisticRegression, "softmax": SoftmaxRegression}
