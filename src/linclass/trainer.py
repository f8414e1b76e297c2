"""Mini-batch SGD: the loop that trains a model, validates it every fifth of an epoch, and stops."""

from __future__ import annotations

import functools
import math
import signal
import threading
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from .callbacks import Callback, EarlyStopping, History
from .errors import LinclassError
from .losses import (add_l2_gradient, binary_cross_entropy_and_accuracy,
                     softmax_cross_entropy_and_accuracy)
from .models import LinearClassifier, check_features, check_labels


class TrainingDiverged(LinclassError):
    """The loss or the update became non-finite or exploded; the model keeps the weights before that step."""


# A mean cross-entropy this large means the true classes get probabilities below e^-10000:
# the steps overshoot (linear models never overflow with a stable loss, they only blow up).
DEFAULT_MAX_LOSS = 1e4


def _check_positive_int(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise LinclassError(f"{name} must be an integer >= 1; got {value!r}.")
    return int(value)


def _joined_rows(A: np.ndarray, B: np.ndarray) -> np.ndarray | None:
    """A view of [A; B] when B's rows follow A's in one C-contiguous buffer, else None."""
    base = A.base
    if base is None or B.base is not base or base.ndim != 2 or not base.flags.c_contiguous:
        return None
    if not (A.flags.c_contiguous and B.flags.c_contiguous and A.shape[1] == B.shape[1] == base.shape[1]):
        return None
    row_bytes = base.strides[0]
    start, offset = divmod(A.__array_interface__["data"][0] - base.__array_interface__["data"][0], row_bytes)
    if offset or B.__array_interface__["data"][0] != A.__array_interface__["data"][0] + A.shape[0] * row_bytes:
        return None
    return base[start:start + A.shape[0] + B.shape[0]]


@dataclass
class StopInfo:
    """Where early stopping fired: the global step and the 0-based epoch."""

    step: int
    epoch: int


class Trainer:
    """Mini-batch SGD over shuffled (or ordered) batches; the last incomplete batch is dropped.

    Validation happens every max(1, batches_per_epoch // validations_per_epoch) global steps,
    counting from step 0, after that step's update.
    """

    def __init__(self, *, learning_rate: float = 0.01, batch_size: int = 128, max_epochs: int = 50,
                 shuffle: bool = True, seed: int | None = 0, validations_per_epoch: int = 5,
                 callbacks: list[Callback] | tuple = (), max_loss: float | None = DEFAULT_MAX_LOSS):
        self.learning_rate = float(learning_rate) if _is_number(learning_rate) else learning_rate
        if not _is_number(learning_rate) or not math.isfinite(self.learning_rate) or self.learning_rate <= 0:
            raise LinclassError(f"learning_rate must be a finite number > 0; got {learning_rate!r}.")
        self.batch_size = _check_positive_int("batch_size", batch_size)
        self.max_epochs = _check_positive_int("max_epochs", max_epochs)
        self.validations_per_epoch = _check_positive_int("validations_per_epoch", validations_per_epoch)
        self.shuffle, self.seed = bool(shuffle), seed
        self.callbacks = list(callbacks)
        self.max_loss = math.inf if max_loss is None else float(max_loss)
        self.interrupt_requested = False

    @property
    def early_stopping(self) -> EarlyStopping | None:
        return next((c for c in self.callbacks if isinstance(c, EarlyStopping)), None)

    def fit(self, model: LinearClassifier, X, y, X_val=None, y_val=None, *,
            resume_from: dict | None = None) -> History:
        """Train model on X (N, D), y (N,); returns the History (also set as model.history_).

        resume_from: a dict from checkpoint() of an interrupted run with the same data and
        settings; training continues exactly where it stopped.
        """
        X = check_features(X)
        y = check_labels(y, len(X), model.n_classes)
        has_val = X_val is not None or y_val is not None
        if has_val:
            X_val = check_features(X_val, "X_val", X.shape[1])
            if X_val.dtype != X.dtype:
                raise LinclassError(f"X_val is {X_val.dtype} but X is {X.dtype}; use one dtype.")
            y_val = check_labels(y_val, len(X_val), model.n_classes, "y_val")
        if self.batch_size > len(X):
            raise LinclassError(f"batch_size must be at most the {len(X)} training rows; got {self.batch_size}.")
        stopper = self.early_stopping
        if stopper is not None and stopper.monitor.startswith("val") and not has_val:
            raise LinclassError("early stopping on val_loss needs X_val and y_val; pass them or drop it.")

        self.model, self.X, self.y, self.X_val, self.y_val = model, X, y, X_val, y_val
        self.targets = model.encode_targets(y, X.dtype)
        self.batches_per_epoch = len(X) // self.batch_size
        self.validate_every = max(1, self.batches_per_epoch // self.validations_per_epoch)
        self.total_steps = self.max_epochs * self.batches_per_epoch
        self.X_joined = _joined_rows(X, X_val) if has_val else None
        model.init_weights(X.shape[1], X.dtype)
        self.rng = np.random.default_rng(self.seed)
        self.history = History()
        self.epoch = self.batch_index = self.global_step = 0
        self.order = None
        self.stop_training, self.stopped_early = False, None
        self.last_logs = None
        self.interrupted = self.completed = False
        for callback in self.callbacks:
            callback.on_train_begin(self)
        if resume_from is not None:
            self._restore(resume_from)
        blas = _blas_controller()
        self.validation_threads = blas.info()[0]["num_threads"] if blas.info() else None
        try:
            # The steps' products are far too small to gain from threads; on a busy machine
            # BLAS threads only spin and wait. Validation passes keep the caller's setting.
            with blas.limit(limits=1, user_api="blas"):
                self._loop()
            self.completed = not self.interrupted
        finally:
            for callback in self.callbacks:
                callback.on_train_end(self)
        return self._publish()

    def _publish(self) -> History:
        model, stopper = self.model, self.early_stopping
        model.history_ = self.history
        model.early_stop_ = self.stopped_early
        model.n_steps_ = self.global_step
        model.final_metrics_ = self.last_logs
        model.best_metrics_ = stopper.best_logs if stopper is not None else self.last_logs
        model.best_step_ = stopper.best_step if stopper is not None else None
        model.interrupted_ = self.interrupted
        return self.history

    # -- interrupt and resume

    @contextmanager
    def stop_on_signals(self, signals=(signal.SIGINT, signal.SIGTERM)):
        """Within the block, SIGINT/SIGTERM end training after the current step (a second one at once)."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return

        def request_stop(signum, frame):
            if self.interrupt_requested:
                raise KeyboardInterrupt
            self.interrupt_requested = True

        self.interrupt_requested = False
        previous = {sig: signal.signal(sig, request_stop) for sig in signals}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def checkpoint(self) -> dict:
        """The complete state of an interrupted run: {"meta": JSON-able dict, "arrays": {name: array}}."""
        stopper = self.early_stopping
        meta = {"epoch": self.epoch, "batch_index": self.batch_index, "global_step": self.global_step,
                "rng_state": self.rng.bit_generator.state, "last_logs": self.last_logs,
                "stop_training": self.stop_training,
                "stopped_early": None if self.stopped_early is None else vars(self.stopped_early)}
        arrays = {"weights": self.model.weights_.copy(),
                  "order": self.order if self.order is not None else np.empty(0, dtype=np.int64)}
        if stopper is not None:
            state = stopper.state_dict()
            arrays["best_weights"] = state.pop("best_weights")
            if arrays["best_weights"] is None:
                del arrays["best_weights"]
            meta["early_stopping"] = state
        return {"meta": meta, "arrays": arrays, "history": self.history}

    def _restore(self, state: dict) -> None:
        meta, arrays = state["meta"], state["arrays"]
        W = arrays["weights"]
        if W.shape != self.model.weights_.shape or W.dtype != self.model.weights_.dtype:
            raise LinclassError(f"checkpoint weights are {W.dtype} {W.shape}, the run needs "
                                f"{self.model.weights_.dtype} {self.model.weights_.shape}; is it another run?")
        self.model.weights_[...] = W
        self.epoch, self.batch_index = int(meta["epoch"]), int(meta["batch_index"])
        self.global_step = int(meta["global_step"])
        self.rng.bit_generator.state = meta["rng_state"]
        self.order = arrays["order"] if arrays["order"].size else None
        self.last_logs, self.stop_training = meta["last_logs"], bool(meta["stop_training"])
        self.stopped_early = StopInfo(**meta["stopped_early"]) if meta["stopped_early"] else None
        self.history = state["history"]
        stopper = self.early_stopping
        if stopper is not None:
            stopper.load_state_dict({**meta["early_stopping"], "best_weights": arrays.get("best_weights")})

    def _loop(self) -> None:
        model, X, T = self.model, self.X, self.targets
        W, batch_size, learning_rate = model.weights_, self.batch_size, self.learning_rate
        l2_strength, penalize_bias = model.l2_strength, model.penalize_bias
        n_outputs = W.shape[1]
        # Buffers reused by every step, so the loop allocates almost nothing.
        batch = np.empty((batch_size, X.shape[1]), dtype=X.dtype)
        batch_targets = np.empty((batch_size, n_outputs), dtype=X.dtype)
        logits = np.empty((batch_size, n_outputs), dtype=X.dtype)
        residual = np.empty_like(logits)
        grad = np.empty_like(W)
        train_losses = self.history.train_loss_per_step
        step_callbacks = [c for c in self.callbacks if type(c).on_step_end is not Callback.on_step_end]

        while self.epoch < self.max_epochs:
            if self.batch_index == 0:
                self.order = self.rng.permutation(len(X)) if self.shuffle else None
            order = self.order
            while self.batch_index < self.batches_per_epoch:
                start = self.batch_index * batch_size
                if order is None:
                    X_batch, T_batch = X[start:start + batch_size], T[start:start + batch_size]
                else:
                    rows = order[start:start + batch_size]
                    X_batch = np.take(X, rows, axis=0, out=batch)
                    T_batch = np.take(T, rows, axis=0, out=batch_targets)
                np.matmul(X_batch, W, out=logits)
                loss, _ = model.loss_and_residual(logits, T_batch, out=residual)
                np.matmul(X_batch.T, residual, out=grad)
                add_l2_gradient(grad, W, l2_strength, penalize_bias)
                grad *= learning_rate
                if not (loss <= self.max_loss and math.isfinite(grad.sum())):
                    self._diverged(loss)
                W -= grad
                step = self.global_step
                train_losses[step] = loss
                for callback in step_callbacks:
                    callback.on_step_end(self, step)
                if step % self.validate_every == 0:
                    self._validate(step)
                self.batch_index += 1
                self.global_step += 1
                if self.stop_training:
                    return
                if self.interrupt_requested:
                    self.interrupted = True
                    return
            self.batch_index = 0
            self.epoch += 1

    def _diverged(self, loss: float) -> None:
        self.model.history_ = self.history
        problem = "the update is not finite" if math.isfinite(loss) else "it is not finite"
        if math.isfinite(loss) and loss > self.max_loss:
            problem = f"it exceeds {self.max_loss:g} nats"
        raise TrainingDiverged(
            f"training diverged at step {self.global_step} (epoch {self.epoch}): batch loss {loss:.4g}, "
            f"{problem}; the model keeps the weights before this step. "
            f"Lower the learning rate (now {self.learning_rate:g}).")

    def _validate(self, step: int) -> None:
        model, W = self.model, self.model.weights_
        with _blas_controller().limit(limits=self.validation_threads, user_api="blas"):
            if self.X_joined is not None:
                all_logits = self.X_joined @ W
                train_logits, val_logits = all_logits[:len(self.X)], all_logits[len(self.X):]
            else:
                train_logits = self.X @ W
                val_logits = self.X_val @ W if self.X_val is not None else None
        stats = softmax_cross_entropy_and_accuracy if W.shape[1] > 1 else binary_cross_entropy_and_accuracy
        logs = {}
        logs["train_loss"], logs["train_accuracy"] = stats(train_logits, self.y)
        if val_logits is not None:
            logs["val_loss"], logs["val_accuracy"] = stats(val_logits, self.y_val)
        logs = {name: logs[name] for name in ("train_loss", "val_loss", "train_accuracy", "val_accuracy")
                if name in logs}
        self.history.validation[step] = logs
        self.last_logs = logs
        was_stopping = self.stop_training
        for callback in self.callbacks:
            callback.on_validation_end(self, step, logs)
        if self.stop_training and not was_stopping and self.early_stopping is not None:
            self.stopped_early = StopInfo(step=step, epoch=self.epoch)


@functools.cache
def _blas_controller():
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def _is_number(value) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
