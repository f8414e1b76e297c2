"""One SGD step of one model on one batch, in buffers reused by every step."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..losses import add_l2_gradient
from .callbacks import Callback
from .divergence import TrainingDiverged, divergence_error, is_diverging


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


def step_lanes(active: list, bank, X_batch: np.ndarray, T_batch: np.ndarray, logits_all: np.ndarray, step: int,
               max_loss: float, drop_diverged: bool) -> bool:
    """One step of every active (state, Workspace) lane on the batch, whose logits for all lanes are
    logits_all (B, lanes * K); each lane's step callbacks follow its step. True when a lane diverged
    and was recorded (drop_diverged), which the caller then drops; without drop_diverged it raises."""
    diverged = False
    for position, (state, work) in enumerate(active):
        if bank.shared:
            np.copyto(work.logits, logits_all[:, bank.columns(position)])
        try:
            loss = take_step(state, work, X_batch, T_batch, work.logits if bank.shared else logits_all, max_loss,
                             work.which)
        except TrainingDiverged as error:
            if not drop_diverged:
                raise
            state.record_divergence(error)  # as alone: no loss, callbacks or validation for this step
            diverged = True
            continue
        state.history.train_loss_per_step[step] = loss
        for callback in work.step_callbacks:
            callback.on_step_end(state, step)
            record_stops(active, step, callback)
    return diverged


def record_stops(active: list, step: int, callback) -> None:
    """Note, for every active model, a stop request the callback just made (on its state or the trainer)."""
    for state, _ in active:
        state.record_stop(step, callback)
