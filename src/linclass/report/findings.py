"""Numbers the report's explanations rest on, measured from histories and weights (pure NumPy).

Spikes are measured against a running median: the size of a spike at validation i is how far
the value lies from the median of the `window` validations centred on i (dips for accuracy,
peaks for losses), so a slow trend does not count as a spike.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..training import History

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


def _typical(sizes: np.ndarray) -> float | None:
    """Median distance from the running median: the usual validation-to-validation jitter."""
    return float(np.median(np.abs(sizes))) if len(sizes) else None


def shuffle_spikes(no_shuffle: History, shuffle: History, steps_per_epoch: int, validate_every: int) -> dict:
    """Spikes of training loss, validation loss and accuracy without vs with shuffling.

    The first epoch (the initial fast descent) is skipped. For each metric: each run's largest
    spike and typical jitter, and the spikes of the unshuffled run larger than the shuffled run's largest one, with
    the batch of the epoch they follow and the steps between them.
    """
    result = {"window": SPIKE_WINDOW, "first_step": steps_per_epoch,
              "expected_period": math.lcm(steps_per_epoch, validate_every) if validate_every else None}
    for metric, peaks in (("train_loss", True), ("val_loss", True), ("val_accuracy", False)):
        spikes = {}
        for name, history in (("no_shuffle", no_shuffle), ("shuffle", shuffle)):
            spikes[name] = local_spikes(*history.series(metric), peaks=peaks, first_step=steps_per_epoch)
        largest = {name: _largest(*spikes[name], steps_per_epoch) for name in spikes}
        entry = {"largest_no_shuffle": largest["no_shuffle"], "largest_shuffle": largest["shuffle"],
                 "typical_no_shuffle": _typical(spikes["no_shuffle"][1]),
                 "typical_shuffle": _typical(spikes["shuffle"][1])}
        if largest["shuffle"] is not None:
            steps, sizes = spikes["no_shuffle"]
            over = sizes > largest["shuffle"]["size"]  # steps are increasing, so these are in step order
            entry["no_shuffle_larger_than_shuffle_largest"] = _recurring(steps[over], sizes[over], steps_per_epoch)
        result[metric] = entry
    return result


def _recurring(steps: np.ndarray, sizes: np.ndarray, steps_per_epoch: int) -> dict:
    """Where in the epoch the given spikes fall: the most common batch, its spikes and their spacing."""
    record = {"steps": steps.tolist(), "sizes": sizes.tolist()}
    if len(steps) == 0:
        return record
    batches, counts = np.unique(steps % steps_per_epoch, return_counts=True)
    common = int(batches[np.argmax(counts)])
    at_common = steps % steps_per_epoch == common
    record.update({"batches_in_epoch": {str(int(b)): int(c) for b, c in zip(batches, counts)},
                   "most_common_batch": common, "most_common_steps": steps[at_common].tolist(),
                   "most_common_sizes": sizes[at_common].tolist(),
                   "most_common_gaps": sorted({int(g) for g in np.diff(steps[at_common])})})
    return record


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


def weight_detail(W: np.ndarray) -> float:
    """Share of the weight images' variation that a 3x3 box blur removes: pixel-scale detail, in [0, 1].

    W: (785, K) with the bias as last row. Small for smooth images, large for pixel noise.
    """
    images = W[:-1].T.reshape(-1, 28, 28)
    padded = np.pad(images, ((0, 0), (1, 1), (1, 1)), mode="edge")
    blurred = sum(padded[:, i:i + 28, j:j + 28] for i in range(3) for j in range(3)) / 9
    centred = images - images.mean(axis=(1, 2), keepdims=True)
    return float(np.sum((images - blurred) ** 2) / np.sum(centred ** 2))


def zoom_limits(series: list[np.ndarray], quantile: float = 0.1, grid: float = 0.01) -> tuple[float, float]:
    """y limits that show each series except its lowest `quantile` of values, rounded outwards to `grid`."""
    low = math.floor(min(np.quantile(values, quantile) for values in series) / grid + 1e-9)
    high = math.ceil(max(values.max() for values in series) / grid - 1e-9)
    return round(low * grid, 10), round(max(high, low + 1) * grid, 10)


def confused_pairs(confusion: list[list[int]], class_names, top: int = 5) -> list[dict]:
    """The `top` pairs of classes mistaken for each other most often, most first, from a (K, K) matrix
    of counts (row: true class, column: predicted); each with both directions' counts."""
    counts = np.asarray(confusion)
    pairs = [{"classes": [i, j], "names": [class_names[i], class_names[j]], "count": int(counts[i, j] + counts[j, i]),
              "first_as_second": int(counts[i, j]), "second_as_first": int(counts[j, i])}
             for i in range(len(counts)) for j in range(i + 1, len(counts))]
    return sorted(pairs, key=lambda pair: -pair["count"])[:top]


def loss_limits(series: list[np.ndarray], quantile: float = 0.9, grid: float = 0.05) -> tuple[float, float]:
    """y limits for loss curves: from just below the lowest value to just above each series' `quantile`,
    so the first steps' steep descent does not flatten the rest."""
    low = max(0.0, math.floor(min(values.min() for values in series) / grid) * grid - grid)
    high = math.ceil(max(np.quantile(values, quantile) for values in series) / grid) * grid + grid
    return round(low, 10), round(high, 10)
