"""Divergence: when a step's loss or update explodes, stop at once with advice that names the culprit."""

from __future__ import annotations

import math

from ..errors import LinclassError

# A mean cross-entropy this large means the true classes get probabilities below e^-10000:
# the steps overshoot (linear models never overflow with a stable loss, they only blow up).
DEFAULT_MAX_LOSS = 1e4


class TrainingDiverged(LinclassError):
    """The loss or the update became non-finite or exploded; the model keeps the weights before that step."""


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
    return TrainingDiverged(
        f"training diverged at step {state.global_step} (epoch {state.epoch}){which}: batch loss {loss:.4g}, "
        f"{problem}; the model keeps the weights before this step. {advice}")
