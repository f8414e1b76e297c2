"""Figures of an evaluation: the confusion matrix and the gallery of confident mistakes. Never trains.

Built on matplotlib's object API (Figure, no pyplot); each is written as PNG and SVG, atomically
and without a date, so re-running writes identical files.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from .._io import atomic_file


def save_figure(fig, folder: Path, stem: str) -> list[str]:
    """Write folder/stem.png (120 dpi) and folder/stem.svg atomically; returns the two file names."""
    import matplotlib

    with atomic_file(folder / f"{stem}.png") as handle:
        fig.savefig(handle, format="png", dpi=120, metadata={"Software": None})
    with matplotlib.rc_context({"svg.hashsalt": stem}), atomic_file(folder / f"{stem}.svg") as handle:
        fig.savefig(handle, format="svg", metadata={"Date": None})
    return [f"{stem}.png", f"{stem}.svg"]


def confusion_figure(matrix: np.ndarray, class_names: list[str], title: str):
    """(K, K) counts -> Figure: colour = fraction of the true class (row), text = the count."""
    from matplotlib.figure import Figure

    matrix = np.asarray(matrix)
    totals = matrix.sum(axis=1, keepdims=True)
    fractions = matrix / np.where(totals > 0, totals, 1)
    size = max(3.6, 1.6 + 0.55 * len(class_names))
    fig = Figure(figsize=(size + 1.4, size), layout="constrained")
    ax = fig.subplots()
    image = ax.imshow(fractions, cmap="Blues", vmin=0.0, vmax=1.0)
    for (row, col), count in np.ndenumerate(matrix):
        ax.text(col, row, str(count), ha="center", va="center", fontsize=8 if len(class_names) > 2 else 11,
                color="white" if fractions[row, col] > 0.5 else "black")
    ticks = np.arange(len(class_names))
    if len(class_names) * max(len(name) for name in class_names) > 40:  # long names side by side would overlap
        ax.set_xticks(ticks, class_names, rotation=35, ha="right", rotation_mode="anchor")
    else:
        ax.set_xticks(ticks, class_names)
    ax.set_yticks(ticks, class_names)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title(title, fontsize=10)
    fig.colorbar(image, ax=ax, shrink=0.8, label="fraction of the true class (row)")
    return fig


def mistakes_figure(images: np.ndarray, mistakes: list[dict], title: str):
    """(M, 28, 28) images and their mistake records -> Figure: a grid titled true / predicted / probability."""
    from matplotlib.figure import Figure

    columns = 5
    rows = max(1, math.ceil(len(mistakes) / columns))
    # "true 4, pred 9" on one line while it fits a column (about 24 characters), else true and pred on two
    split = any(len(f"true {m['true']}, pred {m['predicted']}") > 24 for m in mistakes)
    between = "\n" if split else ", "
    fig = Figure(figsize=(1.5 * columns, (1.95 if split else 1.75) * rows + 0.5), layout="constrained")
    axes = np.atleast_1d(fig.subplots(rows, columns)).reshape(-1)
    for ax in axes:
        ax.set_axis_off()
    for ax, image, mistake in zip(axes, images, mistakes):
        ax.imshow(image, cmap="gray", vmin=0, vmax=255)  # as stored: light on black
        ax.set_title(f"true {mistake['true']}{between}pred {mistake['predicted']}\n"
                     f"p = {mistake['probability']:.3f}", fontsize=8)
    if not mistakes:
        axes[0].text(0.5, 0.5, "no mistakes", ha="center", va="center", transform=axes[0].transAxes)
    fig.suptitle(title, fontsize=10)
    return fig
