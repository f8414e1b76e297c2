"""Mini-batch SGD: the loop that trains a model, validates it every fifth of an epoch, and stops.

Several models that differ only in their L2 strength can be trained in lock-step (fit_many):
they share each batch gather, each forward product and each validation pass, and every model
ends bit for bit where it would have ended alone.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import math
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from .._validation import check_features, check_int, check_labels, is_number
from ..errors import LinclassError
from ..losses import add_l2_gradient, binary_loss_sum_and_hits, softmax_loss_sum_and_hits
from .callbacks import Callback, EarlyStopping
from .checkpoint import capture_state, restore_state
from .history import METRIC_NAMES, History, StopInfo


class TrainingDiverged(LinclassError):
    """The loss or the update became non-finite or exploded; the model keeps the weights before that step."""


# A mean cross-entropy this large means the true classes get probabilities below e^-10000:
# the steps overshoot (linear models never overflow with a stable loss, they only blow up).
DEFAULT_MAX_LOSS = 1e4
# Validation passes multiply in blocks of this many rows (one BLAS thread each), so their
# results do not depend on how many threads share the blocks.
VALIDATION_BLOCK_ROWS = 2048


class _Lane:
    """One model inside a Trainer run: its weights, history and callbacks.

    Callbacks receive the lane as `trainer`: they see its model and stop flag, and every shared
    attribute (global_step, epoch, order, total_steps, ...) of the trainer.
    """

    def __init__(self, trainer: "Trainer", model: "LinearClassifier", callbacks: list[Callback]):
        self._trainer, self.model, self.callbacks = trainer, model, callbacks
        self.history = History()
        self.stop_training, self.stopped_early, self.last_logs = False, None, None
        self.interrupted = self.completed = False

    def __getattr__(self, name):
        return getattr(self._trainer, name)

    @property
    def early_stopping(self) -> EarlyStopping | None:
        return next((c for c in self.callbacks if isinstance(c, EarlyStopping)), None)


class Trainer:
    """Mini-batch SGD over shuffled (or ordered) batches; the last incomplete batch is dropped.

    Validation happens every max(1, batches_per_epoch // validations_per_epoch) global steps,
    counting from step 0, after that step's update.
    """

    def __init__(self, *, learning_rate: float = 0.01, batch_size: int = 128, max_epochs: int = 50,
                 shuffle: bool = True, seed: int | None = 0, validations_per_epoch: int = 5,
                 callbacks: list[Callback] | tuple = (), max_loss: float | None = DEFAULT_MAX_LOSS,
                 stop_event: threading.Event | None = None, threads: int | None = None):
        self.learning_rate = float(learning_rate) if is_number(learning_rate) else learning_rate
        if not is_number(learning_rate) or not math.isfinite(self.learning_rate) or self.learning_rate <= 0:
            raise LinclassError(f"learning_rate must be a finite number > 0; got {learning_rate!r}.")
        self.batch_size = check_int("batch_size", batch_size)
        self.max_epochs = check_int("max_epochs", max_epochs)
        self.validations_per_epoch = check_int("validations_per_epoch", validations_per_epoch)
        self.shuffle, self.seed = bool(shuffle), seed
        self.callbacks = list(callbacks)
        self.max_loss = math.inf if max_loss is None else float(max_loss)
        # Set (e.g. by stop_on_signals) to end training after the current step, resumably.
        self.stop_event = stop_event if stop_event is not None else threading.Event()
        # Threads for the validation passes (None: one per core). BLAS itself always runs on one
        # thread, because a product's last bits depend on its thread count; the passes are split
        # into fixed row blocks instead, so the results are the same for any number of threads.
        self.threads = (os.cpu_count() or 1) if threads is None else check_int("threads", threads)
        self.lanes: list[_Lane] = []

    @property
    def early_stopping(self) -> EarlyStopping | None:
        return next((c for c in self.callbacks if isinstance(c, EarlyStopping)), None)

    # The single-model view of the last fit, for callbacks and callers.
    model = property(lambda self: self.lanes[0].model)
    history = property(lambda self: self.lanes[0].history)
    stop_training = property(lambda self: self.lanes[0].stop_training)
    stopped_early = property(lambda self: self.lanes[0].stopped_early)

    def fit(self, model: "LinearClassifier", X, y, X_val=None, y_val=None, *,
            resume_from: dict | None = None) -> History:
        """Train model on X (N, D), y (N,); returns the History (also set as model.history_).

        resume_from: a dict from checkpoint() of an interrupted run with the same data and
        settings; training continues exactly where it stopped.
        """
        self._setup([model], [self.callbacks], X, y, X_val, y_val)
        if resume_from is not None:
            restore_state(self, resume_from)
        self._train()
        return model.history_

    def fit_many(self, models: list["LinearClassifier"], X, y, X_val=None, y_val=None, *,
                 callbacks_per_model: list[list[Callback]] | None = None,
                 resume_from: dict | None = None) -> list[History]:
        """Train several models of one kind (e.g. a sweep over l2_strength) in lock-step on X, y.

        Each model gets its own copy of the trainer's callbacks (or callbacks_per_model) and ends
        exactly as fit() would leave it; they share the batches, products and validation passes.
        """
        if not models or len({(type(m), m.n_outputs) for m in models}) != 1:
            raise LinclassError("fit_many needs one or more models of the same kind and number of classes.")
        if callbacks_per_model is None:
            callbacks_per_model = [copy.deepcopy(self.callbacks) for _ in models]
        self._setup(list(models), callbacks_per_model, X, y, X_val, y_val)
        if resume_from is not None:
            restore_state(self, resume_from)
        self._train()
        return [model.history_ for model in models]

    def _setup(self, models, callbacks_per_model, X, y, X_val, y_val) -> None:
        first = models[0]
        X = check_features(X)
        y = check_labels(y, len(X), first.n_classes)
        has_val = X_val is not None or y_val is not None
        if has_val:
            X_val = check_features(X_val, "X_val", X.shape[1])
            if X_val.dtype != X.dtype:
                raise LinclassError(f"X_val is {X_val.dtype} but X is {X.dtype}; use one dtype.")
            y_val = check_labels(y_val, len(X_val), first.n_classes, "y_val")
        if self.batch_size > len(X):
            raise LinclassError(f"batch_size must be at most the {len(X)} training rows; got {self.batch_size}.")
        for callbacks in callbacks_per_model:
            stopper = next((c for c in callbacks if isinstance(c, EarlyStopping)), None)
            if stopper is not None and stopper.monitor.startswith("val") and not has_val:
                raise LinclassError("early stopping on val_loss needs X_val and y_val; pass them or drop it.")

        self.X, self.y, self.X_val, self.y_val = X, y, X_val, y_val
        self.targets = first.encode_targets(y, X.dtype)
        self.batches_per_epoch = len(X) // self.batch_size
        self.validate_every = max(1, self.batches_per_epoch // self.validations_per_epoch)
        self.total_steps = self.max_epochs * self.batches_per_epoch
        # Validation passes work in fixed blocks of rows (training rows, then validation rows).
        self.validation_blocks = [("train", X[a:a + VALIDATION_BLOCK_ROWS], y[a:a + VALIDATION_BLOCK_ROWS])
                                  for a in range(0, len(X), VALIDATION_BLOCK_ROWS)]
        if has_val:
            self.validation_blocks += [("val", X_val[a:a + VALIDATION_BLOCK_ROWS], y_val[a:a + VALIDATION_BLOCK_ROWS])
                                       for a in range(0, len(X_val), VALIDATION_BLOCK_ROWS)]
        # All weights live side by side in one (D, models * K) array, so one product serves all.
        K = first.n_outputs
        self.weights_all = np.zeros((X.shape[1], K * len(models)), dtype=X.dtype)
        for i, model in enumerate(models):
            model.weights_ = self.weights_all if len(models) == 1 else self.weights_all[:, i * K:(i + 1) * K]
        self.lanes = [_Lane(self, model, list(callbacks)) for model, callbacks in zip(models, callbacks_per_model)]
        self.rng = np.random.default_rng(self.seed)
        self.epoch = self.batch_index = self.global_step = 0
        self.order = None
        for lane in self.lanes:
            for callback in lane.callbacks:
                callback.on_train_begin(lane)

    def _train(self) -> None:
        pool = ThreadPoolExecutor(self.threads) if self.threads > 1 else None
        self._map = pool.map if pool is not None else map
        try:
            with _blas_controller().limit(limits=1, user_api="blas"), pool or contextlib.nullcontext():
                self._loop()
            for lane in self.lanes:
                lane.completed = not lane.interrupted
        finally:
            for lane in self.lanes:
                if len(self.lanes) > 1:
                    lane.model.weights_ = lane.model.weights_.copy()  # detach from the shared array
                for callback in lane.callbacks:
                    callback.on_train_end(lane)
                self._publish(lane)

    def checkpoint(self) -> dict:
        """The complete state of an interrupted run, for fit/fit_many(resume_from=...)."""
        return capture_state(self)

    def _publish(self, lane: _Lane) -> None:
        model, stopper = lane.model, lane.early_stopping
        model.history_ = lane.history
        model.early_stop_ = lane.stopped_early
        model.n_steps_ = self.global_step if not lane.stopped_early else lane.stopped_early.step + 1
        model.final_metrics_ = lane.last_logs
        model.best_metrics_ = stopper.best_logs if stopper is not None else lane.last_logs
        model.best_step_ = stopper.best_step if stopper is not None else None
        model.interrupted_ = lane.interrupted

    def _loop(self) -> None:
        X, T, batch_size, learning_rate = self.X, self.targets, self.batch_size, self.learning_rate
        W_all, lanes = self.weights_all, self.lanes
        shared = len(lanes) > 1
        K = lanes[0].model.n_outputs
        # Buffers reused by every step, so the loop allocates almost nothing.
        batch = np.empty((batch_size, X.shape[1]), dtype=X.dtype)
        batch_targets = np.empty((batch_size, K), dtype=X.dtype)
        logits_all = np.empty((batch_size, W_all.shape[1]), dtype=X.dtype)
        for i, lane in enumerate(lanes):
            lane.columns = slice(i * K, (i + 1) * K)
            lane.logits = np.empty((batch_size, K), dtype=X.dtype) if shared else logits_all
            lane.residual = np.empty((batch_size, K), dtype=X.dtype)
            lane.grad = np.empty((X.shape[1], K), dtype=X.dtype)
            lane.step_callbacks = [c for c in lane.callbacks if type(c).on_step_end is not Callback.on_step_end]
        active = [lane for lane in lanes if not lane.stop_training]
        if not active:
            return
        if len(active) < len(lanes):
            W_all, logits_all = self._compact(active)

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
                np.matmul(X_batch, W_all, out=logits_all)
                step = self.global_step
                for lane in active:
                    model, W, grad = lane.model, lane.model.weights_, lane.grad
                    if shared:
                        np.copyto(lane.logits, logits_all[:, lane.columns])
                    loss, _ = model.loss_and_residual(lane.logits, T_batch, out=lane.residual)
                    np.matmul(X_batch.T, lane.residual, out=grad)
                    add_l2_gradient(grad, W, model.l2_strength, model.penalize_bias)
                    grad *= learning_rate
                    if not (loss <= self.max_loss and math.isfinite(grad.sum())):
                        self._diverged(lane, loss)
                    W -= grad
                    lane.history.train_loss_per_step[step] = loss
                    for callback in lane.step_callbacks:
                        callback.on_step_end(lane, step)
                if step % self.validate_every == 0:
                    self._validate(step, active)
                self.batch_index += 1
                self.global_step += 1
                if any(lane.stop_training for lane in active):
                    active = [lane for lane in active if not lane.stop_training]
                    if not active:
                        return
                    W_all, logits_all = self._compact(active)
                if self.stop_event.is_set():
                    for lane in active:
                        lane.interrupted = True
                    return
            self.batch_index = 0
            self.epoch += 1

    def _compact(self, active: list[_Lane]) -> tuple[np.ndarray, np.ndarray]:
        """Keep only the active models' columns in the shared weights, so stopped ones cost nothing.

        Returns the new shared weights and a matching forward-product buffer.
        """
        K = active[0].model.n_outputs
        W_all = np.empty((self.weights_all.shape[0], K * len(active)), dtype=self.weights_all.dtype)
        for lane in self.lanes:
            if lane not in active:
                lane.model.weights_ = lane.model.weights_.copy()  # frozen: detach from the shared array
        for i, lane in enumerate(active):
            W_all[:, i * K:(i + 1) * K] = lane.model.weights_
            lane.model.weights_, lane.columns = W_all[:, i * K:(i + 1) * K], slice(i * K, (i + 1) * K)
        self.weights_all = W_all
        return W_all, np.empty((self.batch_size, W_all.shape[1]), dtype=W_all.dtype)

    def _diverged(self, lane: _Lane, loss: float) -> None:
        lane.model.history_ = lane.history
        problem = "the update is not finite" if math.isfinite(loss) else "it is not finite"
        if math.isfinite(loss) and loss > self.max_loss:
            problem = f"it exceeds {self.max_loss:g} nats"
        which = f" ({lane.model!r})" if len(self.lanes) > 1 else ""
        raise TrainingDiverged(
            f"training diverged at step {self.global_step} (epoch {self.epoch}){which}: batch loss {loss:.4g}, "
            f"{problem}; the model keeps the weights before this step. "
            f"Lower the learning rate (now {self.learning_rate:g}).")

    def _validate(self, step: int, lanes: list[_Lane]) -> None:
        """Loss and accuracy of every active model on the whole training and validation sets.

        Each block of rows is multiplied by all models' weights at once and reduced to per-model
        sums right away (on the trainer's threads); the sums are then added in block order, so the
        result does not depend on the number of threads.
        """
        W_all = self.weights_all
        stats = softmax_loss_sum_and_hits if self.targets.shape[1] > 1 else binary_loss_sum_and_hits
        columns = [lane.columns if len(lanes) > 1 else slice(None) for lane in lanes]

        def block_sums(block):
            _, X_block, y_block = block
            logits = X_block @ W_all
            return [stats(np.ascontiguousarray(logits[:, cols]), y_block) for cols in columns]

        sums = list(self._map(block_sums, self.validation_blocks))
        sizes = {"train": len(self.X), "val": len(self.X_val) if self.X_val is not None else 0}
        for i, lane in enumerate(lanes):
            totals = {"train": [0.0, 0], "val": [0.0, 0]}
            for (part, _, _), block in zip(self.validation_blocks, sums):
                totals[part][0] += block[i][0]
                totals[part][1] += block[i][1]
            logs = {}
            for part in ("train", "val"):
                if sizes[part]:
                    logs[f"{part}_loss"] = totals[part][0] / sizes[part]
                    logs[f"{part}_accuracy"] = totals[part][1] / sizes[part]
            logs = {name: logs[name] for name in METRIC_NAMES if name in logs}
            lane.history.validation[step] = lane.last_logs = logs
            was_stopping = lane.stop_training
            for callback in lane.callbacks:
                callback.on_validation_end(lane, step, logs)
            if lane.stop_training and not was_stopping and lane.early_stopping is not None:
                lane.stopped_early = StopInfo(step=step, epoch=self.epoch)


@functools.cache
def _blas_controller():
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()

