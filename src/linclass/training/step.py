"""One SGD step on one batch, in buffers reused by every step: of one model, or of a lock-step group
whose gradients come from one product."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..losses import add_l2_gradient, softmax_lanes_loss_and_residual
from .callbacks import Callback
from .divergence import TrainingDiverged, divergence_error, is_diverging
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


def step_lanes(active: list, bank, X_batch: np.ndarray, T_batch: np.ndarray, buffers: LaneBuffers, step: int,
               max_loss: float, drop_diverged: bool) -> bool:
    """One SGD step of every active (state, Workspace) lane on X_batch (B, D), T_batch (B, K), each
    lane's step callbacks after its step. Alone, a model multiplies its own weights; in lock-step, the
    models share each product that gives every one of them the bits of its own (wide_product_is_exact).

    Returns True when a lane diverged and was recorded (drop_diverged), which the caller then drops;
    without drop_diverged the divergence is raised.
    """
    K, M = bank.n_outputs, len(active)
    shared_gradient = bank.shared and wide_product_is_exact(X_batch.T, K, M)
    if not bank.shared:
        np.matmul(X_batch, bank.weights, out=buffers.logits)
    else:  # softmax lanes of a shared gradient read their logits side by side (take_group_step)
        forward_lanes(active, X_batch, bank.weights, bank.columns, buffers.logits, wide_product_is_exact(X_batch, K, M),
                      side_by_side=shared_gradient and K > 1)
    if shared_gradient:
        losses = take_group_step(active, bank, X_batch, T_batch, buffers, max_loss, drop_diverged)
    else:
        losses = []
        for state, work in active:
            try:
                losses.append(take_step(state, work, X_batch, T_batch, work.logits if bank.shared else buffers.logits,
                                        max_loss, work.which))
            except TrainingDiverged as error:
                if not drop_diverged:
                    raise
                state.record_divergence(error)  # as alone: no loss, callbacks or validation for this step
                losses.append(None)
    for (state, work), loss in zip(active, losses):
        if loss is None:
            continue
        state.history.train_loss_per_step[step] = loss
        for callback in work.step_callbacks:
            callback.on_step_end(state, step)
            record_stops(active, step, callback)
    return None in losses


def forward_lanes(lanes: list, X_batch: np.ndarray, weights: np.ndarray, columns, logits_all: np.ndarray,
                  wide: bool, side_by_side: bool = False) -> None:
    """Each lock-step lane's logits X_batch (B, D) @ W (D, K): one wide product into logits_all (B, M * K)
    when wide (see wide_products), else each model's own product. They end up in each lane's
    work.logits (B, K), or with side_by_side in logits_all, lane p in columns(p)."""
    if wide:
        np.matmul(X_batch, weights, out=logits_all)
        if not side_by_side:
            for position, (_, work) in enumerate(lanes):
                np.copyto(work.logits, logits_all[:, columns(position)])
    else:
        for position, (state, work) in enumerate(lanes):
            np.copyto(work.weights, state.model.weights_)
            np.matmul(X_batch, work.weights, out=work.logits)
            if side_by_side:
                logits_all[:, columns(position)] = work.logits


def take_group_step(lanes: list, bank, X_batch: np.ndarray, T_batch: np.ndarray, buffers: LaneBuffers,
                    max_loss: float, drop_diverged: bool = False) -> list[float | None]:
    """take_step for every (state, workspace) lane of a lock-step group whose weights are the columns(p)
    of the bank (D, M * K); the logits are side by side in buffers.logits (B, M * K) for softmax, in
    each lane's work.logits (B, K) for logistic models.

    The M gradient products become one, X_batch^T (D, B) @ residual (B, M * K) into buffers.grad
    (D, M * K); call it only where wide_product_is_exact(X_batch.T, K, M), so that each model's
    columns have the bits of its own product. The softmax losses and residuals are computed for all
    lanes in one set of operations (softmax_lanes_loss_and_residual), the learning rates applied in
    one multiplication and, unless a lane diverged, the updates in one subtraction from the bank.
    Each lane's arithmetic is its own step's, so it ends exactly where it would alone (a column
    depends only on its own residuals, so a diverging lane leaves the others' bits alone).
    Returns each model's batch loss, None for a lane that diverged and was recorded (drop_diverged).
    """
    n_rows, K, M = len(X_batch), bank.n_outputs, len(lanes)
    residual_all, grad_all = buffers.residual, buffers.grad
    if K > 1:
        losses = softmax_lanes_loss_and_residual(buffers.logits.reshape(n_rows, M, K), T_batch,
                                                 residual_all.reshape(n_rows, M, K)).tolist()
    else:
        losses = []
        for position, (state, work) in enumerate(lanes):
            loss, residual = state.model.loss_and_residual(work.logits, T_batch, out=work.residual)
            residual_all[:, bank.columns(position)] = residual
            losses.append(loss)
    np.matmul(X_batch.T, residual_all, out=grad_all)
    grads = grad_all.reshape(len(grad_all), M, K)
    for position, (state, _) in enumerate(lanes):
        add_l2_gradient(grads[:, position], state.model.weights_, state.l2_strength, state.penalize_bias)
    # In the weights' dtype, as `grad *= learning_rate` converts a Python float (float32 runs included).
    grads *= np.array([state.learning_rate for state, _ in lanes], dtype=grad_all.dtype)[:, None]
    for position, (state, work) in enumerate(lanes):
        if is_diverging(losses[position], grads[:, position].sum(), max_loss):
            error = divergence_error(state, losses[position], max_loss, work.which)
            if not drop_diverged:
                raise error
            state.record_divergence(error)
            losses[position] = None
    if None not in losses:
        bank.weights -= grad_all
    else:
        for position, ((state, _), loss) in enumerate(zip(lanes, losses)):
            if loss is not None:
                state.model.weights_ -= grads[:, position]
    return losses


def record_stops(active: list, step: int, callback) -> None:
    """Note, for every active model, a stop request the callback just made (on its state or the trainer)."""
    for state, _ in active:
        state.record_stop(step, callback)
