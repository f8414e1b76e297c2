"""The sweep's heat map: validation accuracy over learning rate x λ, the mean over seeds and its spread
written in each cell, the best cell framed; a cell with a diverged seed is hatched grey and says
"diverged", one whose validation loss never fell below its first value says "no progress". Never trains; saved as PNG and SVG by report.figures."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..data import dataset_source
from ..report.figures import save_figure

FIGURE_STEM = "val_accuracy"
COLOR_RANGE = 10.0  # percentage points of accuracy the colour scale spans at most
DIVERGED_COLOR = "#d9d9d9"  # light grey, hatched: outside viridis, so never read as an accuracy


def _value_label(value: float) -> str:
    return "0" if value == 0 else f"{value:g}"


def accuracy_heatmap(found: list[dict], learning_rates, l2_strengths, best: dict, *, model: str,
                     seeds, what: str = "validation"):
    """A Figure: rows are learning rates, columns λ; found are the cells of results.cells."""
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle

    grid = [[next(c for c in found if c["learning_rate"] == rate and c["l2_strength"] == strength)
             for strength in l2_strengths] for rate in learning_rates]
    # A diverged cell has no mean: NaN, masked below, so the colour scale sees only trained cells.
    values = np.array([[np.nan if cell["diverged"] else cell["val_accuracy_mean"] * 100 for cell in row]
                       for row in grid])
    spreads = np.array([[np.nan if cell["diverged"] else cell["val_accuracy_spread"] * 100 for cell in row]
                        for row in grid])
    n_rows, n_cols = values.shape
    fig = Figure(figsize=(max(6.4, 2.2 + 1.25 * n_cols), 2.4 + 0.72 * n_rows), layout="constrained")
    ax = fig.subplots()
    # The colours span the best COLOR_RANGE points: a poor corner would otherwise squeeze every
    # useful cell into one shade; cells below are drawn in the darkest colour (the colour bar says so).
    high = float(np.nanmax(values))
    low = max(float(np.nanmin(values)), high - COLOR_RANGE)
    clipped = float(np.nanmin(values)) < low
    image = ax.imshow(np.ma.masked_invalid(values), cmap="viridis", aspect="auto", origin="lower", vmin=low,
                      vmax=high)
    several = len(seeds) > 1
    for row in range(n_rows):
        for col in range(n_cols):
            if grid[row][col]["diverged"]:
                _draw_diverged(ax, row, col, grid[row][col], several)
                continue
            light = (values[row, col] - low) > 0.55 * (high - low) if high > low else True
            text = f"{values[row, col]:.2f}%"
            if several:
                text += f"\n±{spreads[row, col] / 2:.2f}"
            stuck = grid[row][col].get("no_progress", 0)
            if stuck:
                text += f"\nno progress ({stuck} of {len(grid[row][col]['seeds'])})" if several else "\nno progress"
            ax.text(col, row, text, ha="center", va="center", color="black" if light else "white", fontsize=9.5,
                    linespacing=1.3)
    best_row = list(learning_rates).index(best["learning_rate"])
    best_col = list(l2_strengths).index(best["l2_strength"])
    ax.add_patch(Rectangle((best_col - 0.5, best_row - 0.5), 1, 1, fill=False, edgecolor="red", linewidth=2.5))
    ax.set_xticks(range(n_cols), [_value_label(v) for v in l2_strengths])
    ax.set_yticks(range(n_rows), [_value_label(v) for v in learning_rates])
    ax.set_xlabel("L2 strength λ  (J = C + λ·Σw²)")
    ax.set_ylabel("learning rate")
    seed_text = (f"\neach cell: mean over seeds {', '.join(map(str, seeds))} ± half their range"
                 if several else "")
    clip_text = f"\ncolours span the top {COLOR_RANGE:g} points; cells below {low:.1f}% are darkest" if clipped else ""
    diverged_text = ("\nhatched grey: training diverged (no accuracy)"
                     if any(cell["diverged"] for row in grid for cell in row) else "")
    if any(cell.get("no_progress") for row in grid for cell in row):
        diverged_text += "\nno progress: the validation loss never fell below its first value (weights of step 0)"
    one_seed = "" if several else f", seed {seeds[0]}"
    ax.set_title(f"{model}\n{what} accuracy of the kept weights (%){one_seed}; best cell framed in red{seed_text}"
                 f"{clip_text}{diverged_text}", fontsize=10)
    colorbar = fig.colorbar(image, ax=ax, shrink=0.9, extend="min" if clipped else "neither")
    colorbar.set_label(f"{'mean ' if several else ''}{what} accuracy (%)")
    return fig


def _draw_diverged(ax, row: int, col: int, cell: dict, several: bool) -> None:
    """A hatched grey cell that says "diverged" (and how many seeds did), instead of a colour."""
    from matplotlib.patches import Rectangle

    ax.add_patch(Rectangle((col - 0.5, row - 0.5), 1, 1, facecolor=DIVERGED_COLOR, edgecolor="#8c8c8c",
                           hatch="//", linewidth=0))
    text = f"diverged\n{cell['diverged']} of {len(cell['seeds'])} seeds" if several else "diverged"
    ax.text(col, row, text, ha="center", va="center", color="black", fontsize=9.5, linespacing=1.3,
            bbox={"facecolor": DIVERGED_COLOR, "edgecolor": "none", "pad": 1.5})


def _what_was_trained(base: dict) -> str:
    """The heat map's first line: 'logistic regression, Coat vs Pullover (Fashion-MNIST, holdout protocol)',
    'softmax regression, 10 classes (MNIST)'."""
    source = dataset_source(base["dataset"])
    if base["model"] == "logistic":
        positive, negative = (source.class_names[c] for c in base["classes"])
        text = f"logistic regression, {positive} vs {negative}"
    else:
        text = f"softmax regression, {len(source.class_names)} classes"
    protocol = ", holdout protocol" if base.get("protocol") == "holdout" else ""
    return f"{text} ({source.title}{protocol})"


def write_heatmap(folder: Path, summary: dict) -> list[str]:
    """Draw the heat map of a sweep's summary into folder/val_accuracy.{png,svg}; returns the PNG path."""
    grid, base = summary["settings"]["grid"], summary["settings"]["base"]
    fig = accuracy_heatmap(summary["cells"], grid["learning_rates"], grid["l2_strengths"], summary["best"],
                           model=_what_was_trained(base),
                           seeds=grid["seeds"])
    return [save_figure(fig, folder, FIGURE_STEM)]
