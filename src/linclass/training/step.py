"""One SGD step on one batch, in buffers reused by every step: of one model, or of a lock-step group
whose gradients come from one product."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..losses import add_l2_gradient
from .callbacks import Callback
from .divergence import divergence_error, is_diverging
from .wide_products import wide_product_is_exact


@dataclass
class Workspace:
    """Per-model buffers the step reuses, so the loop allocates almost nothing (B rows, D features, K outputs)."""

    logits: np.ndarray | None  # (B, K): own copy of the model's logit columns (lock-step only)
    weights: np.ndarray | None  # (D, K): contiguous copy of the weights, for a product of its own (lock-step only)
    residual: np.ndarray  # (B, K)
    grad: np.ndarray  # (D, K)
    step_callbacks: list  # the callbacks with an on_step_end of their own
    which: str = ""  # names the model in a divergence message (lock-step only); built once, not every step

    @classmethod
    def for_state(cls, state, batch_size: int, n_features: int, n_outputs: int, dtype, shared: bool) -> "Workspace":
        return cls(np.empty((batch_size, n_outputs), dtype=dtype) if shared else None,
                   np.empty((n_features, n_outputs), dtype=dtype) if shared else None,
                   np.empty((batch_size, n_outputs), dtype=dtype), np.empty((n_features, n_outputs), dtype=dtype),
                   [c for c in state.callbacks if type(c).on_step_end is not Callback.on_step_end],
                   f" ({state.model!r})" if shared else "")


def take_step(state, work: Workspace, X_batch: np.ndarray, T_batch: np.ndarray, logits: np.ndarray,
              max_loss: float, which: str = "") -> float:
    """W -= learning_rate * (X^T residual + 2 l2_strength W) for X_batch (B, D), targets (B, K) and
    logits X_batch @ W (B, K); returns the batch's mean cross-entropy, before the update.

    Raises TrainingDiverged, leaving W as it was, when the loss or the update explodes.
    """
    W, grad = state.model.weights_, work.grad
    loss, _ = state.model.loss_and_residual(logits, T_batch, out=work.residual)
    np.matmul(X_batch.T, work.residual, out=grad)
    add_l2_gradient(grad, W, state.l2_strength, state.penalize_bias)
    grad *= state.learning_rate
    if is_diverging(loss, grad.sum(), max_loss):
        raise divergence_error(state, loss, max_loss, which)
    W -= grad
    return loss


@dataclass
class LaneBuffers:
    """The shared products of the active models: logits (B, M * K), residuals (B, M * K), gradients (D, M * K)."""

    logits: np.ndarray
    residual: np.ndarray | None
    grad: np.ndarray | None

    @classmethod
    def for_bank(cls, bank, batch_size: int) -> "LaneBuffers":
        weights = bank.weights
        width, dtype = weights.shape[1], weights.dtype
        return cls(np.empty((batch_size, width), dtype=dtype),
                   np.empty((batch_size, width), dtype=dtype) if bank.shared else None,
                   np.empty_like(weights) if bank.shared else None)


def step_lanes(lanes: list, bank, X_batch: np.ndarray, T_batch: np.ndarray, buffers: LaneBuffers,
               max_loss: float) -> list[float]:
    """One SGD step of every active (state, workspace) lane on X_batch (B, D), T_batch (B, K); returns
    their batch losses. Alone, a model multiplies its own weights; in lock-step, the models share each
    product that gives every one of them the bits of its own (wide_product_is_exact)."""
    if not bank.shared:
        np.matmul(X_batch, bank.weights, out=buffers.logits)
        state, work = lanes[0]
        return [take_step(state, work, X_batch, T_batch, buffers.logits, max_loss)]
    K, M = bank.n_outputs, len(lanes)
    forward_lanes(lanes, X_batch, bank.weights, bank.columns, buffers.logits, wide_product_is_exact(X_batch, K, M))
    if wide_product_is_exact(X_batch.T, K, M):
        return take_group_step(lanes, bank.columns, X_batch, T_batch, buffers.residual, buffers.grad, max_loss)
    return [take_step(state, work, X_batch, T_batch, work.logits, max_loss, work.which) for state, work in lanes]


def forward_lanes(lanes: list, X_batch: np.ndarray, weights: np.ndarray, columns, logits_all: np.ndarray,
                  wide: bool) -> None:
    """Each lock-step lane's logits X_batch (B, D) @ W (D, K) into its work.logits (B, K): sliced from one
    wide product into logits_all (B, M * K) when wide (see wide_products), else each model's own product."""
    if wide:
        np.matmul(X_batch, weights, out=logits_all)
        for position, (_, work) in enumerate(lanes):
            np.copyto(work.logits, logits_all[:, columns(position)])
    else:
        for state, work in lanes:
            np.copyto(work.weights, state.model.weights_)
            np.matmul(X_batch, work.weights, out=work.logits)


def take_group_step(lanes: list, columns, X_batch: np.ndarray, T_batch: np.ndarray, residual_all: np.ndarray,
                    grad_all: np.ndarray, max_loss: float) -> list[float]:
    """take_step for every (state, workspace) lane of a lock-step group whose weights are the columns(p)
    of one (D, M * K) bank, given each lane's logits in work.logits (B, K).

    The M gradient products become one, X_batch^T (D, B) @ residual_all (B, M * K) into grad_all
    (D, M * K); call it only where wide_product_is_exact(X_batch.T, K, M), so that each model's
    columns have the bits of its own product and it ends exactly where it would alone.
    Returns each model's batch loss.
    """
    losses = []
    for position, (state, work) in enumerate(lanes):
        loss, residual = state.model.loss_and_residual(work.logits, T_batch, out=work.residual)
        residual_all[:, columns(position)] = residual
        losses.append(loss)
    np.matmul(X_batch.T, residual_all, out=grad_all)
    for position, (state, work) in enumerate(lanes):
        W, grad = state.model.weights_, grad_all[:, columns(position)]
        add_l2_gradient(grad, W, state.l2_strength, state.penalize_bias)
        grad *= state.learning_rate
        if is_diverging(losses[position], grad.sum(), max_loss):
            raise divergence_error(state, losses[position], max_loss, work.which)
        W -= grad
    return losses
