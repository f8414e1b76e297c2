"""Numerical gradients by central differences, to check the analytic ones.

`numerical_gradient(loss, W)` works for any function, one weight at a time. For the two losses of
this package there is a vectorised path: perturbing W[i, k] by +-eps changes only logit column k,
by +-eps * X[:, i], so every perturbed loss of one column is one array operation.
"""

from __future__ import annotations

import functools
from typing import Callable

import numpy as np

from ._validation import check_positive_float
from .errors import LinclassError
from .losses import logistic_loss_and_grad, softmax_loss_and_grad


def _one_number(value, what: str) -> float:
    """value as a float when it is one real number (a Python or NumPy scalar, or a size-1 array)."""
    array = np.asarray(value) if isinstance(value, (int, float, np.number, np.ndarray)) else None
    if array is None or array.size != 1 or array.dtype.kind not in "iuf" or isinstance(value, bool):
        raise LinclassError(f"{what} must return one real number (the loss); got {type(value).__name__}"
                            f"{'' if array is None else f' of shape {array.shape}'}.")
    return float(array.reshape(()))


def _loss_and_gradient(loss_and_grad, W: np.ndarray) -> np.ndarray:
    """The analytic gradient of loss_and_grad(W) -> (loss, gradient), checked: a pair, gradient shaped as W."""
    result = loss_and_grad(W)
    if not isinstance(result, tuple) or len(result) != 2:
        raise LinclassError(f"loss_and_grad must return a pair (loss, gradient); got {type(result).__name__}.")
    _one_number(result[0], "loss_and_grad")
    gradient = np.asarray(result[1])
    if gradient.shape != np.shape(W) or gradient.dtype.kind not in "iuf":
        raise LinclassError(f"loss_and_grad's gradient must be a real array of W's shape {np.shape(W)}; got "
                            f"{gradient.dtype} {gradient.shape}.")
    return gradient


def numerical_gradient(loss: Callable[[np.ndarray], float], W: np.ndarray,
                       epsilon: float = 1e-3) -> np.ndarray:
    """(loss(W + eps e_i) - loss(W - eps e_i)) / (2 eps) for every entry i of W; W is not modified.
    loss must return one real number; epsilon must be > 0."""
    epsilon = check_positive_float("epsilon", epsilon)
    W = np.array(W, dtype=np.float64)
    grad = np.empty_like(W)
    flat_W, flat_grad = W.reshape(-1), grad.reshape(-1)
    for i in range(flat_W.size):
        original = flat_W[i]
        flat_W[i] = original + epsilon
        plus = _one_number(loss(W), "loss")
        flat_W[i] = original - epsilon
        minus = _one_number(loss(W), "loss")
        flat_W[i] = original
        flat_grad[i] = (plus - minus) / (2 * epsilon)
    return grad


def max_gradient_difference(loss_and_grad: Callable[[np.ndarray], tuple[float, np.ndarray]],
                            W: np.ndarray, epsilon: float = 1e-3) -> float:
    """Largest |analytic - numerical| over all entries of W; the report asks for < epsilon**2.

    loss_and_grad(W) -> (loss, gradient). When it is functools.partial(softmax_loss_and_grad or
    logistic_loss_and_grad, X=..., Y=..., l2_strength=...), the vectorised central differences are
    used (the same numbers to ~1e-12); any other function is perturbed one weight at a time.
    """
    epsilon = check_positive_float("epsilon", epsilon)
    analytic = _loss_and_gradient(loss_and_grad, W)
    numerical = _vectorised_gradient(loss_and_grad, W, epsilon)
    if numerical is None:
        numerical = numerical_gradient(lambda w: loss_and_grad(w)[0], W, epsilon)
    return float(np.max(np.abs(analytic - numerical)))


def _vectorised_gradient(loss_and_grad, W: np.ndarray, epsilon: float) -> np.ndarray | None:
    """Central differences of one of our two losses at once, or None for any other function."""
    if not isinstance(loss_and_grad, functools.partial) or loss_and_grad.args:
        return None
    kind = {softmax_loss_and_grad: "softmax", logistic_loss_and_grad: "logistic"}.get(loss_and_grad.func)
    arguments = dict(loss_and_grad.keywords)
    targets = arguments.pop("Y", arguments.pop("y", None))
    X = arguments.pop("X", None)
    l2_strength = arguments.pop("l2_strength", 0.0)
    penalize_bias = arguments.pop("penalize_bias", True)
    if kind is None or arguments or X is None or targets is None:
        return None
    W = np.asarray(W, dtype=np.float64)
    if kind == "softmax":
        data_plus, data_minus = _softmax_perturbed_losses(W, X, targets, epsilon)
    else:
        data_plus, data_minus = _logistic_perturbed_losses(W, X, targets, epsilon)
    penalty_plus, penalty_minus = _perturbed_penalties(W, l2_strength, penalize_bias, epsilon)
    return ((data_plus + penalty_plus) - (data_minus + penalty_minus)) / (2 * epsilon)


def _softmax_perturbed_losses(W, X, Y, epsilon) -> tuple[np.ndarray, np.ndarray]:
    """Mean cross-entropies (D, K) with W[i, k] moved by +eps and by -eps, each a log-sum-exp made stable
    by the row maximum, from the (N, K) logits and the (D, N) changes of one column at a time."""
    logits = X @ W  # (N, K)
    picked = np.einsum("nk,nk->n", Y, logits)  # the true class's logit (N,)
    step = epsilon * X.T  # (D, N): the change of logit column k when W[i, k] moves by eps
    losses = (np.empty(W.shape), np.empty(W.shape))
    for k in range(W.shape[1]):
        others = np.delete(logits, k, axis=1)  # (N, K - 1): the columns a move of W[:, k] leaves alone
        others_max = others.max(axis=1)
        others_sum = np.exp(others - others_max[:, None]).sum(axis=1)
        for out, sign in zip(losses, (1.0, -1.0)):
            moved = logits[:, k] + sign * step  # (D, N)
            top = np.maximum(others_max, moved)
            log_sum = top + np.log(others_sum * np.exp(others_max - top) + np.exp(moved - top))
            true_logit = np.where(Y[:, k] == 1, moved, picked)
            out[:, k] = np.mean(log_sum - true_logit, axis=1)
    return losses


def _logistic_perturbed_losses(W, X, y, epsilon) -> tuple[np.ndarray, np.ndarray]:
    """Mean binary cross-entropies (D, 1) with W[i, 0] moved by +eps and by -eps."""
    z = (X @ W).reshape(1, -1)  # (1, N)
    targets = y.reshape(1, -1).astype(X.dtype)
    losses = []
    for sign in (1.0, -1.0):
        perturbed = z + sign * epsilon * X.T  # (D, N)
        e = np.exp(-np.abs(perturbed))
        losses.append(np.mean(np.maximum(perturbed, 0) + np.log1p(e) - targets * perturbed, axis=1).reshape(-1, 1))
    return losses[0], losses[1]


def _perturbed_penalties(W, l2_strength, penalize_bias, epsilon) -> tuple[np.ndarray, np.ndarray]:
    """l2_strength * ||W'||^2 (the l2_penalty convention) for every single-entry move of +-eps, (D, K) each."""
    if l2_strength == 0:
        return np.zeros(W.shape), np.zeros(W.shape)
    penalized = np.ones(W.shape, dtype=bool)
    if not penalize_bias:
        penalized[-1] = False
    base = np.sum((W * W)[penalized])
    results = []
    for sign in (1.0, -1.0):
        moved = W + sign * epsilon
        results.append(np.where(penalized, l2_strength * (base - W * W + moved * moved), l2_strength * base))
    return results[0], results[1]
