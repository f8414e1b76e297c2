"""Callbacks the trainer calls: the Callback hooks, early stopping and a progress bar."""

from __future__ import annotations

import numpy as np

from ..errors import LinclassError
from .history import METRIC_NAMES

class Callback:
    """Hooks the trainer calls; a callback may set trainer.stop_training = True."""

    def on_train_begin(self, trainer) -> None: ...

    def on_step_end(self, trainer, step: int) -> None: ...

    def on_validation_end(self, trainer, step: int, logs: dict[str, float]) -> None: ...

    def on_train_end(self, trainer) -> None: ...


class EarlyStopping(Callback):
    """Stop when the monitored loss has not improved on its best for `patience` validations in a row.

    Keeps a copy of the weights (and the metrics) at the best value; restores those weights at the
    end when restore_best_weights is True. Monitors a loss: lower is better.
    """

    def __init__(self, monitor: str = "val_loss", patience: int = 10, min_delta: float = 0.0,
                 restore_best_weights: bool = True):
        if isinstance(patience, bool) or not isinstance(patience, (int, np.integer)) or patience < 1:
            raise LinclassError(f"patience must be an integer >= 1; got {patience!r}.")
        if monitor not in METRIC_NAMES or not monitor.endswith("loss"):
            raise LinclassError(f"monitor must be 'train_loss' or 'val_loss'; got {monitor!r}.")
        self.monitor, self.patience, self.min_delta = monitor, int(patience), float(min_delta)
        self.restore_best_weights = restore_best_weights
        self.on_train_begin(None)

    def on_train_begin(self, trainer) -> None:
        self.best, self.wait = np.inf, 0
        self.best_weights, self.best_step, self.best_logs = None, None, None

    def on_validation_end(self, trainer, step, logs) -> None:
        if logs[self.monitor] < self.best - self.min_delta:
            self.best, self.wait, self.best_step = logs[self.monitor], 0, step
            self.best_weights, self.best_logs = trainer.model.get_weights(), dict(logs)
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
        self.best_weights = state["best_weights"]


class ProgressBar(Callback):
    """A tqdm bar over global steps, showing the latest validation loss and accuracy."""

    def __init__(self, description: str = "training", refresh_every: int = 50):
        self.description, self.refresh_every = description, refresh_every
        self.bar = None

    def on_train_begin(self, trainer) -> None:
        from tqdm.auto import tqdm

        self.bar = tqdm(total=trainer.total_steps, initial=trainer.global_step,
                        desc=self.description, unit="step", leave=False, dynamic_ncols=True)

    def on_step_end(self, trainer, step) -> None:
        if (step + 1) % self.refresh_every == 0:
            self.bar.update(step + 1 - self.bar.n)

    def on_validation_end(self, trainer, step, logs) -> None:
        self.bar.set_postfix(val_loss=f"{logs['val_loss']:.4f}", val_acc=f"{logs['val_accuracy']:.4f}",
                             refresh=False)

    def on_train_end(self, trainer) -> None:
        if self.bar is not None:
            self.bar.close()
