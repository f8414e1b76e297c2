"""The lock-step weight bank: the weights of several models side by side in one (D, M * K) array, so
one product serves them all; stopped models are compacted out and cost nothing more."""

from __future__ import annotations

import numpy as np


class WeightBank:
    """Zero weights (D, K) for each of M models, bound to the models as views into one (D, M * K) array.

    `active` lists the models still training, in column order: model active[p] owns columns(p).
    """

    def __init__(self, models: list, n_features: int, n_outputs: int, dtype):
        self.models, self.n_outputs = list(models), n_outputs
        self.shared = len(self.models) > 1
        self.weights = np.zeros((n_features, n_outputs * len(self.models)), dtype=dtype)
        self.active = list(self.models)
        for position, model in enumerate(self.models):
            model.bind_weights(self.weights[:, self.columns(position)] if self.shared else self.weights)

    def columns(self, position: int) -> slice:
        """The columns of the active model at this position."""
        return slice(position * self.n_outputs, (position + 1) * self.n_outputs)

    def compact(self, active: list) -> np.ndarray:
        """Keep only these models' columns (their order kept); the others get their own copy, frozen.

        Returns the new shared weights (D, len(active) * K).
        """
        for model in self.active:
            if model not in active:
                model.bind_weights(model.weights_.copy())
        weights = np.empty((self.weights.shape[0], self.n_outputs * len(active)), dtype=self.weights.dtype)
        for position, model in enumerate(active):
            weights[:, self.columns(position)] = model.weights_
            model.bind_weights(weights[:, self.columns(position)])
        self.weights, self.active = weights, list(active)
        return weights

    def detach(self) -> None:
        """Give every model its own weights array (after training), detached from the shared one."""
        if self.shared:
            for model in self.active:
                model.bind_weights(model.weights_.copy())
            self.active = []

    def stacked(self, models: list) -> tuple[np.ndarray, list[slice]]:
        """The weights of these (detached) models side by side (D, M * K), and each one's columns."""
        if len(models) == 1:
            return models[0].weights_, [slice(None)]
        return np.hstack([model.weights_ for model in models]), [self.columns(p) for p in range(len(models))]
