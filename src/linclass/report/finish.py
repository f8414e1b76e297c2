"""A trained experiment's run folder: written when its lock-step group ends (finished, or diverged and
dropped from a sweep's group), and read back when --resume finds it, as a Result either way."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import LinclassError
from ..preprocess import Split
from ..runs import (held_out_metrics, load_diverged_run, load_run, run_state, save_diverged_run, save_run,
                    summarize)
from ..training import History
from .plan import Experiment


@dataclass
class Result:
    """What a finished experiment hands back: its RUN record, history and final (restored) weights.

    A run whose training diverged (sweeps only) has summary["diverged"] (training.Divergence's record),
    the steps it took, and no weights (None)."""

    experiment: Experiment
    summary: dict
    history: History
    weights: np.ndarray | None
    wall_seconds: float
    group: tuple[str, ...] = ()  # the experiments trained in lock-step with it, itself included

    @property
    def diverged(self) -> bool:
        return "diverged" in self.summary


def confusion(model, X: np.ndarray, y: np.ndarray, n_classes: int) -> list[list[int]]:
    """(K, K) counts of the model's predictions on X: row = true class, column = predicted class."""
    counts = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(counts, (y, model.predict(X)), 1)
    return counts.tolist()


def _common(experiment: Experiment, split: Split) -> dict:
    return {"run_dir": f"runs/{experiment.name}", "n_train_images": len(split.y_train),
            "n_val_images": len(split.y_val), "steps_per_epoch": len(split.y_train) // experiment.config.batch_size}


def finish(experiment: Experiment, model, split: Split, runs_dir: Path, group: list[Experiment]) -> Result:
    """Write the run folder runs_dir/<name>/ of a model that finished training; its Result."""
    if model.diverged_ is not None:
        return _finish_diverged(experiment, model, split, runs_dir, group)
    steps_per_epoch = len(split.y_train) // experiment.config.batch_size
    validation_steps, _ = model.history_.series("val_loss")
    _, batch_losses = model.history_.series("train_loss_per_step")
    last_epoch = batch_losses[-steps_per_epoch:]
    summary = summarize(model)
    summary.update({
        **_common(experiment, split),
        "validate_every": int(np.min(np.diff(validation_steps))) if len(validation_steps) > 1 else None,
        "last_validation_step": int(validation_steps[-1]) if len(validation_steps) else None,
        "last_epoch_batch_loss": {"mean": float(last_epoch.mean()), "std": float(last_epoch.std())},
        "config": experiment.config.to_json(),
    })
    if experiment.config.model == "softmax":
        summary["val_confusion"] = confusion(model, split.X_val, split.y_val, split.n_classes)
    test = held_out_metrics(model, split)  # the only use of the test set, after training
    if test is not None:
        summary["test"] = test
    folder = Path(runs_dir) / experiment.name
    folder.mkdir(parents=True, exist_ok=True)
    save_run(folder, experiment.config, model,
             {**summary, "wall_seconds": model.wall_seconds_, "lock_step_group": [e.name for e in group]})
    return Result(experiment, summary, model.history_, model.weights_, model.wall_seconds_,
                  tuple(e.name for e in group))


def _finish_diverged(experiment: Experiment, model, split: Split, runs_dir: Path, group: list[Experiment]) -> Result:
    """The folder of a run dropped from its group when a step diverged: its history up to that step and
    where and why (metrics.json); no weights and no metrics, none being worth using."""
    summary = {"diverged": model.diverged_.to_json(), "steps": model.n_steps_, **_common(experiment, split),
               "config": experiment.config.to_json()}
    folder = Path(runs_dir) / experiment.name
    folder.mkdir(parents=True, exist_ok=True)
    save_diverged_run(folder, experiment.config, model.history_,
                      {**summary, "wall_seconds": model.wall_seconds_, "lock_step_group": [e.name for e in group]})
    return Result(experiment, summary, model.history_, None, model.wall_seconds_, tuple(e.name for e in group))


def load_finished(runs_dir: Path, experiments: list[Experiment]) -> dict[str, Result]:
    """The experiments whose run folders under runs_dir are complete (or diverged), with their results."""
    finished = {}
    for experiment in experiments:
        folder = Path(runs_dir) / experiment.name
        state = run_state(folder)
        if state == "complete":
            config, model, metrics = load_run(folder, reproduction=True)
            history, weights = model.history_, model.weights_
        elif state == "diverged":
            config, history, metrics = load_diverged_run(folder)
            weights = None
        else:
            continue
        if config != experiment.config:
            raise LinclassError(f"{folder} was trained with other settings; start again without --resume.")
        wall_seconds = metrics.pop("wall_seconds")
        metrics["config"] = config.to_json()  # a run folder from before the renaming holds the old names
        finished[experiment.name] = Result(experiment, metrics, history, weights, wall_seconds,
                                           tuple(metrics.pop("lock_step_group", (experiment.name,))))
    return finished
