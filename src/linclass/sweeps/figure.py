"""The sweep's heat map: validation accuracy over learning rate x λ, the mean over seeds and its spread
written in each cell, the best cell framed. Never trains; saved as PNG and SVG by report.figures."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..data import dataset_source
from ..report.figures import save_figure

FIGURE_STEM = "val_accuracy"
COLOR_RANGE = 10.0  # percentage points of accuracy the colour scale spans at most


def _value_label(value: float) -> str:
    return "0" if value == 0 else f"{value:g}"


def accuracy_heatmap(found: list[dict], learning_rates, l2_strengths, best: dict, *, model: str,
                     seeds, what: str = "validation"):
    """A Figure: rows are learning rates, columns λ; found are the cells of results.cells."""
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle

    means = np.array([[next(c for c in found if c["learning_rate"] == rate and c["l2_strength"] == strength)
                       for strength in l2_strengths] for rate in learning_rates])
    values = np.vectorize(lambda cell: cell["val_accuracy_mean"] * 100)(means).reshape(means.shape)
    spreads = np.vectorize(lambda cell: cell["val_accuracy_spread"] * 100)(means).reshape(means.shape)
    n_rows, n_cols = values.shape
    fig = Figure(figsize=(max(6.4, 2.2 + 1.25 * n_cols), 2.4 + 0.72 * n_rows), layout="constrained")
    ax = fig.subplots()
    # The colours span the best COLOR_RANGE points: a diverging corner would otherwise squeeze every
    # useful cell into one shade; cells below are drawn in the darkest colour (the colour bar says so).
    high = float(values.max())
    low = max(float(values.min()), high - COLOR_RANGE)
    clipped = float(values.min()) < low
    image = ax.imshow(values, cmap="viridis", aspect="auto", origin="lower", vmin=low, vmax=high)
    several = len(seeds) > 1
    for row in range(n_rows):
        for col in range(n_cols):
            light = (values[row, col] - low) > 0.55 * (high - low) if high > low else True
            text = f"{values[row, col]:.2f}%"
            if several:
                text += f"\n±{spreads[row, col] / 2:.2f}"
            ax.text(col, row, text, ha="center", va="center", color="black" if light else "white", fontsize=9.5,
                    linespacing=1.3)
    best_row = list(learning_rates).index(best["learning_rate"])
    best_col = list(l2_strengths).index(best["l2_strength"])
    ax.add_patch(Rectangle((best_col - 0.5, best_row - 0.5), 1, 1, fill=False, edgecolor="red", linewidth=2.5))
    ax.set_xticks(range(n_cols), [_value_label(v) for v in l2_strengths])
    ax.set_yticks(range(n_rows), [_value_label(v) for v in learning_rates])
    ax.set_xlabel("L2 strength λ  (J = C + λ·Σw²)")
    ax.set_ylabel("learning rate")
    seed_text = (f"each cell: mean over seeds {', '.join(map(str, seeds))} ± half their range"
                 if several else f"each cell: seed {seeds[0]}")
    clip_text = f"\ncolours span the top {COLOR_RANGE:g} points; cells below {low:.1f}% are darkest" if clipped else ""
    ax.set_title(f"{model}: {what} accuracy of the kept weights (%)\n{seed_text}; best cell framed in red"
                 f"{clip_text}", fontsize=10)
    colorbar = fig.colorbar(image, ax=ax, shrink=0.9, extend="min" if clipped else "neither")
    colorbar.set_label(f"mean {what} accuracy (%)")
    return fig


def write_heatmap(folder: Path, summary: dict) -> list[str]:
    """Draw the heat map of a sweep's summary into folder/val_accuracy.{png,svg}; returns the PNG path."""
    grid, base = summary["settings"]["grid"], summary["settings"]["base"]
    fig = accuracy_heatmap(summary["cells"], grid["learning_rates"], grid["l2_strengths"], summary["best"],
                           model=f"{base['model']} regression on {dataset_source(base['dataset']).title}",
                           seeds=grid["seeds"])
    return [save_figure(fig, folder, FIGURE_STEM)]
