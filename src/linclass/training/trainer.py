"""Mini-batch SGD: the loop that trains a model, validates it every fifth of an epoch, and stops.

Several models of one kind that share a batch order (same seed, batch size and shuffling) can be
trained in lock-step (fit_many), differing in L2 strength and learning rate: they share each batch
gather, each forward product and each validation pass, and each ends bit for bit where it would alone.
"""

from __future__ import annotations

import contextlib
import functools
import math
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from threadpoolctl import ThreadpoolController

from .._validation import check_bool, check_int, check_positive_float, check_seed
from ..errors import LinclassError
from ..features import converted_if_small, row_access
from .callbacks import Callback, EarlyStopping, check_callbacks
from .checkpoint import capture_state, restore_state
from .divergence import DEFAULT_MAX_LOSS, TrainingDiverged
from .evaluation import Evaluator
from .history import History
from .inputs import check_models, per_model_settings, prepare_data
from .state import ModelState, Progress
from .step import LaneBuffers, Workspace, record_stops, step_lanes
from .weight_bank import WeightBank

__all__ = ["DEFAULT_MAX_LOSS", "Trainer", "TrainingDiverged"]


class Trainer:
    """Mini-batch SGD over shuffled (or ordered) batches; the last incomplete batch is dropped.

    Validation happens every max(1, batches_per_epoch // validations_per_epoch) global steps,
    counting from step 0, after that step's update. A diverging step raises TrainingDiverged; with
    drop_diverged=True that model is dropped instead (model.diverged_ says where) and the others train on.
    """

    state_arrays = ("order",)

    def __init__(self, *, learning_rate: float = 0.01, batch_size: int = 128, max_epochs: int = 50,
                 shuffle: bool = True, seed: int | None = 0, validations_per_epoch: int = 5,
                 callbacks: list[Callback] | tuple = (), max_loss: float | None = DEFAULT_MAX_LOSS,
                 stop_event: threading.Event | None = None, threads: int | None = None, drop_diverged: bool = False):
        self.learning_rate = check_positive_float("learning_rate", learning_rate)
        self.batch_size = check_int("batch_size", batch_size)
        self.max_epochs = check_int("max_epochs", max_epochs)
        self.validations_per_epoch = check_int("validations_per_epoch", validations_per_epoch)
        self.shuffle, self.seed = check_bool("shuffle", shuffle), check_seed(seed)
        self.callbacks = check_callbacks(callbacks)
        self.max_loss = math.inf if max_loss is None else check_positive_float("max_loss", max_loss)
        self.drop_diverged = check_bool("drop_diverged", drop_diverged)
        if stop_event is not None and not callable(getattr(stop_event, "is_set", None)):
            raise LinclassError(f"stop_event must be a threading.Event or None; got {stop_event!r}.")
        # Set (e.g. by stop_on_signals) to end training after the current step, resumably.
        self.stop_event = stop_event if stop_event is not None else threading.Event()
        # Threads for the validation passes (None: one per core). BLAS itself always runs on one
        # thread, because a product's last bits depend on its thread count; the passes are split
        # into fixed row blocks instead, so the results are the same for any number of threads.
        self.threads = (os.cpu_count() or 1) if threads is None else check_int("threads", threads)
        self.model_states: list[ModelState] = []
        self.progress: Progress | None = None

    @property
    def stop_training(self) -> bool:
        """True once every model has been asked to stop; set it to True to stop them all (Keras style)."""
        return bool(self.model_states) and all(state.stop_training for state in self.model_states)

    @stop_training.setter
    def stop_training(self, value: bool) -> None:
        for state in self.model_states:
            state.stop_training = bool(value)

    @property
    def history(self) -> History | None:
        return self.model_states[0].history if self.model_states else None

    @property
    def early_stopping(self) -> EarlyStopping | None:
        return next((c for c in self.callbacks if isinstance(c, EarlyStopping)), None)

    def fit(self, model, X, y, X_val=None, y_val=None, *, resume_from: dict | None = None) -> History:
        """Train model on X (N, D), y (N,); returns the History (also set as model.history_).

        resume_from: a dict from checkpoint() of an interrupted run with the same data and
        settings; training continues exactly where it stopped.
        """
        return self.fit_many([model], X, y, X_val, y_val, callbacks_per_model=[self.callbacks],
                             resume_from=resume_from)[0]

    def fit_many(self, models: list, X, y, X_val=None, y_val=None, *,
                 callbacks_per_model: list[list[Callback]] | None = None, learning_rates: list[float] | None = None,
                 resume_from: dict | None = None) -> list[History]:
        """Train several models of one kind (e.g. a sweep over l2_strength and learning rate) in lock-step.

        Each model gets its own copy of the trainer's callbacks (or callbacks_per_model) and its own
        learning rate (learning_rates, default the trainer's), and ends exactly as fit() would leave it.
        """
        models = check_models(models)
        callbacks_per_model, learning_rates = per_model_settings(self, models, callbacks_per_model, learning_rates)
        self._setup(models, callbacks_per_model, learning_rates, X, y, X_val, y_val)
        if resume_from is not None:
            restore_state(self, resume_from)
        self._train()
        return [model.history_ for model in models]

    def _setup(self, models, callbacks_per_model, learning_rates, X, y, X_val, y_val) -> None:
        X, y, X_val, y_val = prepare_data(models, callbacks_per_model, self.batch_size, X, y, X_val, y_val)
        X, X_val = converted_if_small(X, X_val)
        first = models[0]
        self.X, self.targets = X, first.encode_targets(y, X.dtype)
        batches_per_epoch = len(X) // self.batch_size
        self.progress = Progress(batches_per_epoch, max(1, batches_per_epoch // self.validations_per_epoch),
                                 self.max_epochs)
        self.evaluator = Evaluator(X, y, X_val, y_val, binary=first.n_outputs == 1)
        # All weights live side by side in one (D, models * K) array, so one product serves all.
        self.bank = WeightBank(models, X.shape[1], first.n_outputs, X.dtype)
        self.model_states = [
            ModelState(model, list(callbacks), self.progress, rate, float(model.l2_strength), bool(model.penalize_bias))
            for model, callbacks, rate in zip(models, callbacks_per_model, learning_rates)]
        self.rng = np.random.default_rng(self.seed)
        for state in self.model_states:
            for callback in state.callbacks:
                callback.on_train_begin(state)

    def _train(self) -> None:
        pool = ThreadPoolExecutor(self.threads) if self.threads > 1 else None
        map_blocks = pool.map if pool is not None else map
        states = self.model_states
        try:
            # Overflow is expected when a run diverges; the loop detects it and says so in one line.
            with (_blas_controller().limit(limits=1, user_api="blas"), pool or contextlib.nullcontext(),
                  np.errstate(over="ignore", invalid="ignore")):
                self._loop(map_blocks)
                self.bank.detach()
                if any(state.interrupted for state in states):  # a group resumes as one: its stopped models
                    for state in states:  # too keep their last weights (not the restored best) for resume
                        state.interrupted = state.divergence is None
                finished = [state for state in states if not state.interrupted and state.divergence is None]
                for state in finished:
                    state.completed = True
                if finished:  # the weights after the last step, evaluated once (before any restore)
                    W, columns = self.bank.stacked([state.model for state in finished])
                    for state, logs in zip(finished, self.evaluator.evaluate(W, columns, map_blocks)):
                        state.final_weights_logs = logs
        finally:
            self.bank.detach()
            for state in states:
                for callback in state.callbacks:
                    callback.on_train_end(state)
                state.model.apply_fit_result(state.fit_result())

    def checkpoint(self) -> dict:
        """The complete state of an interrupted run, for fit/fit_many(resume_from=...)."""
        return capture_state(self)

    def state_dict(self) -> dict:
        """The loop's position and random generator; "order" is this epoch's row order (empty: none)."""
        progress = self.progress
        return {"epoch": progress.epoch, "batch_index": progress.batch_index, "global_step": progress.global_step,
                "rng_state": self.rng.bit_generator.state,
                "order": progress.order if progress.order is not None else np.empty(0, dtype=np.int64)}

    def load_state_dict(self, state: dict) -> None:
        progress = self.progress
        progress.epoch, progress.batch_index = int(state["epoch"]), int(state["batch_index"])
        progress.global_step = int(state["global_step"])
        self.rng.bit_generator.state = state["rng_state"]
        order = state["order"]
        progress.order = order if order is not None and np.asarray(order).size else None

    def _loop(self, map_blocks) -> None:
        X, T, batch_size, progress, bank = row_access(self.X), self.targets, self.batch_size, self.progress, self.bank
        shared, K, D = bank.shared, bank.n_outputs, X.shape[1]
        batch, batch_targets = X.buffer(batch_size), np.empty((batch_size, K), dtype=X.dtype)
        lanes = [(state, Workspace.for_state(state, batch_size, D, K, X.dtype, shared)) for state in self.model_states]
        active = [lane for lane in lanes if lane[0].training]
        if not active:
            return
        if len(active) < len(lanes):
            bank.compact([state.model for state, _ in active])
        buffers = LaneBuffers.for_bank(bank, batch_size)

        while progress.epoch < self.max_epochs:
            if progress.batch_index == 0:
                progress.order = self.rng.permutation(len(X)) if self.shuffle else None
            order = progress.order
            while progress.batch_index < progress.batches_per_epoch:
                start = progress.batch_index * batch_size
                if order is None:
                    X_batch, T_batch = X.block(start, start + batch_size, batch), T[start:start + batch_size]
                else:
                    rows = order[start:start + batch_size]
                    X_batch = X.take_rows(rows, batch)
                    T_batch = np.take(T, rows, axis=0, out=batch_targets)
                step = progress.global_step
                if step_lanes(active, bank, X_batch, T_batch, buffers, step, self.max_loss, self.drop_diverged):
                    # dropped before this step's validation, which a run alone never reaches
                    active = [lane for lane in active if lane[0].divergence is None]
                    if not active:
                        return
                    bank.compact([state.model for state, _ in active])
                    buffers = LaneBuffers.for_bank(bank, batch_size)
                if step % progress.validate_every == 0:
                    self._validate(step, active, map_blocks)
                progress.batch_index += 1
                progress.global_step += 1
                if any(state.stop_training for state, _ in active):
                    active = [lane for lane in active if not lane[0].stop_training]
                    if not active:
                        return
                    bank.compact([state.model for state, _ in active])
                    buffers = LaneBuffers.for_bank(bank, batch_size)
                if self.stop_event.is_set():
                    for state, _ in active:
                        state.interrupted = True
                    return
            progress.batch_index = 0
            progress.epoch += 1

    def _validate(self, step: int, active: list, map_blocks) -> None:
        """Loss and accuracy of every active model on the whole training and validation sets."""
        columns = [self.bank.columns(p) for p in range(len(active))] if len(active) > 1 else [slice(None)]
        for (state, _), logs in zip(active, self.evaluator.evaluate(self.bank.weights, columns, map_blocks)):
            state.history.validation[step] = state.last_logs = logs
            for callback in state.callbacks:
                callback.on_validation_end(state, step, logs)
                record_stops(active, step, callback)


@functools.cache
def _blas_controller() -> ThreadpoolController:
    return ThreadpoolController()
