"""Divergence: when a step's loss or update explodes, stop at once with advice that names the culprit."""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..errors import LinclassError

# A mean cross-entropy this large means the true classes get probabilities below e^-10000:
# the steps overshoot (linear models never overflow with a stable loss, they only blow up).
DEFAULT_MAX_LOSS = 1e4


class TrainingDiverged(LinclassError):
    """The loss or the update became non-finite or exploded; the model keeps the weights before that step.

    step and epoch say where; batch_loss is the step's loss; reason is the message without the
    model's name (the same words a run alone would give).
    """

    def __init__(self, message: str, *, step: int | None = None, epoch: int | None = None,
                 batch_loss: float | None = None, reason: str | None = None):
        super().__init__(message)
        self.step, self.epoch, self.batch_loss = step, epoch, batch_loss
        self.reason = message if reason is None else reason


@dataclass(frozen=True)
class Divergence:
    """Where a model of a lock-step group diverged (Trainer(drop_diverged=True)): the global step whose
    update was refused, its 0-based epoch, the batch loss (None when not finite) and the one-line reason."""

    step: int
    epoch: int
    batch_loss: float | None
    message: str

    @classmethod
    def from_error(cls, error: TrainingDiverged) -> "Divergence":
        loss = error.batch_loss
        return cls(int(error.step), int(error.epoch), float(loss) if loss is not None and math.isfinite(loss) else None,
                   error.reason)

    def to_json(self) -> dict:
        return {"step": self.step, "epoch": self.epoch, "batch_loss": self.batch_loss, "message": self.message}

    @classmethod
    def from_json(cls, data) -> "Divergence":
        """The record to_json wrote; LinclassError when it is not one."""
        def count(value) -> bool:
            return isinstance(value, int) and not isinstance(value, bool) and value >= 0

        def number(value) -> bool:
            return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)

        if not (isinstance(data, dict) and set(data) == {"step", "epoch", "batch_loss", "message"}
                and count(data["step"]) and count(data["epoch"]) and isinstance(data["message"], str)
                and (data["batch_loss"] is None or number(data["batch_loss"]))):
            raise LinclassError("a divergence record must be {step, epoch: integers >= 0, batch_loss: a number or "
                                f"null, message: text}}; got {str(data)[:200]}.")
        loss = data["batch_loss"]
        return cls(data["step"], data["epoch"], None if loss is None else float(loss), data["message"])


def is_diverging(loss: float, update_sum: float, max_loss: float) -> bool:
    """True when the batch loss exceeds max_loss or is NaN, or the update (its sum) is not finite."""
    return not (loss <= max_loss and math.isfinite(update_sum))


def divergence_error(state, loss: float, max_loss: float, which: str = "") -> TrainingDiverged:
    """The one-line error for a model state whose step diverged; `which` names the model in a group."""
    problem = "the update is not finite" if math.isfinite(loss) else "it is not finite"
    if math.isfinite(loss) and loss > max_loss:
        problem = f"it exceeds {max_loss:g} nats"
    rate, strength = state.learning_rate, state.l2_strength
    if rate * strength >= 1:  # the penalty alone scales W by 1 - 2 rate strength per step: |.| >= 1
        advice = (f"Lower λ (l2_strength, --l2; now {strength:g}): each step scales the weights by "
                  f"1 - 2·learning_rate·λ, which needs learning_rate·λ < 1 (learning rate now {rate:g}).")
    else:
        advice = f"Lower the learning rate (now {rate:g})."

    def message(name: str) -> str:
        return (f"training diverged at step {state.global_step} (epoch {state.epoch}){name}: batch loss {loss:.4g}, "
                f"{problem}; the model keeps the weights before this step. {advice}")
    return TrainingDiverged(message(which), step=state.global_step, epoch=state.epoch, batch_loss=loss,
                            reason=message(""))
