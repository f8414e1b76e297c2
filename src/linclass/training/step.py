"""One SGD step on one batch, in buffers reused by every step: of one model, or of a lock-step group
whose gradients come from one product."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..losses import add_l2_gradient
from .callbacks import Callback
from .divergence import divergence_error, is_diverging


@dataclass
class Workspace:
    """Per-model buffers the step reuses, so the loop allocates almost nothing (B rows, D features, K outputs)."""

    logits: np.ndarray | None  # (B, K): own copy of the model's logit columns (lock-step only)
    residual: np.ndarray  # (B, K)
    grad: np.ndarray  # (D, K)
    step_callbacks: list  # the callbacks with an on_step_end of their own
    which: str = ""  # names the model in a divergence message (lock-step only); built once, not every step

    @classmethod
    def for_state(cls, state, batch_size: int, n_features: int, n_outputs: int, dtype, shared: bool) -> "Workspace":
        return cls(np.empty((batch_size, n_outputs), dtype=dtype) if shared else None,
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


def take_group_step(lanes: list, columns, X_batch: np.ndarray, T_batch: np.ndarray, logits_all: np.ndarray,
                    residual_all: np.ndarray, grad_all: np.ndarray, max_loss: float) -> list[float]:
    """take_step for every (state, workspace) lane of a lock-step group of softmax models, whose weights
    are the columns(p) of one (D, M * K) bank: logits_all (B, M * K) = X_batch @ bank.

    The M gradient products become one, X_batch^T (D, B) @ residual_all (B, M * K) into grad_all
    (D, M * K); each column of that product has the bits of the model's own (D, K) product, so
    every model still ends bit for bit where it would alone. (Not for K = 1: a (D, B) @ (B, 1)
    product takes another BLAS routine, whose bits differ.) Returns each model's batch loss.
    """
    losses = []
    for position, (state, work) in enumerate(lanes):
        cols = columns(position)
        np.copyto(work.logits, logits_all[:, cols])
        loss, residual = state.model.loss_and_residual(work.logits, T_batch, out=work.residual)
        residual_all[:, cols] = residual
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
