"""Callbacks the trainer calls: the Callback hooks, early stopping and a progress bar.

Each hook receives the model's training state (a ModelState) as `trainer`: its model, history and
the shared progress, and a settable stop_training, as in Keras.
"""

from __future__ import annotations

import sys

import numpy as np
from tqdm.auto import tqdm

from .._validation import check_bool, check_int, check_non_negative_float, check_optional_baseline
from ..errors import LinclassError
from .history import METRIC_NAMES

HOOKS = ("on_train_begin", "on_step_end", "on_validation_end", "on_train_end")


class Callback:
    """Hooks the trainer calls; a callback may set trainer.stop_training = True."""

    def on_train_begin(self, trainer) -> None: ...

    def on_step_end(self, trainer, step: int) -> None: ...

    def on_validation_end(self, trainer, step: int, logs: dict[str, float]) -> None: ...

    def on_train_end(self, trainer) -> None: ...


def check_callbacks(callbacks, name: str = "callbacks") -> list:
    """A list of objects with the four Callback hooks."""
    if isinstance(callbacks, (str, bytes, dict)) or not hasattr(callbacks, "__iter__"):
        raise LinclassError(f"{name} must be a list of Callback objects; got {callbacks!r}.")
    callbacks = list(callbacks)
    for callback in callbacks:
        if not all(callable(getattr(callback, hook, None)) for hook in HOOKS):
            raise LinclassError(f"{name} must hold Callback objects (subclass linclass.Callback); got {callback!r}.")
    return callbacks


class EarlyStopping(Callback):
    """Stop when the monitored loss has not improved for `patience` validations in a row.

    A validation improves when its loss is below best - min_delta, where best starts at `baseline`
    (None: infinity), so with a baseline it must beat both (Keras's meaning). Keeps a copy of the
    weights and metrics at the best value; restores those weights at the end when restore_best_weights.
    """

    state_key = "early_stopping"
    state_arrays = ("best_weights",)

    def __init__(self, monitor: str = "val_loss", patience: int = 10, min_delta: float = 0.0,
                 restore_best_weights: bool = True, baseline: float | None = None):
        self.patience = check_int("patience", patience)
        if not isinstance(monitor, str) or monitor not in METRIC_NAMES or not monitor.endswith("loss"):
            raise LinclassError(f"monitor must be 'train_loss' or 'val_loss'; got {monitor!r}.")
        self.monitor, self.min_delta = monitor, check_non_negative_float("min_delta", min_delta)
        self.restore_best_weights = check_bool("restore_best_weights", restore_best_weights)
        self.baseline = check_optional_baseline("baseline", baseline)
        self.on_train_begin(None)

    def on_train_begin(self, trainer) -> None:
        self.best = np.inf if self.baseline is None else self.baseline
        self.wait, self.best_weights, self.best_step, self.best_logs = 0, None, None, None

    def on_validation_end(self, trainer, step, logs) -> None:
        if logs[self.monitor] < self.best - self.min_delta:
            self.best, self.wait, self.best_step = logs[self.monitor], 0, step
            self.best_logs = dict(logs)
            if self.restore_best_weights:
                self.best_weights = trainer.model.get_weights()
        else:
            self.wait += 1
            if self.wait >= self.patience:
                trainer.stop_training = True

    def on_train_end(self, trainer) -> None:
        if not getattr(trainer, "completed", True):
            return  # an interrupted or diverged run keeps its last weights
        if self.restore_best_weights and self.best_weights is not None:
            trainer.model.set_weights(self.best_weights)

    def state_dict(self) -> dict:
        return {"best": None if np.isinf(self.best) else float(self.best), "wait": self.wait, "best_step": self.best_step,
                "best_logs": self.best_logs, "best_weights": self.best_weights}

    def load_state_dict(self, state: dict) -> None:
        self.best = np.inf if state["best"] is None else float(state["best"])
        self.wait = int(state["wait"])
        self.best_step, self.best_logs = state["best_step"], state["best_logs"]
        self.best_weights = state.get("best_weights")


class ProgressBar(Callback):
    """A tqdm bar over global steps with the latest validation loss and accuracy; shown only on a terminal."""

    def __init__(self, description: str = "training", refresh_every: int = 50, stream=None):
        self.description, self.refresh_every = description, check_int("refresh_every", refresh_every)
        self.stream = stream  # None: sys.stderr at the start of training
        self.bar = None

    def on_train_begin(self, trainer) -> None:
        stream = self.stream if self.stream is not None else sys.stderr
        isatty = getattr(stream, "isatty", None)
        if not (callable(isatty) and isatty()):
            self.bar = None  # a log file or pipe would fill with carriage-return frames
            return
        self.bar = tqdm(total=trainer.total_steps, initial=trainer.global_step, file=stream,
                        desc=self.description, unit="step", leave=True, dynamic_ncols=True)

    def on_step_end(self, trainer, step) -> None:
        if self.bar is not None and (step + 1) % self.refresh_every == 0:
            self.bar.update(step + 1 - self.bar.n)

    def on_validation_end(self, trainer, step, logs) -> None:
        if self.bar is not None and "val_loss" in logs:
            self.bar.set_postfix(val_loss=f"{logs['val_loss']:.4f}", val_acc=f"{logs['val_accuracy']:.4f}",
                                 refresh=False)

    def on_train_end(self, trainer) -> None:
        if self.bar is None:
            return
        steps = trainer.steps_done
        if trainer.stop_info is not None:
            self.bar.total = steps  # stopped early: the bar ends at the real end, not part-way
            self.bar.set_description(f"{self.description} (stopped at step {trainer.stop_info.step})", refresh=False)
        self.bar.update(steps - self.bar.n)
        self.bar.close()
        self.bar = None

    def __getstate__(self) -> dict:
        return {**self.__dict__, "bar": None, "stream": None}  # a live bar and a stream do not copy
