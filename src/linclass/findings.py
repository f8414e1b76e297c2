"""Numbers the report's explanations rest on, measured from histories and weights (pure NumPy).

Spikes are measured against a running median: the size of a spike at validation i is how far
the value lies from the median of the `window` validations centred on i (dips for accuracy,
peaks for losses), so a slow trend does not count as a spike.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .callbacks import History

SPIKE_WINDOW = 7


def local_spikes(steps: np.ndarray, values: np.ndarray, *, peaks: bool, first_step: int = 0,
                 window: int = SPIKE_WINDOW) -> tuple[np.ndarray, np.ndarray]:
    """(steps, sizes) of every point at or after first_step; size = distance from the running median.

    sizes are >= 0 for peaks (peaks=True) or dips (peaks=False) and negative for the other direction.
    """
    half = window // 2
    medians = np.median(sliding_window_view(np.pad(values, half, mode="edge"), window), axis=1)
    sizes = values - medians if peaks else medians - values
    keep = steps >= first_step
    return steps[keep], sizes[keep]


def _largest(steps: np.ndarray, sizes: np.ndarray, steps_per_epoch: int) -> dict | None:
    if len(sizes) == 0:
        return None
    i = int(np.argmax(sizes))
    return {"step": int(steps[i]), "size": float(sizes[i]), "batch_in_epoch": int(steps[i] % steps_per_epoch)}


def shuffle_spikes(no_shuffle: History, shuffle: History, steps_per_epoch: int, validate_every: int) -> dict:
    """Spikes of training loss, validation loss and accuracy without vs with shuffling.

    The first epoch (the initial fast descent) is skipped. For each metric: each run's largest
    spike, and the spikes of the unshuffled run larger than the shuffled run's largest one, with
    the batch of the epoch they follow and the steps between them.
    """
    result = {"window": SPIKE_WINDOW, "first_step": steps_per_epoch,
              "expected_period": math.lcm(steps_per_epoch, validate_every) if validate_every else None}
    for metric, peaks in (("train_loss", True), ("val_loss", True), ("val_accuracy", False)):
        spikes = {}
        for name, history in (("no_shuffle", no_shuffle), ("shuffle", shuffle)):
            spikes[name] = local_spikes(*history.series(metric), peaks=peaks, first_step=steps_per_epoch)
        largest = {name: _largest(*spikes[name], steps_per_epoch) for name in spikes}
        entry = {"largest_no_shuffle": largest["no_shuffle"], "largest_shuffle": largest["shuffle"]}
        if largest["shuffle"] is not None:
            steps, sizes = spikes["no_shuffle"]
            over = np.sort(steps[sizes > largest["shuffle"]["size"]])
            entry["no_shuffle_larger_than_shuffle_largest"] = {
                "steps": over.tolist(),
                "batches_in_epoch": sorted({int(s % steps_per_epoch) for s in over}),
                "gaps": sorted({int(g) for g in np.diff(over)}),
            }
        result[metric] = entry
    return result


def batch_loss_repeat(history: History, steps_per_epoch: int, n_pairs: int = 3) -> float | None:
    """Mean correlation between the per-batch losses of consecutive epochs, over the last n_pairs pairs.

    Near 1: every epoch sees the same batches in the same order; near 0: the batches change.
    """
    _, losses = history.series("train_loss_per_step")
    n_epochs = len(losses) // steps_per_epoch
    if n_epochs < 2:
        return None
    per_epoch = losses[:n_epochs * steps_per_epoch].reshape(n_epochs, steps_per_epoch)
    pairs = range(max(0, n_epochs - 1 - n_pairs), n_epochs - 1)
    return float(np.mean([np.corrcoef(per_epoch[e], per_epoch[e + 1])[0, 1] for e in pairs]))


def weight_smoothness(W: np.ndarray) -> float:
    """Correlation between horizontally and vertically adjacent pixel weights, over all classes.

    W: (785, K) with the bias as last row. 1 is a perfectly smooth image, 0 is pixel noise.
    """
    images = W[:-1].T.reshape(-1, 28, 28)
    pairs = [(images[:, :, :-1], images[:, :, 1:]), (images[:, :-1, :], images[:, 1:, :])]
    first = np.concatenate([a.reshape(-1) for a, _ in pairs])
    second = np.concatenate([b.reshape(-1) for _, b in pairs])
    return float(np.corrcoef(first, second)[0, 1])


def zoom_limits(series: list[np.ndarray], quantile: float = 0.05, grid: float = 0.01) -> tuple[float, float]:
    """y limits that show all but the lowest `quantile` of the values, rounded outwards to `grid`."""
    values = np.concatenate(series)
    low = math.floor(np.quantile(values, quantile) / grid) * grid
    high = math.ceil(values.max() / grid) * grid
    return low, high if high > low else low + grid
