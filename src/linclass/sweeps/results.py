"""A sweep's results: one row per run, one cell per (learning rate, λ) over the seeds, and the best cell.

Every metric is that of the kept weights: the best validation loss's under early stopping (restoring
the best weights, the default), else the weights after the last step. Test metrics exist only under a
protocol that holds a test set out (their run folders have a "test" block); elsewhere they are empty.
A run whose training diverged has the step in "diverged" and no metrics (null, an empty CSV cell); a
cell with a diverged seed has no means and is never the best.
"""

from __future__ import annotations

import math

from .._io import write_csv, write_json
from ..errors import LinclassError
from .grid import Grid

COLUMNS = ("name", "learning_rate", "l2_strength", "seed", "steps", "diverged", "stop_step", "stop_epoch", "best_step",
           "val_loss", "val_accuracy", "train_loss", "train_accuracy", "test_loss", "test_accuracy",
           "weight_norm", "run_dir")


def run_row(result) -> dict:
    """The row of one finished or diverged run (a report.finish.Result)."""
    config, summary = result.experiment.config, result.summary
    settings = {"name": result.experiment.name, "learning_rate": config.learning_rate,
                "l2_strength": config.l2_strength, "seed": config.seed, "steps": summary["steps"]}
    if result.diverged:
        return {**dict.fromkeys(COLUMNS), **settings, "diverged": summary["diverged"]["step"],
                "run_dir": f"runs/{result.experiment.name}"}
    # Early stopping restores the best weights only when some validation beat its baseline.
    restored = config.patience is not None and config.restore_best_weights and summary["best"] is not None
    kept = summary["best"] if restored else summary["final_weights"]
    kept, stop, test = kept or {}, summary["early_stop"] or {}, summary.get("test") or {}
    return {**settings, "diverged": None, "stop_step": stop.get("step"), "stop_epoch": stop.get("epoch"),
            "best_step": summary["best_step"],
            "val_loss": kept.get("val_loss"), "val_accuracy": kept.get("val_accuracy"),
            "train_loss": kept.get("train_loss"), "train_accuracy": kept.get("train_accuracy"),
            "test_loss": test.get("test_loss"), "test_accuracy": test.get("test_accuracy"),
            "weight_norm": summary["weight_norm"], "run_dir": f"runs/{result.experiment.name}"}


def _mean(values: list) -> float | None:
    return None if not values or any(v is None for v in values) else math.fsum(values) / len(values)


def cells(rows: list[dict], grid: Grid) -> list[dict]:
    """One cell per (learning rate, λ), learning rate slowest: means over the seeds, and the spread
    (max - min) of the validation accuracy; all None when a seed diverged ("diverged" counts them)."""
    found = []
    for rate in grid.learning_rates:
        for strength in grid.l2_strengths:
            runs = [r for r in rows if r["learning_rate"] == rate and r["l2_strength"] == strength]
            diverged = sum(r["diverged"] is not None for r in runs)
            accuracies = [r["val_accuracy"] for r in runs]
            low, high = (None, None) if diverged else (min(accuracies), max(accuracies))
            found.append({
                "learning_rate": rate, "l2_strength": strength, "seeds": [r["seed"] for r in runs],
                "diverged": diverged, "val_accuracy_mean": _mean(accuracies),
                "val_accuracy_min": low, "val_accuracy_max": high,
                "val_accuracy_spread": None if diverged else high - low,
                "val_loss_mean": _mean([r["val_loss"] for r in runs]),
                "test_accuracy_mean": _mean([r["test_accuracy"] for r in runs]),
                "test_loss_mean": _mean([r["test_loss"] for r in runs]),
                "steps_mean": _mean([r["steps"] for r in runs]),
                "stopped_early": sum(r["stop_step"] is not None for r in runs),
                # seeds whose validation loss never fell below its first value: the kept weights are step 0's
                "no_progress": sum(r["diverged"] is None and r["best_step"] == 0 for r in runs),
                "runs": [r["name"] for r in runs]})
    return found


class EveryCellDiverged(LinclassError):
    """No (learning rate, λ) of the sweep trained without diverging: there is no best cell to report."""


def best_cell(found: list[dict]) -> dict | None:
    """The cell with the highest mean validation accuracy (ties: the lower mean validation loss), among
    those where no seed diverged; None when every cell had a diverged seed."""
    trained = [cell for cell in found if not cell["diverged"]]
    if not trained:
        return None
    return max(trained, key=lambda cell: (cell["val_accuracy_mean"], -cell["val_loss_mean"]))


def divergences(results: dict) -> list[dict]:
    """Where and why each diverged run diverged, with its settings (sweep.json's "diverged")."""
    return [{"name": result.experiment.name, "learning_rate": result.experiment.config.learning_rate,
             "l2_strength": result.experiment.config.l2_strength, "seed": result.experiment.config.seed,
             **result.summary["diverged"]} for result in results.values() if result.diverged]


def every_cell_diverged(diverged: list[dict], n_runs: int) -> str:
    """The one-line error when no (learning rate, λ) trained without diverging: how many runs diverged,
    and the reason of the one with the smallest settings."""
    first = min(diverged, key=lambda d: (d["learning_rate"], d["l2_strength"], d["seed"]))
    return (f"every (learning rate, λ) cell of the sweep diverged in training ({len(diverged)} of {n_runs} runs), so "
            f"there is no best to report; with the smallest settings (lr {first['learning_rate']:g}, "
            f"λ {first['l2_strength']:g}, seed {first['seed']}) {first['message']}")


def build_summary(results: dict, grid: Grid, settings: dict, *, figures: list[str], jobs: int,
                  groups: list[list[str]], wall_seconds: float) -> dict:
    """sweep.json: the settings, every run's row, the cells, the best cell, the diverged runs, the figures
    and the groups. EveryCellDiverged when every cell diverged."""
    rows = [run_row(result) for result in results.values()]
    found, diverged = cells(rows, grid), divergences(results)
    best = best_cell(found)
    if best is None:
        raise EveryCellDiverged(every_cell_diverged(diverged, len(rows)))
    first = next(result.summary for result in results.values() if not result.diverged)
    return {"settings": settings, "n_train_images": first.get("n_train_images"),
            "n_val_images": first.get("n_val_images"),
            "n_test_images": (first.get("test") or {}).get("n_test_images"),
            "columns": list(COLUMNS), "runs": rows, "cells": found, "best": best, "diverged": diverged,
            "figures": figures, "lock_step_groups": groups, "jobs": jobs, "wall_seconds": wall_seconds}


def write_tables(folder, summary: dict) -> None:
    """sweep.json (everything) and sweep.csv (the rows)."""
    write_json(folder / "sweep.json", summary)
    write_csv(folder / "sweep.csv", list(COLUMNS), summary["runs"])
