"""Figures of the report: learning curves, shuffling comparison, weight images, norms. Never trains.

Figures are built on matplotlib's object API (Figure, no pyplot), so no global backend or state
is touched, and each is saved as PNG and SVG without a date, so a re-run writes identical files.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .._io import atomic_file
from ..training import History

STEP_LABEL = "training step (mini-batches of 128 images)"
LOSS_LABEL = "cross-entropy loss (nats)"
ACCURACY_LABEL = "accuracy (fraction correct)"
TRAIN_COLOR, VAL_COLOR = "tab:blue", "tab:orange"
SHUFFLE_COLORS = {False: "tab:red", True: "tab:green"}
LAMBDA_COLORS = ("#c9b400", "#35b779", "#31688e", "#440154")  # light to dark: weak to strong L2, ascending λ
DPI = 120
# report.html shows figures at most this wide (a 62rem page at 1280 px, less padding and border); every
# figure's smallest text must be at least MIN_TEXT_PX there. Figures up to 7.5 in (900 px) are shown
# at full size, so matplotlib's smallest size here ("small", 8.3 pt) is 13.9 px.
DISPLAY_WIDTH_PX = 958
MIN_TEXT_PX = 10.0


def displayed_text_px(fig) -> float:
    """The smallest font size, in CSS pixels, of any visible text of fig as report.html shows it at 1280 px."""
    scale = min(1.0, DISPLAY_WIDTH_PX / (fig.get_figwidth() * DPI))
    sizes = [text.get_fontsize() for text in fig.findobj(lambda artist: hasattr(artist, "get_fontsize"))
             if text.get_visible() and text.get_text()]
    return min(sizes) / 72 * DPI * scale


def _figure(width: float = 7.5, height: float = 4.6, layout: str | None = "constrained", **subplots):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout=layout)
    return fig, fig.subplots(**subplots)


def save_figure(fig, folder: Path, stem: str) -> str:
    """Write folder/stem.png (DPI) and folder/stem.svg; returns 'figures/stem.png'-style path."""
    import matplotlib

    folder.mkdir(parents=True, exist_ok=True)
    with atomic_file(folder / f"{stem}.png") as handle:
        fig.savefig(handle, format="png", dpi=DPI, metadata={"Software": None})
    with matplotlib.rc_context({"svg.hashsalt": stem}), atomic_file(folder / f"{stem}.svg") as handle:
        fig.savefig(handle, format="svg", metadata={"Date": None})  # fixed ids instead of random ones
    return f"{folder.name}/{stem}.png"


def windowed_mean(steps: np.ndarray, values: np.ndarray, window: int = 10):
    """Mean and standard deviation of consecutive, non-overlapping windows of `window` values.

    Returns (centre steps, means, stds), one entry per complete window; a shorter series is one window.
    """
    window = max(1, min(window, len(values)))
    n = len(values) // window * window
    chunks = values[:n].reshape(-1, window)
    return steps[:n].reshape(-1, window)[:, window // 2], chunks.mean(axis=1), chunks.std(axis=1)


def _mark_stop(ax, early_stop_step: int | None, best_step: int | None, best_kept: bool = True) -> None:
    """The early stop and the lowest validation loss; best_kept: whether the run kept that step's weights
    (linclass's rule) or those after its last step (the original code's)."""
    if early_stop_step is not None:
        ax.axvline(early_stop_step, color="0.3", linestyle=":", linewidth=1.2,
                   label=f"early stopping fired (step {early_stop_step})")
    if best_step is not None:
        ax.axvline(best_step, color="0.3", linestyle="--", linewidth=1.0,
                   label=f"lowest validation loss, weights kept (step {best_step})" if best_kept else
                   f"lowest validation loss (step {best_step}; the last step's weights are kept)")


def _finish(ax, title: str, xlabel: str, ylabel: str, ylim=None, legend_loc: str = "best") -> None:
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if ylim is not None:
        ax.set_ylim(*ylim)
    ax.grid(alpha=0.3)
    if legend_loc == "below":  # under the axes, for curves that fill the whole plot
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=1, fontsize="small")
    else:
        ax.legend(loc=legend_loc, fontsize="small")


def loss_figure(history: History, title: str, *, ylim=None, early_stop_step=None, best_step=None, best_kept=True):
    """Training loss (mean of 10 steps, +/- 1 std band) and validation loss against training step."""
    fig, ax = _figure()
    centres, mean, std = windowed_mean(*history.series("train_loss_per_step"))
    ax.fill_between(centres, mean - std, mean + std, color=TRAIN_COLOR, alpha=0.25, linewidth=0,
                    label="training loss, +/- 1 std over the same 10 steps")
    ax.plot(centres, mean, color=TRAIN_COLOR, label="training loss, mean over 10 steps (one batch each)")
    ax.plot(*history.series("val_loss"), color=VAL_COLOR, label="validation loss (whole validation set)")
    _mark_stop(ax, early_stop_step, best_step, best_kept)
    _finish(ax, title, STEP_LABEL, LOSS_LABEL, ylim, "upper right")
    return fig


def accuracy_figure(history: History, title: str, *, ylim=None, early_stop_step=None, best_step=None, best_kept=True,
                    legend_loc: str = "lower right"):
    """Training and validation accuracy (whole sets, at each validation) against training step."""
    fig, ax = _figure(height=4.6 if legend_loc != "below" else 6.0)
    ax.plot(*history.series("train_accuracy"), color=TRAIN_COLOR, label="training accuracy (whole training set)")
    ax.plot(*history.series("val_accuracy"), color=VAL_COLOR, label="validation accuracy (whole validation set)")
    _mark_stop(ax, early_stop_step, best_step, best_kept)
    _finish(ax, title, STEP_LABEL, ACCURACY_LABEL, ylim, legend_loc)
    return fig


def _shuffle_name(shuffle: bool) -> str:
    return "shuffled every epoch" if shuffle else "not shuffled (same batch order every epoch)"


def _shuffle_curves(ax, histories: dict[bool, History], metric: str, spikes: dict | None, ylim=None) -> None:
    """Both runs' curves of one validation metric; circles each run's largest spike (a triangle on the
    axis edge when the spike lies outside ylim)."""
    kind = "dip" if metric.endswith("accuracy") else "spike"
    for shuffle, history in histories.items():
        steps, values = history.series(metric)
        color = SHUFFLE_COLORS[shuffle]
        ax.plot(steps, values, color=color, linewidth=1.3,
                label=f"{_shuffle_name(shuffle)}, last validation at step {steps[-1]}")
        if not (spikes and spikes.get(shuffle)):
            continue
        step, size = spikes[shuffle]["step"], spikes[shuffle]["size"]
        value = float(values[steps == step][0])
        label = f"largest {kind}, {'shuffled' if shuffle else 'not shuffled'}: {size:.4f} at step {step}"
        if ylim is not None and not ylim[0] <= value <= ylim[1]:
            below = value < ylim[0]
            ax.plot([step], [ylim[0] if below else ylim[1]], "v" if below else "^", markersize=10, color=color,
                    clip_on=False, label=f"{label} (off the axis, at {value:.4f})")
        else:
            ax.plot([step], [value], "o", markersize=10, markerfacecolor="none", markeredgecolor=color,
                    markeredgewidth=1.6, label=label)


def shuffle_loss_figure(histories: dict[bool, History], title: str, *, steps_per_epoch: int,
                        ylim=None, spikes: dict | None = None):
    """Without (False) vs with (True) shuffling: whole-set training loss at each validation (top), and
    the loss of every step's batch over the last three complete epochs both runs trained (bottom).

    spikes: {shuffle: {"step", "size"}} circles each run's largest spike. Stacked, not side by side,
    so the text stays readable where the report shows the figure.
    """
    fig, (top, bottom) = _figure(7.5, 9.0, nrows=2, height_ratios=(1, 1))
    _shuffle_curves(top, histories, "train_loss", spikes, ylim)
    _finish(top, "training loss on the whole training set, at each validation", STEP_LABEL,
            LOSS_LABEL, ylim, "best")  # "best": the legend goes where no spike is
    last_epoch = min(len(history.series("train_loss_per_step")[0]) for history in histories.values()) // steps_per_epoch
    first_epoch = max(0, last_epoch - 3)
    start, stop = first_epoch * steps_per_epoch, last_epoch * steps_per_epoch
    for shuffle, history in histories.items():
        steps, values = history.series("train_loss_per_step")
        keep = (steps >= start) & (steps < stop)
        bottom.plot(steps[keep], values[keep], ".-", color=SHUFFLE_COLORS[shuffle], linewidth=0.9,
                    markersize=3, label=_shuffle_name(shuffle))
    for boundary in range(start + steps_per_epoch, stop, steps_per_epoch):
        bottom.axvline(boundary, color="0.5", linewidth=0.8, linestyle=":")
    bottom.set_ylim(0, bottom.get_ylim()[1] * 1.25)  # room for the legend above the curves
    epochs = f"epochs {first_epoch}-{last_epoch - 1}" if last_epoch - first_epoch > 1 else f"epoch {first_epoch}"
    _finish(bottom, f"loss of each step's own batch, {epochs} (steps {start}-{stop - 1}):\nthe last "
            f"{'three ' if last_epoch - first_epoch == 3 else ''}complete epochs both runs trained; "
            "dotted: epoch boundaries", STEP_LABEL, "batch cross-entropy loss (nats)", None, "upper right")
    fig.suptitle(title)
    return fig


def shuffle_accuracy_figure(histories: dict[bool, History], title: str, *, ylim=None,
                            spikes: dict | None = None, legend_loc: str = "lower right"):
    """Validation accuracy without (False) and with (True) shuffling; circles each largest dip."""
    fig, ax = _figure(height=4.6 if legend_loc != "below" else 6.0)
    _shuffle_curves(ax, histories, "val_accuracy", spikes, ylim)
    _finish(ax, title, STEP_LABEL, "validation accuracy (fraction correct)", ylim, legend_loc)
    return fig


def weights_figure(rows: list[tuple[str, np.ndarray]], title: str, class_names: list[str] | None = None):
    """Each class's weights (bias row dropped) as a 28x28 image; one row per (label, W (785, 10)).
    class_names: the title of each image (default 'digit 0' ... 'digit 9').

    Colours are symmetric around 0 and shared within a row, so a row's images compare directly.
    """
    # A fixed layout: constrained layout would cost more than all the other figures together here.
    fig, axes = _figure(10.0, 1.3 * len(rows) + 1.0, layout=None, nrows=len(rows), ncols=10, squeeze=False)
    fig.subplots_adjust(left=0.04, right=0.91, top=1 - 0.8 / fig.get_figheight(), bottom=0.03,
                        wspace=0.08, hspace=0.3)
    for row, (label, W) in zip(axes, rows):
        images = W[:-1].T.reshape(-1, 28, 28)
        limit = float(np.abs(images).max()) or 1.0
        for digit, ax in enumerate(row):
            shown = ax.imshow(images[digit], cmap="RdBu_r", vmin=-limit, vmax=limit, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_title(class_names[digit] if class_names else f"digit {digit}", fontsize=10)
        row[0].set_ylabel(label, fontsize=10)
        bar = fig.colorbar(shown, ax=list(row), shrink=0.95, pad=0.01, fraction=0.03)
        bar.set_label("weight", fontsize=10)
        bar.ax.tick_params(labelsize=10)
    fig.suptitle(title, fontsize=11)
    return fig


def lambda_accuracy_figure(histories: dict[float, History], title: str, *, ylim=None,
                           early_stops: dict[float, int | None] | None = None):
    """Validation accuracy against training step, one curve per L2 strength lambda."""
    fig, ax = _figure()
    early_stops = early_stops or {}
    for color, (l2, history) in zip(LAMBDA_COLORS, sorted(histories.items())):
        stop = early_stops.get(l2)
        ending = f"early stop at step {stop}" if stop is not None else "no early stop"
        ax.plot(*history.series("val_accuracy"), color=color, label=f"λ = {l2:g} ({ending})")
    _finish(ax, title, STEP_LABEL, "validation accuracy (fraction correct)", ylim, "lower right")
    return fig


def norm_figure(lambdas, norms, squared, title: str, *, reference: tuple[float, float] | None = None):
    """||w|| and ||w||^2 after training against lambda (log x), one above the other; reference: lambda 0's pair."""
    fig, axes = _figure(7.5, 8.0, nrows=2)
    for ax, values, symbol, name, index in ((axes[0], norms, "‖w‖", "L2 norm", 0),
                                            (axes[1], squared, "‖w‖²", "squared L2 norm", 1)):
        ax.plot(lambdas, values, "o-", color="tab:purple", label=f"{symbol}, {name} after training")
        if reference is not None:
            ax.axhline(reference[index], color="0.4", linestyle="--",
                       label=f"λ = 0 for comparison: {symbol} = {reference[index]:.4f}")
        ax.set_xscale("log")
        ax.set_ylim(bottom=0)
        _finish(ax, f"{symbol} ({name}) against λ", "L2 strength λ (log scale)",
                f"{symbol} (unitless; all weights incl. bias)", None, "lower left")
    fig.suptitle(title)
    return fig
