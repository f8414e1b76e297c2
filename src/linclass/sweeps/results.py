"""A sweep's results: one row per run, one cell per (learning rate, λ) over the seeds, and the best cell.

Every metric is that of the kept weights: the best validation loss's under early stopping (restoring
the best weights, the default), else the weights after the last step. Test metrics exist only under a protocol that holds a test set out
(their run folders have a "test" block); elsewhere they are empty.
"""

from __future__ import annotations

import math

from .._io import write_csv, write_json
from .grid import Grid

COLUMNS = ("name", "learning_rate", "l2_strength", "seed", "steps", "stop_step", "stop_epoch", "best_step",
           "val_loss", "val_accuracy", "train_loss", "train_accuracy", "test_loss", "test_accuracy",
           "weight_norm", "run_dir")


def run_row(result) -> dict:
    """The row of one finished run (a report.execute.Result)."""
    config, summary = result.experiment.config, result.summary
    restored = config.patience is not None and config.restore_best_weights
    kept = summary["best"] if restored else summary["final_weights"]
    kept, stop, test = kept or {}, summary["early_stop"] or {}, summary.get("test") or {}
    return {"name": result.experiment.name, "learning_rate": config.learning_rate,
            "l2_strength": config.l2_strength, "seed": config.seed, "steps": summary["steps"],
            "stop_step": stop.get("step"), "stop_epoch": stop.get("epoch"), "best_step": summary["best_step"],
            "val_loss": kept.get("val_loss"), "val_accuracy": kept.get("val_accuracy"),
            "train_loss": kept.get("train_loss"), "train_accuracy": kept.get("train_accuracy"),
            "test_loss": test.get("test_loss"), "test_accuracy": test.get("test_accuracy"),
            "weight_norm": summary["weight_norm"], "run_dir": f"runs/{result.experiment.name}"}


def _mean(values: list) -> float | None:
    return None if not values or any(v is None for v in values) else math.fsum(values) / len(values)


def cells(rows: list[dict], grid: Grid) -> list[dict]:
    """One cell per (learning rate, λ), learning rate slowest: means over the seeds, and the spread
    (max - min) of the validation accuracy."""
    found = []
    for rate in grid.learning_rates:
        for strength in grid.l2_strengths:
            runs = [r for r in rows if r["learning_rate"] == rate and r["l2_strength"] == strength]
            accuracies = [r["val_accuracy"] for r in runs]
            found.append({
                "learning_rate": rate, "l2_strength": strength, "seeds": [r["seed"] for r in runs],
                "val_accuracy_mean": _mean(accuracies),
                "val_accuracy_min": min(accuracies), "val_accuracy_max": max(accuracies),
                "val_accuracy_spread": max(accuracies) - min(accuracies),
                "val_loss_mean": _mean([r["val_loss"] for r in runs]),
                "test_accuracy_mean": _mean([r["test_accuracy"] for r in runs]),
                "test_loss_mean": _mean([r["test_loss"] for r in runs]),
                "steps_mean": _mean([r["steps"] for r in runs]),
                "stopped_early": sum(r["stop_step"] is not None for r in runs),
                "runs": [r["name"] for r in runs]})
    return found


def best_cell(found: list[dict]) -> dict:
    """The cell with the highest mean validation accuracy (ties: the lower mean validation loss)."""
    return max(found, key=lambda cell: (cell["val_accuracy_mean"], -cell["val_loss_mean"]))


def build_summary(results: dict, grid: Grid, settings: dict, *, figures: list[str], jobs: int,
                  groups: list[list[str]], wall_seconds: float) -> dict:
    """sweep.json: the settings, every run's row, the cells, the best cell, the figures and the groups."""
    rows = [run_row(result) for result in results.values()]
    found = cells(rows, grid)
    first = next(iter(results.values())).summary
    return {"settings": settings, "n_train_images": first.get("n_train_images"),
            "n_val_images": first.get("n_val_images"),
            "n_test_images": (first.get("test") or {}).get("n_test_images"),
            "columns": list(COLUMNS), "runs": rows, "cells": found, "best": best_cell(found), "figures": figures,
            "lock_step_groups": groups, "jobs": jobs, "wall_seconds": wall_seconds}


def write_tables(folder, summary: dict) -> None:
    """sweep.json (everything) and sweep.csv (the rows)."""
    write_json(folder / "sweep.json", summary)
    write_csv(folder / "sweep.csv", list(COLUMNS), summary["runs"])
