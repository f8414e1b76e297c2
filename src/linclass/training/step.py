"""One SGD step of one model on one batch, in buffers reused by every step."""

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
