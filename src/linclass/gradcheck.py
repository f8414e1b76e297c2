"""Numerical gradients by central differences, to check the analytic ones."""

from __future__ import annotations

from typing import Callable

import numpy as np


def numerical_gradient(loss: Callable[[np.ndarray], float], W: np.ndarray,
                       epsilon: float = 1e-3) -> np.ndarray:
    """(loss(W + eps e_i) - loss(W - eps e_i)) / (2 eps) for every entry i of W; W is not modified."""
    W = np.array(W, dtype=np.float64)
    grad = np.empty_like(W)
    flat_W, flat_grad = W.reshape(-1), grad.reshape(-1)
    for i in range(flat_W.size):
        original = flat_W[i]
        flat_W[i] = original + epsilon
        plus = loss(W)
        flat_W[i] = original - epsilon
        minus = loss(W)
        flat_W[i] = original
        flat_grad[i] = (plus - minus) / (2 * epsilon)
    return grad


def max_gradient_difference(loss_and_grad: Callable[[np.ndarray], tuple[float, np.ndarray]],
                            W: np.ndarray, epsilon: float = 1e-3) -> float:
    """Largest |analytic - numerical| over all entries of W; the report asks for < epsilon**2."""
    _, analytic = loss_and_grad(W)
    numerical = numerical_gradient(lambda w: loss_and_grad(w)[0], W, epsilon)
    return float(np.max(np.abs(analytic - numerical)))
