"""What training records: the History of losses and metrics, and where training stopped (StopInfo)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import LinclassError

METRIC_NAMES = ("train_loss", "val_loss", "train_accuracy", "val_accuracy")


@dataclass
class History:
    """Everything measured during training, keyed by global step.

    train_loss_per_step: {step: mean cross-entropy of that step's batch, before its update}.
    validation: {step: {"train_loss", "val_loss", "train_accuracy", "val_accuracy"}}, each over
    its whole set, measured after that step's update.
    """

    train_loss_per_step: dict[int, float] = field(default_factory=dict)
    validation: dict[int, dict[str, float]] = field(default_factory=dict)

    def series(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """(steps, values) arrays of one quantity: "train_loss_per_step" or a validation metric."""
        if name == "train_loss_per_step":
            items = self.train_loss_per_step
        elif name in METRIC_NAMES:
            items = {step: logs[name] for step, logs in self.validation.items() if name in logs}
        else:
            raise LinclassError(f"name must be 'train_loss_per_step' or one of {list(METRIC_NAMES)}; got {name!r}.")
        steps = np.fromiter(items.keys(), dtype=np.int64, count=len(items))
        return steps, np.fromiter(items.values(), dtype=np.float64, count=len(items))

    def to_json(self) -> dict:
        return {
            "train_loss_per_step": {str(k): v for k, v in self.train_loss_per_step.items()},
            "validation": {str(k): v for k, v in self.validation.items()},
        }

    @classmethod
    def from_json(cls, data: dict) -> "History":
        return cls({int(k): float(v) for k, v in data["train_loss_per_step"].items()},
                   {int(k): {m: float(x) for m, x in v.items()} for k, v in data["validation"].items()})

    def state_dict(self) -> dict:
        return self.to_json()

    def load_state_dict(self, state: dict) -> None:
        loaded = History.from_json(state)
        self.train_loss_per_step, self.validation = loaded.train_loss_per_step, loaded.validation


@dataclass
class StopInfo:
    """Where a callback stopped training: the global step, the 0-based epoch and the callback's class name."""

    step: int
    epoch: int
    stopped_by: str | None = None
