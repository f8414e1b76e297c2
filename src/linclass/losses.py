"""Pure loss-and-gradient functions of the two models; no state, no I/O.

Conventions: X (N, D) features with the bias as last column, W (D, K) weights (K = 1 for the
binary model), logits = X @ W. L2 regularisation is J = C + l2_strength * sum(W**2), the bias
row included unless penalize_bias=False; its gradient is 2 * l2_strength * W.
"""

from __future__ import annotations

import numpy as np


def sigmoid(z: np.ndarray) -> np.ndarray:
    """Elementwise 1 / (1 + exp(-z)), without overflow for large |z|."""
    z = np.asarray(z)
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(np.result_type(z, np.float32))


def logsumexp(logits: np.ndarray) -> np.ndarray:
    """(N, K) -> (N,) log(sum(exp(logits), axis=1)), shifted by the row maximum to avoid overflow."""
    top = logits.max(axis=1)
    return top + np.log(np.exp(logits - top[:, None]).sum(axis=1))


def softmax(logits: np.ndarray) -> np.ndarray:
    """(N, K) scores -> (N, K) probabilities; rows sum to 1."""
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def binary_cross_entropies(logits: np.ndarray, y: np.ndarray) -> np.ndarray:
    """-[y log s(z) + (1 - y) log(1 - s(z))] per row, for logits z (N,) or (N, 1) and y (N,) in {0, 1}.

    Written as softplus(z) - y z, which never takes log(0) and never overflows.
    """
    z = logits.reshape(-1)
    return np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z))) - y.reshape(-1) * z


def binary_cross_entropy(logits: np.ndarray, y: np.ndarray) -> float:
    """Mean binary cross-entropy of logits (N,) or (N, 1) for labels y (N,) in {0, 1}."""
    return float(np.mean(binary_cross_entropies(logits, y)))


def softmax_cross_entropy(logits: np.ndarray, y: np.ndarray) -> float:
    """Mean of -log softmax(logits)[n, y_n] for logits (N, K) and int labels y (N,)."""
    picked = np.take_along_axis(logits, y.reshape(-1, 1), axis=1).reshape(-1)
    return float(np.mean(logsumexp(logits) - picked))


def l2_penalty(W: np.ndarray, l2_strength: float, penalize_bias: bool = True) -> float:
    """l2_strength * sum(W**2), over all rows or all but the last (bias) row."""
    if l2_strength == 0:
        return 0.0
    penalized = W if penalize_bias else W[:-1]
    return float(l2_strength * np.sum(penalized * penalized))


def add_l2_gradient(grad: np.ndarray, W: np.ndarray, l2_strength: float,
                    penalize_bias: bool = True) -> np.ndarray:
    """grad += 2 * l2_strength * W in place (bias row skipped if penalize_bias is False)."""
    if l2_strength != 0:
        rows = slice(None) if penalize_bias else slice(0, -1)
        grad[rows] += (2 * l2_strength) * W[rows]
    return grad


def logistic_loss_and_residual(logits: np.ndarray, Y: np.ndarray,
                               out: np.ndarray | None = None) -> tuple[float, np.ndarray]:
    """Mean binary cross-entropy C of logits (N, 1) for targets Y (N, 1) in {0, 1}, and dC/dlogits.

    dC/dlogits = (sigmoid(logits) - Y) / N, written into `out` (N, 1) when given.
    """
    e = np.exp(-np.abs(logits))
    loss = float(np.mean(np.maximum(logits, 0) + np.log1p(e) - Y * logits))
    out = np.divide(1.0, 1.0 + e, out=out)
    np.multiply(out, e, out=out, where=logits < 0)  # e / (1 + e) for negative logits
    out -= Y
    out /= len(logits)
    return loss, out


def softmax_loss_and_residual(logits: np.ndarray, Y: np.ndarray,
                              out: np.ndarray | None = None) -> tuple[float, np.ndarray]:
    """Mean softmax cross-entropy C of logits (N, K) for one-hot Y (N, K), and dC/dlogits.

    dC/dlogits = (softmax(logits) - Y) / N, written into `out` (N, K) when given.
    """
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted, out=out)
    sums = exp.sum(axis=1, keepdims=True)
    loss = float(np.mean(np.log(sums).reshape(-1) - np.einsum("nk,nk->n", Y, shifted)))
    exp /= sums
    exp -= Y
    exp /= len(logits)
    return loss, exp


def logistic_loss_and_grad(W: np.ndarray, X: np.ndarray, y: np.ndarray, l2_strength: float = 0.0,
                           penalize_bias: bool = True) -> tuple[float, np.ndarray]:
    """Mean binary cross-entropy + l2_strength * ||W||^2, and its gradient.

    W: (D, 1), X: (N, D), y: (N,) in {0, 1}. Returns (J, dJ/dW (D, 1)); dC/dW = -X^T (y - y_hat) / N.
    """
    loss, residual = logistic_loss_and_residual(X @ W, y.reshape(-1, 1).astype(X.dtype))
    grad = add_l2_gradient(X.T @ residual, W, l2_strength, penalize_bias)
    return loss + l2_penalty(W, l2_strength, penalize_bias), grad


def softmax_loss_and_grad(W: np.ndarray, X: np.ndarray, Y: np.ndarray, l2_strength: float = 0.0,
                          penalize_bias: bool = True) -> tuple[float, np.ndarray]:
    """Mean softmax cross-entropy + l2_strength * ||W||^2, and its gradient.

    W: (D, K), X: (N, D), Y: (N, K) one-hot. Returns (J, dJ/dW (D, K)); dC/dW = -X^T (Y - Y_hat) / N.
    """
    loss, residual = softmax_loss_and_residual(X @ W, Y)
    grad = add_l2_gradient(X.T @ residual, W, l2_strength, penalize_bias)
    return loss + l2_penalty(W, l2_strength, penalize_bias), grad


def softmax_loss_sum_and_hits(logits: np.ndarray, y: np.ndarray) -> tuple[float, int]:
    """(sum of the softmax cross-entropies, number of correct arg-max predictions) over the rows
    of logits (N, K) for int labels y (N,); one pass shares the row maximum between the two."""
    rows = np.arange(len(logits))
    predicted = logits.argmax(axis=1)
    top = logits[rows, predicted]
    shifted = np.subtract(logits, top[:, None])
    np.exp(shifted, out=shifted)
    log_sum = top + np.log(shifted.sum(axis=1))
    return float(np.sum(log_sum - logits[rows, y])), int(np.count_nonzero(predicted == y))


def softmax_lanes_loss_and_residual(logits: np.ndarray, Y: np.ndarray, out: np.ndarray) -> np.ndarray:
    """softmax_loss_and_residual of L models at once: logits (B, L, K) side by side, one-hot Y (B, K);
    writes every model's dC/dlogits into out (B, L, K) and returns the mean losses (L,).

    Every model's numbers have the bits of its own call: the same element-wise operations, the
    reductions over K along the contiguous last axis, each model's mean over rows taken along a
    contiguous row of an (L, B) array, and its target logit as a sum of Y * shifted over K (which
    is exact whatever the order: one term is the target's, the others are zeros, or NaN as in einsum).
    """
    shifted = logits - logits.max(axis=2, keepdims=True)
    exp = np.exp(shifted, out=out)
    sums = exp.sum(axis=2, keepdims=True)
    picked = np.multiply(shifted, Y[:, None, :]).sum(axis=2)  # (B, L)
    per_row = np.ascontiguousarray((np.log(sums)[:, :, 0] - picked).T)  # (L, B)
    losses = per_row.mean(axis=1)
    exp /= sums
    exp -= Y[:, None, :]
    exp /= len(logits)
    return losses


def softmax_lanes_loss_sums_and_hits(logits: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """softmax_loss_sum_and_hits of L models at once, from their logits side by side (N, L, K): the loss
    sums (L,) and hit counts (L,). Every model's numbers have the bits of its own call: the same
    element-wise operations, the reductions over K along the contiguous last axis, and each model's
    sum over rows taken along a contiguous row of an (L, N) array, as over the (N,) vector alone."""
    rows = np.arange(len(logits))
    predicted = logits.argmax(axis=2)  # (N, L)
    top = np.take_along_axis(logits, predicted[:, :, None], axis=2)[:, :, 0]
    shifted = np.subtract(logits, top[:, :, None])
    np.exp(shifted, out=shifted)
    log_sum = top + np.log(shifted.sum(axis=2))
    per_row = np.ascontiguousarray((log_sum - logits[rows, :, y]).T)  # (L, N)
    return per_row.sum(axis=1), np.count_nonzero(predicted == y[:, None], axis=0)


def binary_loss_sum_and_hits(logits: np.ndarray, y: np.ndarray) -> tuple[float, int]:
    """(sum of the binary cross-entropies, number of correct predictions, 1 when sigmoid >= 0.5)
    over logits (N,) or (N, 1) for labels y (N,) in {0, 1}."""
    predicted = sigmoid(logits.reshape(-1)) >= 0.5
    return float(np.sum(binary_cross_entropies(logits, y))), int(np.count_nonzero(predicted == y.astype(bool)))
