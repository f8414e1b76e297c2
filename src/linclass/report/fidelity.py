"""This reproduction against the original report: the numbers it states, the spread of each shuffled
experiment over seeds, and where each run would have stopped under either early-stopping rules."""

from __future__ import annotations

import numpy as np

from ..training import History
from .finish import Result
from .plan import RULES

# Every number the original course report states (steps and epochs counted from 0, as here):
# (task, experiment, setting, {quantity: value}). Task 4c's runs were shuffled.
ORIGINAL_REPORT = (
    ("2d", "task2_logistic_no_shuffle", "early stopping, no shuffling", {"epoch": 33}),
    ("2d", "task2_logistic_shuffle", "early stopping, shuffling", {"epoch": 18}),
    ("4c", "task4_softmax_lambda_0.001", "early stopping, λ = 0.001", {"step": 7719, "epoch": 49}),
    ("4c", "task4_softmax_lambda_0.01", "early stopping, λ = 0.01", {"step": 7006, "epoch": 44}),
    ("4c", "task4_softmax_lambda_0.1", "early stopping, λ = 0.1", {"step": 1891, "epoch": 12}),
    ("4c", "task4_softmax_lambda_1", "early stopping, λ = 1", {"step": 279, "epoch": 1}),
)


def simulate_stop(history: History, patience: int, baseline: float | None, steps_per_epoch: int) -> dict | None:
    """Where early stopping with this patience and baseline stops on the recorded validation losses:
    {"step", "epoch"}, or None when it would not stop within the history (EarlyStopping's rule)."""
    best, wait = np.inf if baseline is None else baseline, 0
    for step, loss in zip(*history.series("val_loss")):
        if loss < best:
            best, wait = loss, 0
        else:
            wait += 1
            if wait >= patience:
                return {"step": int(step), "epoch": int(step) // steps_per_epoch}
    return None


def ending(result: Result) -> dict:
    """Where a run ended: the stop (or its last step when early stopping did not fire), and its kept weights."""
    run = result.summary
    stop = run["early_stop"]
    last = run["steps"] - 1
    kept = run["best"] if run["config"]["restore_best_weights"] and run["best"] else run["final_weights"]
    return {"seed": run["config"]["seed"], "fired": stop is not None,
            "step": stop["step"] if stop else last, "epoch": stop["epoch"] if stop else last // run["steps_per_epoch"],
            "kept_val_accuracy": kept["val_accuracy"]}


def _range(values: list) -> dict:
    ordered = sorted(values)
    return {"min": ordered[0], "median": ordered[(len(ordered) - 1) // 2], "max": ordered[-1]}


def seed_spread(results: dict[str, Result]) -> dict:
    """{experiment: spread over its seeds} for every shuffled experiment: min, lower median (a real run's
    value) and max of the step and epoch where training ended, and of the kept weights' validation accuracy."""
    members: dict[str, list[Result]] = {}
    for name, result in results.items():
        if result.experiment.spread_of is None and result.experiment.config.shuffle:
            members.setdefault(name, []).insert(0, result)
        elif result.experiment.spread_of is not None:
            members.setdefault(result.experiment.spread_of, []).append(result)
    spread = {}
    for name, group in members.items():
        runs = [ending(result) for result in group]
        spread[name] = {"n_seeds": len(runs), "seeds": [run["seed"] for run in runs], "runs": runs,
                        "fired": sum(run["fired"] for run in runs),
                        **{key: _range([run[key] for run in runs]) for key in ("step", "epoch", "kept_val_accuracy")}}
    return spread


def against_original(results: dict[str, Result], spread: dict, rules: str) -> list[dict]:
    """One record per number of the original report whose run was made: the original's value, this
    run's, the spread over seeds, and where this run would stop under each rules (measured on its history)."""
    rows = []
    for task, name, setting, original in ORIGINAL_REPORT:
        if name not in results:
            continue
        result = results[name]
        config, run = result.experiment.config, result.summary
        stops = {rule: simulate_stop(result.history, config.patience, values["early_stopping_baseline"],
                                     run["steps_per_epoch"]) for rule, values in RULES.items()}
        this = ending(result)
        entry = spread.get(name)
        inside = None if entry is None or entry["n_seeds"] < 2 else all(
            entry[key]["min"] <= value <= entry[key]["max"] for key, value in original.items())
        rows.append({"task": task, "experiment": name, "setting": setting, "shuffled": config.shuffle,
                     "original": original, "this_run": {key: this[key] for key in ("step", "epoch", "fired")},
                     "matches": all(this[key] == value for key, value in original.items()),
                     "spread": None if entry is None else {key: entry[key] for key in ("n_seeds", "fired", "step",
                                                                                         "epoch")},
                     "inside_spread": inside, "rules": rules, "stop_under_rules": stops,
                     "lowest_val_loss": float(result.history.series("val_loss")[1].min()),
                     "patience": config.patience, "seed": config.seed})
    return rows
