"""What training records: the History of losses and metrics, and where training stopped (StopInfo)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

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
        else:
            items = {step: logs[name] for step, logs in self.validation.items()}
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


@dataclass
class StopInfo:
    """Where early stopping fired: the global step and the 0-based epoch."""

    step: int
    epoch: int
