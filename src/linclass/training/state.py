"""Explicit training state: the shared Progress of the loop, one ModelState per model, and the
FitResult a finished (or stopped) fit hands to its model."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import LinclassError
from .callbacks import EarlyStopping
from .divergence import Divergence, TrainingDiverged
from .history import History, StopInfo


@dataclass
class Progress:
    """Where the shared loop is; every model of a lock-step run sees the same progress."""

    batches_per_epoch: int
    validate_every: int
    max_epochs: int
    epoch: int = 0
    batch_index: int = 0
    global_step: int = 0
    order: np.ndarray | None = None  # this epoch's row order (None: no shuffling)

    @property
    def total_steps(self) -> int:
        return self.max_epochs * self.batches_per_epoch


@dataclass
class FitResult:
    """What a fit leaves on its model: weights (D, K), history, where and why it stopped, and metrics."""

    weights: np.ndarray
    history: History
    early_stop: StopInfo | None
    n_steps: int
    final_metrics: dict[str, float] | None  # the last validation (at the stop)
    best_metrics: dict[str, float] | None
    best_step: int | None
    final_weights_metrics: dict[str, float] | None  # the weights after the last step, evaluated once
    interrupted: bool
    diverged: Divergence | None = None  # where it diverged (Trainer(drop_diverged=True) only)


@dataclass
class ModelState:
    """One model inside a Trainer run. Callbacks receive it as `trainer`: they may read the shared
    progress (global_step, epoch, ...) and set stop_training = True."""

    model: Any
    callbacks: list
    progress: Progress
    learning_rate: float
    l2_strength: float
    penalize_bias: bool
    history: History = field(default_factory=History)
    stop_training: bool = False
    stop_info: StopInfo | None = None
    last_logs: dict[str, float] | None = None
    final_weights_logs: dict[str, float] | None = None
    interrupted: bool = False
    completed: bool = False
    divergence: Divergence | None = None  # set when a step diverged and the trainer dropped this model

    # The shared progress, read-only: only the trainer's loop moves it.
    global_step = property(lambda self: self.progress.global_step)
    epoch = property(lambda self: self.progress.epoch)
    batch_index = property(lambda self: self.progress.batch_index)
    order = property(lambda self: self.progress.order)
    total_steps = property(lambda self: self.progress.total_steps)
    batches_per_epoch = property(lambda self: self.progress.batches_per_epoch)

    @property
    def early_stopping(self) -> EarlyStopping | None:
        return next((c for c in self.callbacks if isinstance(c, EarlyStopping)), None)

    @property
    def steps_done(self) -> int:
        """Steps this model took: up to and including its stop step, up to its diverged step (not taken),
        or all the loop ran."""
        if self.divergence is not None:
            return self.divergence.step
        return self.stop_info.step + 1 if self.stop_info is not None else self.progress.global_step

    @property
    def training(self) -> bool:
        """True while the model takes steps: not stopped and not diverged."""
        return not self.stop_training and self.divergence is None

    def record_divergence(self, error: TrainingDiverged) -> None:
        """Note the step that diverged (its update was not applied); the model takes no further steps."""
        self.divergence = Divergence.from_error(error)

    def record_stop(self, step: int, callback) -> None:
        """Note the first stop request (by any callback) with its step and epoch."""
        if self.stop_training and self.stop_info is None and self.divergence is None:
            self.stop_info = StopInfo(step=step, epoch=self.progress.epoch, stopped_by=type(callback).__name__)

    def fit_result(self) -> FitResult:
        stopper = self.early_stopping
        return FitResult(
            weights=self.model.weights_, history=self.history, early_stop=self.stop_info, n_steps=self.steps_done,
            final_metrics=self.last_logs, best_metrics=stopper.best_logs if stopper is not None else self.last_logs,
            best_step=stopper.best_step if stopper is not None else None,
            final_weights_metrics=self.final_weights_logs, interrupted=self.interrupted, diverged=self.divergence)

    state_arrays = ("weights",)

    def state_dict(self) -> dict:
        """The lane's state; "diverged" only when it diverged, so other checkpoints keep their old form."""
        state = {"last_logs": self.last_logs, "stop_training": self.stop_training,
                 "stopped_early": None if self.stop_info is None else vars(self.stop_info),
                 "weights": self.model.weights_.copy(), "history": self.history}
        return state if self.divergence is None else {**state, "diverged": self.divergence.to_json()}

    def load_state_dict(self, state: dict) -> None:
        W, current = state["weights"], self.model.weights_
        if not isinstance(W, np.ndarray) or W.shape != current.shape or W.dtype != current.dtype:
            found = f"{W.dtype} {W.shape}" if isinstance(W, np.ndarray) else type(W).__name__
            raise LinclassError(f"checkpoint weights are {found}, the run needs {current.dtype} {current.shape}; "
                                "is it another run?")
        current[...] = W  # in place: the weights are a view into the trainer's weight bank
        self.last_logs, self.stop_training = state["last_logs"], bool(state["stop_training"])
        self.stop_info = StopInfo(**state["stopped_early"]) if state["stopped_early"] else None
        self.history = state["history"]
        diverged = state.get("diverged")  # absent unless this lane diverged
        self.divergence = None if diverged is None else Divergence.from_json(diverged)
